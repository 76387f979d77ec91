#ifndef ZONECTL_CPOSTGRES_SHIM_H
#define ZONECTL_CPOSTGRES_SHIM_H
#include <libpq-fe.h>

// The PG_DIAG_* field codes are character-literal macros, which Swift does not import.
enum {
    ZONECTL_PG_DIAG_SEVERITY = PG_DIAG_SEVERITY,
    ZONECTL_PG_DIAG_SQLSTATE = PG_DIAG_SQLSTATE,
    ZONECTL_PG_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY,
    ZONECTL_PG_DIAG_MESSAGE_DETAIL = PG_DIAG_MESSAGE_DETAIL,
    ZONECTL_PG_DIAG_MESSAGE_HINT = PG_DIAG_MESSAGE_HINT,
    ZONECTL_PG_DIAG_TABLE_NAME = PG_DIAG_TABLE_NAME,
    ZONECTL_PG_DIAG_COLUMN_NAME = PG_DIAG_COLUMN_NAME,
    ZONECTL_PG_DIAG_CONSTRAINT_NAME = PG_DIAG_CONSTRAINT_NAME,
};

static void zonectl_pq_ignore_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

// libpq prints NOTICE/WARNING messages (e.g. "relation already exists, skipping") to stderr by
// default; a server process should not, so connections drop them. A C function pointer, because a
// Swift closure here would need a context it does not have.
static inline void zonectl_pq_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, zonectl_pq_ignore_notice, NULL);
}

#endif
