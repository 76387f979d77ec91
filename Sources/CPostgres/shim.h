#ifndef ZONECTL_CPOSTGRES_SHIM_H
#define ZONECTL_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
