#ifndef ZONECTL_CMICROHTTPD_SHIM_H
#define ZONECTL_CMICROHTTPD_SHIM_H
// libmicrohttpd through a shim: Swift cannot call C variadic functions, so the few variadic
// entry points we need get non-variadic static inline wrappers here.
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Leaves the path and query arguments exactly as the client sent them (MHD still turns '+'
/// into ' ' in query arguments). The Swift side splits the raw path into segments before
/// percent-decoding, so an encoded "%2F" inside a segment does not become a separator.
static inline size_t zonectl_mhd_keep_escaped(void *cls, struct MHD_Connection *connection, char *s) {
    (void) cls;
    (void) connection;
    return strlen(s);
}

/// Starts a daemon on an already listening socket (the Swift side creates it so that bind
/// errors come back with errno). `threads` <= 1 means one internal polling thread, no pool.
static inline struct MHD_Daemon *zonectl_mhd_start(unsigned int flags,
                                                   int listen_fd,
                                                   unsigned int threads,
                                                   unsigned int timeout_seconds,
                                                   unsigned int connection_limit,
                                                   unsigned int per_ip_connection_limit,
                                                   MHD_AccessHandlerCallback handler,
                                                   void *handler_cls,
                                                   MHD_RequestCompletedCallback completed,
                                                   void *completed_cls) {
    struct MHD_OptionItem options[] = {
        { MHD_OPTION_LISTEN_SOCKET, (intptr_t) listen_fd, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t) timeout_seconds, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, (intptr_t) connection_limit, NULL },
        { MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t) per_ip_connection_limit, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) completed, completed_cls },
        { MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) &zonectl_mhd_keep_escaped, NULL },
        // Last on purpose: without a pool this entry ends the list.
        { threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t) threads, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// The peer address of a connection, or NULL.
static inline const struct sockaddr *zonectl_mhd_client_address(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? NULL : info->client_addr;
}

/// MHD_SIZE_UNKNOWN is a macro Swift does not import.
static inline uint64_t zonectl_mhd_size_unknown(void) { return MHD_SIZE_UNKNOWN; }

#endif
