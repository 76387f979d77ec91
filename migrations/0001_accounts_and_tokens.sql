-- Customer accounts and API tokens.
-- Quotas live on the account so an operator can sell tiers without code changes.
CREATE TABLE accounts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    max_zones            integer     NOT NULL DEFAULT 100   CHECK (max_zones >= 0),
    max_records_per_zone integer     NOT NULL DEFAULT 10000 CHECK (max_records_per_zone >= 0),
    min_ttl              integer     NOT NULL DEFAULT 60    CHECK (min_ttl >= 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- A token is presented as "zct_<public_id>_<secret>". Only SHA-256(secret) is stored: the secret
-- is 256 random bits, so a fast hash is enough, and a leaked table grants nothing.
-- The public id finds the row; the hash is then compared in constant time by the service.
CREATE TABLE api_tokens (
    id           text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    secret_hash  bytea       NOT NULL CHECK (length(secret_hash) = 32),
    role         text        NOT NULL CHECK (role IN ('operator', 'account')),
    account_id   bigint      REFERENCES accounts (id) ON DELETE CASCADE,
    read_only    boolean     NOT NULL DEFAULT false,
    -- zone names the token is limited to; NULL means every zone of its account
    zones        text[],
    description  text        NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'operator') = (account_id IS NULL))
);

CREATE INDEX api_tokens_account_idx ON api_tokens (account_id);
