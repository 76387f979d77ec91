-- Batched changes (one statement writing many journal entries), a write sent together with its
-- COMMIT, and workers woken only when they have work.
--
-- The COMMIT goes out with the write in one round trip, so whatever the write checks must fail
-- the statement itself: the application cannot look at the result first. zonectl_require is the
-- way a plain SQL statement refuses.
CREATE FUNCTION zonectl_require(ok boolean, message text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION USING MESSAGE = message, ERRCODE = 'internal_error';
    END IF;
    RETURN true;
END $$;

-- Once per statement rather than once per journal entry: a batch writes many entries of a few
-- zones, and each zone is owed only its newest serial. Same effect as the row triggers of 0004
-- and 0006, which these replace.
--
-- They also wake the workers, on channels of their own and only when they owed something:
-- NOTIFY workers on propagation_due, zone file writers on zone_file_due. Waking them on every
-- zone_changed made a process with no secondaries spend a third of its CPU time per change
-- looking for work that was not there (bench/api, perf). zone_changed stays, for other
-- listeners: one per change, "zone_id serial".
CREATE FUNCTION propagation_owe_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO propagation_state AS p (zone_id, server_id, target_serial)
    SELECT n.zone_id, s.id, n.serial_to
    FROM (SELECT DISTINCT ON (zone_id) zone_id, serial_to FROM added_changes ORDER BY zone_id, id DESC) n
         JOIN zones z ON z.id = n.zone_id
         JOIN pool_servers s ON s.pool_id = z.pool_id
    WHERE z.kind = 'primary' OR s.catalog
    ON CONFLICT (zone_id, server_id) DO UPDATE
        SET target_serial = EXCLUDED.target_serial, notified_serial = NULL, attempts = 0,
            next_attempt = LEAST(p.next_attempt, now());
    IF FOUND THEN
        PERFORM pg_notify('propagation_due', '');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION zone_file_owe_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM zone_files_enabled) THEN
        INSERT INTO zone_file_state AS f (zone_id, target_serial)
        SELECT n.zone_id, n.serial_to
        FROM (SELECT DISTINCT ON (zone_id) zone_id, serial_to FROM added_changes ORDER BY zone_id, id DESC) n
             JOIN zones z ON z.id = n.zone_id AND z.kind = 'primary'
        ON CONFLICT (zone_id) DO UPDATE
            SET target_serial = EXCLUDED.target_serial, attempts = 0,
                next_attempt = CASE WHEN f.written_serial IS NOT DISTINCT FROM f.target_serial
                                    THEN now() ELSE LEAST(f.next_attempt, now()) END;
        IF FOUND THEN
            PERFORM pg_notify('zone_file_due', '');
        END IF;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER zone_changes_owe_propagation ON zone_changes;
DROP TRIGGER zone_changes_owe_zone_file ON zone_changes;
DROP FUNCTION propagation_owe_change();
DROP FUNCTION zone_file_owe_change();

CREATE TRIGGER zone_changes_owe_propagation AFTER INSERT ON zone_changes
    REFERENCING NEW TABLE AS added_changes
    FOR EACH STATEMENT EXECUTE FUNCTION propagation_owe_changes();
CREATE TRIGGER zone_changes_owe_zone_file AFTER INSERT ON zone_changes
    REFERENCING NEW TABLE AS added_changes
    FOR EACH STATEMENT EXECUTE FUNCTION zone_file_owe_changes();

-- The other places that owe work wake on the new channels too.
CREATE OR REPLACE FUNCTION propagation_owe_server() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.address, NEW.port, NEW.tsig_key, NEW.catalog) IS NOT DISTINCT FROM (OLD.address, OLD.port, OLD.tsig_key, OLD.catalog) THEN
            RETURN NULL;
        END IF;
        DELETE FROM propagation_state WHERE server_id = NEW.id;
    END IF;
    INSERT INTO propagation_state (zone_id, server_id, target_serial)
    SELECT z.id, NEW.id, z.serial FROM zones z WHERE z.pool_id = NEW.pool_id AND (z.kind = 'primary' OR NEW.catalog);
    PERFORM pg_notify('propagation_due', '');
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION zone_file_follow_zones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.kind = 'primary' AND EXISTS (SELECT 1 FROM zone_files_enabled) THEN
        INSERT INTO zone_file_removals (name) VALUES (OLD.name)
        ON CONFLICT (name) DO UPDATE SET next_attempt = now(), attempts = 0;
        PERFORM pg_notify('zone_file_due', '');
    ELSIF TG_OP = 'INSERT' THEN
        -- created again before its old file went: the new zone's file replaces it
        DELETE FROM zone_file_removals WHERE name = NEW.name;
    END IF;
    RETURN NULL;
END $$;
