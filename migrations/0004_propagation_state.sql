-- What each secondary is owed, durably: one row per zone × server of the zone's pool.
--
-- Every serial a zone commits is owed to every server of its pool: a NOTIFY until the server
-- acknowledges it, then SOA checks until the server answers that serial. The rows are kept by
-- triggers in the same transaction as the change, so a change acknowledged over HTTP is owed to
-- the secondaries even if the process dies before sending anything. Workers (in any number of
-- zonectl processes) claim due rows with FOR UPDATE SKIP LOCKED and push next_attempt forward
-- as a lease while the NOTIFY is in flight.
CREATE TABLE propagation_state (
    zone_id           bigint      NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    server_id         bigint      NOT NULL REFERENCES pool_servers (id) ON DELETE CASCADE,
    -- the zone's serial the server should have
    target_serial     bigint      NOT NULL CHECK (target_serial BETWEEN 0 AND 4294967295),
    -- the last serial whose NOTIFY the server acknowledged (NULL: none yet, or owed again)
    notified_serial   bigint      CHECK (notified_serial BETWEEN 0 AND 4294967295),
    -- the serial the server answered to zonectl's last SOA query (NULL: never answered)
    seen_serial       bigint      CHECK (seen_serial BETWEEN 0 AND 4294967295),
    -- failed NOTIFYs (or SOA checks) in a row; reset by a new serial and by success
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt      timestamptz NOT NULL DEFAULT now(),
    last_notify_sent  timestamptz,
    last_notify_acked timestamptz,
    last_checked      timestamptz,
    last_error        text,
    PRIMARY KEY (zone_id, server_id)
);

CREATE INDEX propagation_state_due_idx ON propagation_state (next_attempt);
CREATE INDEX propagation_state_server_idx ON propagation_state (server_id);

-- A committed change (a journal entry) is owed to every server of the zone's pool, at once.
CREATE FUNCTION propagation_owe_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO propagation_state (zone_id, server_id, target_serial)
    SELECT NEW.zone_id, s.id, NEW.serial_to
    FROM zones z JOIN pool_servers s ON s.pool_id = z.pool_id
    WHERE z.id = NEW.zone_id
    ON CONFLICT (zone_id, server_id) DO UPDATE
        SET target_serial = EXCLUDED.target_serial, notified_serial = NULL, attempts = 0, next_attempt = now();
    RETURN NULL;
END $$;

CREATE TRIGGER zone_changes_owe_propagation AFTER INSERT ON zone_changes
    FOR EACH ROW EXECUTE FUNCTION propagation_owe_change();

-- A server added to a pool is owed every member zone; a server whose address, port or key
-- changed is owed everything again (it may be another machine now).
CREATE FUNCTION propagation_owe_server() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.address, NEW.port, NEW.tsig_key) IS NOT DISTINCT FROM (OLD.address, OLD.port, OLD.tsig_key) THEN
            RETURN NULL;
        END IF;
        DELETE FROM propagation_state WHERE server_id = NEW.id;
    END IF;
    INSERT INTO propagation_state (zone_id, server_id, target_serial)
    SELECT z.id, NEW.id, z.serial FROM zones z WHERE z.pool_id = NEW.pool_id;
    -- wakes the NOTIFY workers, as a change's journal entry does
    PERFORM pg_notify('zone_changed', 'server ' || NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER pool_servers_owe_propagation AFTER INSERT OR UPDATE ON pool_servers
    FOR EACH ROW EXECUTE FUNCTION propagation_owe_server();

-- Zones that existed before this migration are owed their current serial.
INSERT INTO propagation_state (zone_id, server_id, target_serial)
SELECT z.id, s.id, z.serial FROM zones z JOIN pool_servers s ON s.pool_id = z.pool_id;
