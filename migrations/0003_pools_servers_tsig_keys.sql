-- Pools of secondary name servers, their servers and TSIG keys.
--
-- A pool is what a zone is published by: its NS names go to each member zone's apex and its
-- SOA MNAME/RNAME into each member's SOA. The servers are the secondaries zonectl notifies and
-- lets transfer the pool's zones.

-- Secrets are kept as given: the service must sign with them, so they cannot be hashed. The API
-- returns a secret only in the response that created the key.
CREATE TABLE tsig_keys (
    -- a domain name, canonical: lower case, trailing dot
    name        text        PRIMARY KEY CHECK (name ~ '\.$'),
    algorithm   text        NOT NULL CHECK (algorithm IN ('hmac-sha256', 'hmac-sha512')),
    secret      bytea       NOT NULL CHECK (length(secret) BETWEEN 16 AND 128),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pools (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    nameservers  text[]      NOT NULL CHECK (cardinality(nameservers) BETWEEN 1 AND 20),
    ns_ttl       integer     NOT NULL DEFAULT 86400 CHECK (ns_ttl BETWEEN 0 AND 2147483647),
    soa_mname    text        NOT NULL,
    soa_rname    text        NOT NULL,
    -- RFC 9432 catalog zone of the pool (NULL: none)
    catalog_zone text        UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pool_servers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pool_id     bigint      NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    address     inet        NOT NULL CHECK (masklen(address) = CASE family(address) WHEN 4 THEN 32 ELSE 128 END),
    port        integer     NOT NULL DEFAULT 53 CHECK (port BETWEEN 1 AND 65535),
    -- a key in use cannot be deleted
    tsig_key    text        REFERENCES tsig_keys (name) ON DELETE RESTRICT,
    description text        NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (pool_id, address, port)
);

-- A zone's pool; NULL for zones made before pools existed or without one configured (their SOA
-- and NS come from the service's defaults). A pool with zones cannot be deleted.
ALTER TABLE zones ADD COLUMN pool_id bigint REFERENCES pools (id) ON DELETE RESTRICT;
CREATE INDEX zones_pool_idx ON zones (pool_id);
