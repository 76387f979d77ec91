-- Zones, their records and the journal of every change.
--
-- The apex SOA and the apex NS set are owned by the service, not by customers: they live on the
-- zone row (SOA fields, name servers) and are rendered from it, so a customer can never publish a
-- zone without them or with a serial that went backwards.
CREATE TABLE zones (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- canonical absolute name: lower case, A-labels, trailing dot
    name          text        NOT NULL UNIQUE CHECK (name ~ '\.$'),
    -- an account with zones cannot be deleted by accident: its zones go first
    account_id    bigint      NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    -- the SOA serial (an unsigned 32-bit number, RFC 1982 arithmetic in the service)
    serial        bigint      NOT NULL CHECK (serial BETWEEN 0 AND 4294967295),
    serial_policy text        NOT NULL CHECK (serial_policy IN ('increment', 'epoch', 'date')),
    default_ttl   integer     NOT NULL CHECK (default_ttl BETWEEN 0 AND 2147483647),
    soa_mname     text        NOT NULL,
    soa_rname     text        NOT NULL,
    soa_refresh   integer     NOT NULL CHECK (soa_refresh BETWEEN 0 AND 2147483647),
    soa_retry     integer     NOT NULL CHECK (soa_retry BETWEEN 0 AND 2147483647),
    soa_expire    integer     NOT NULL CHECK (soa_expire BETWEEN 0 AND 2147483647),
    soa_minimum   integer     NOT NULL CHECK (soa_minimum BETWEEN 0 AND 2147483647),
    soa_ttl       integer     NOT NULL CHECK (soa_ttl BETWEEN 0 AND 2147483647),
    -- the apex NS set, as canonical absolute names
    nameservers   text[]      NOT NULL CHECK (cardinality(nameservers) >= 1),
    ns_ttl        integer     NOT NULL CHECK (ns_ttl BETWEEN 0 AND 2147483647),
    -- customer records in the zone (SOA and apex NS not counted), kept by the service for quotas
    record_count  integer     NOT NULL DEFAULT 0 CHECK (record_count >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX zones_account_idx ON zones (account_id, name);

-- One row per record. Records of one RRset share owner, type and TTL: the service always writes
-- whole RRsets, so one TTL per RRset (RFC 2181 §5.2) holds by construction.
CREATE TABLE records (
    zone_id    bigint  NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    -- canonical absolute owner name, for display and filters
    owner      text    NOT NULL,
    -- the owner as a byte string whose byte order is DNSSEC canonical order (RFC 4034 §6.1):
    -- labels from the right, each ended by 0x00 0x00 (a 0x00 inside a label is 0x00 0x01),
    -- so ORDER BY owner_key renders a zone in canonical order and descendants of a name are the
    -- keys in [key, key with its last byte raised by one).
    owner_key  bytea   NOT NULL,
    type       integer NOT NULL CHECK (type BETWEEN 1 AND 65535),
    ttl        integer NOT NULL CHECK (ttl BETWEEN 0 AND 2147483647),
    -- canonical uncompressed wire RDATA: the identity of the record
    rdata      bytea   NOT NULL,
    PRIMARY KEY (zone_id, owner_key, type, rdata)
);

-- The journal: one row per committed change, in the same transaction as the change itself.
-- It feeds the change history API and, later, IXFR.
CREATE TABLE zone_changes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    zone_id      bigint      NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    -- NULL for the change that created the zone
    serial_from  bigint      CHECK (serial_from BETWEEN 0 AND 4294967295),
    serial_to    bigint      NOT NULL CHECK (serial_to BETWEEN 0 AND 4294967295),
    changed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- the token that made the change (no foreign key: history outlives revoked tokens)
    token_id     text,
    -- what the change was, in a word: create, rrsets, import, settings
    kind         text        NOT NULL,
    -- [{"name", "type", "ttl", "data"}] in presentation form; SOA not included
    removed      jsonb       NOT NULL DEFAULT '[]',
    added        jsonb       NOT NULL DEFAULT '[]',
    -- one serial is never given to two different contents of one zone
    UNIQUE (zone_id, serial_to)
);

CREATE INDEX zone_changes_zone_idx ON zone_changes (zone_id, id DESC);
