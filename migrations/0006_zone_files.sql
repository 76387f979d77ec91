-- Zone files on disk (`zonectl serve --zone-dir`), owed like NOTIFYs: durably, to whichever
-- zonectl process with a zone directory claims the work first.
--
-- Keeping the rows costs every change a write, so they are kept only once a process with a
-- zone directory has started (it sets `zone_files_enabled` and owes every zone its file then).
CREATE TABLE zone_files_enabled (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    since    timestamptz NOT NULL DEFAULT now()
);
--
-- One row per zone: the newest serial and the serial last written. A burst of changes moves the
-- target but not the time the row became due, so the writer renders the newest state once, a
-- moment after the first change, instead of once per change (and is never starved by a zone
-- that keeps changing). A deleted zone leaves a removal behind, so its file goes too.
CREATE TABLE zone_file_state (
    zone_id        bigint      PRIMARY KEY REFERENCES zones (id) ON DELETE CASCADE,
    target_serial  bigint      NOT NULL CHECK (target_serial BETWEEN 0 AND 4294967295),
    written_serial bigint      CHECK (written_serial BETWEEN 0 AND 4294967295),
    attempts       integer     NOT NULL DEFAULT 0,
    next_attempt   timestamptz NOT NULL DEFAULT now(),
    last_written   timestamptz,
    last_error     text,
    -- the after-write command's last failure (NULL when it succeeded or there is none)
    hook_error     text
);
CREATE INDEX zone_file_state_due_idx ON zone_file_state (next_attempt) WHERE written_serial IS DISTINCT FROM target_serial;

CREATE TABLE zone_file_removals (
    name         text        PRIMARY KEY,
    next_attempt timestamptz NOT NULL DEFAULT now(),
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);

CREATE FUNCTION zone_file_owe_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM zone_files_enabled)
       AND EXISTS (SELECT 1 FROM zones WHERE id = NEW.zone_id AND kind = 'primary') THEN
        INSERT INTO zone_file_state AS f (zone_id, target_serial)
        VALUES (NEW.zone_id, NEW.serial_to)
        ON CONFLICT (zone_id) DO UPDATE
            SET target_serial = EXCLUDED.target_serial, attempts = 0,
                next_attempt = CASE WHEN f.written_serial IS NOT DISTINCT FROM f.target_serial
                                    THEN now() ELSE LEAST(f.next_attempt, now()) END;
    END IF;
    -- No pg_notify here: a transaction that notifies holds PostgreSQL's notify lock through its
    -- commit, which serialises every change. Writers wake on the API's zone_changed, sent
    -- after the commit.
    RETURN NULL;
END $$;

CREATE TRIGGER zone_changes_owe_zone_file AFTER INSERT ON zone_changes
    FOR EACH ROW EXECUTE FUNCTION zone_file_owe_change();

CREATE FUNCTION zone_file_follow_zones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.kind = 'primary' AND EXISTS (SELECT 1 FROM zone_files_enabled) THEN
        INSERT INTO zone_file_removals (name) VALUES (OLD.name)
        ON CONFLICT (name) DO UPDATE SET next_attempt = now(), attempts = 0;
    ELSIF TG_OP = 'INSERT' THEN
        -- created again before its old file went: the new zone's file replaces it
        DELETE FROM zone_file_removals WHERE name = NEW.name;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER zones_zone_file AFTER INSERT OR DELETE ON zones
    FOR EACH ROW EXECUTE FUNCTION zone_file_follow_zones();

-- NOTIFYs the same way: a new serial during a burst keeps the time the pair became due, so a
-- NOTIFY delay coalesces the burst instead of waiting for it to end.
CREATE OR REPLACE FUNCTION propagation_owe_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO propagation_state AS p (zone_id, server_id, target_serial)
    SELECT NEW.zone_id, s.id, NEW.serial_to
    FROM zones z JOIN pool_servers s ON s.pool_id = z.pool_id
    WHERE z.id = NEW.zone_id AND (z.kind = 'primary' OR s.catalog)
    ON CONFLICT (zone_id, server_id) DO UPDATE
        SET target_serial = EXCLUDED.target_serial, notified_serial = NULL, attempts = 0,
            next_attempt = LEAST(p.next_attempt, now());
    RETURN NULL;
END $$;

