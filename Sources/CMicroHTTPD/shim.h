#ifndef ZONECTL_CMICROHTTPD_SHIM_H
#define ZONECTL_CMICROHTTPD_SHIM_H
// libmicrohttpd through a shim: Swift cannot call C variadic functions, so the few variadic
// entry points we need get non-variadic static inline wrappers here.
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

#endif
