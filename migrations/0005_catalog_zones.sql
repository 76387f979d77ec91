-- Catalog zones (RFC 9432, version 2): one per pool, so a secondary configured once with the
-- catalog picks up every zone of the pool and drops deleted ones without any per-zone setup.
--
-- A catalog is a row in `zones` of kind 'catalog' (no account; its pool is the pool it lists),
-- so serials, the journal, NOTIFY state and the transfer server all work for it as for any zone.
-- Its records are not stored: the transfer server derives them from the pool's zones (one PTR
-- per member, `z<zone id>.zones.<catalog>`; ids are never reused, so a zone deleted and created
-- again gets a new member id, as RFC 9432 §5.1 advises). Every member added or removed is a
-- journal entry of the catalog holding that PTR, which is what IXFR of the catalog is made from.

ALTER TABLE zones ADD COLUMN kind text NOT NULL DEFAULT 'primary' CHECK (kind IN ('primary', 'catalog'));
ALTER TABLE zones ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE zones ADD CONSTRAINT zones_account_unless_catalog CHECK ((kind = 'catalog') = (account_id IS NULL));
CREATE UNIQUE INDEX zones_one_catalog_per_pool ON zones (pool_id) WHERE kind = 'catalog';

-- Servers that do not read catalogs (NSD 4.6) list their zones themselves and are not sent the
-- catalog's NOTIFYs.
ALTER TABLE pool_servers ADD COLUMN catalog boolean NOT NULL DEFAULT true;

-- The next serial of a catalog (RFC 1982: increment, wrapping at 2^32).
CREATE FUNCTION catalog_bump(pool bigint, change_kind text, removed jsonb, added jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    catalog record;
BEGIN
    UPDATE zones SET serial = (serial + 1) % 4294967296, updated_at = now()
    WHERE pool_id = pool AND kind = 'catalog'
    RETURNING id, serial, name INTO catalog;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO zone_changes (zone_id, serial_from, serial_to, kind, removed, added)
    VALUES (catalog.id, (catalog.serial + 4294967295) % 4294967296, catalog.serial, change_kind, removed, added);
    PERFORM pg_notify('zone_changed', catalog.id || ' ' || catalog.serial);
END $$;

-- The member record of a zone in its pool's catalog, as the journal holds records.
CREATE FUNCTION catalog_member_json(pool bigint, zone_id bigint, zone_name text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(jsonb_build_object(
        'name', 'z' || zone_id || '.zones.' || z.name, 'type', 'PTR', 'ttl', 0, 'data', zone_name))
    FROM zones z WHERE z.pool_id = pool AND z.kind = 'catalog'
$$;

CREATE FUNCTION catalog_follow_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.kind = 'primary' AND NEW.pool_id IS NOT NULL THEN
        PERFORM catalog_bump(NEW.pool_id, 'catalog', '[]', catalog_member_json(NEW.pool_id, NEW.id, NEW.name));
    ELSIF TG_OP = 'DELETE' AND OLD.kind = 'primary' AND OLD.pool_id IS NOT NULL THEN
        PERFORM catalog_bump(OLD.pool_id, 'catalog', catalog_member_json(OLD.pool_id, OLD.id, OLD.name), '[]');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER zones_catalog_members AFTER INSERT OR DELETE ON zones
    FOR EACH ROW EXECUTE FUNCTION catalog_follow_members();

-- A pool's catalog zone row follows pools.catalog_zone: created with it, renamed with it (a new
-- serial: to a secondary it is another zone), dropped when it is set to NULL or the pool goes.
CREATE FUNCTION catalog_follow_pool() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    existing record;
    created record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM zones WHERE pool_id = OLD.id AND kind = 'catalog';
        RETURN OLD;
    END IF;
    SELECT id, name INTO existing FROM zones WHERE pool_id = NEW.id AND kind = 'catalog';
    IF NEW.catalog_zone IS NULL THEN
        DELETE FROM zones WHERE pool_id = NEW.id AND kind = 'catalog';
    ELSIF existing IS NULL OR existing.id IS NULL THEN
        INSERT INTO zones (name, kind, account_id, serial, serial_policy, default_ttl, soa_mname, soa_rname,
                           soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl, nameservers, ns_ttl, pool_id)
        VALUES (NEW.catalog_zone, 'catalog', NULL, 1, 'increment', 0, 'invalid.', 'invalid.',
                3600, 600, 2419200, 0, 0, ARRAY['invalid.'], 0, NEW.id)
        RETURNING id, serial INTO created;
        INSERT INTO zone_changes (zone_id, serial_from, serial_to, kind)
        VALUES (created.id, NULL, created.serial, 'create');
    ELSIF existing.name <> NEW.catalog_zone THEN
        UPDATE zones SET name = NEW.catalog_zone WHERE id = existing.id;
        PERFORM catalog_bump(NEW.id, 'settings', '[]', '[]');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER pools_catalog_zone AFTER INSERT OR UPDATE OF catalog_zone ON pools
    FOR EACH ROW EXECUTE FUNCTION catalog_follow_pool();
CREATE TRIGGER pools_catalog_zone_drop BEFORE DELETE ON pools
    FOR EACH ROW EXECUTE FUNCTION catalog_follow_pool();

-- A catalog's changes are owed only to the servers that read catalogs.
CREATE OR REPLACE FUNCTION propagation_owe_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO propagation_state (zone_id, server_id, target_serial)
    SELECT NEW.zone_id, s.id, NEW.serial_to
    FROM zones z JOIN pool_servers s ON s.pool_id = z.pool_id
    WHERE z.id = NEW.zone_id AND (z.kind = 'primary' OR s.catalog)
    ON CONFLICT (zone_id, server_id) DO UPDATE
        SET target_serial = EXCLUDED.target_serial, notified_serial = NULL, attempts = 0, next_attempt = now();
    RETURN NULL;
END $$;

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
    PERFORM pg_notify('zone_changed', 'server ' || NEW.id);
    RETURN NULL;
END $$;

DROP TRIGGER pool_servers_owe_propagation ON pool_servers;
CREATE TRIGGER pool_servers_owe_propagation AFTER INSERT OR UPDATE ON pool_servers
    FOR EACH ROW EXECUTE FUNCTION propagation_owe_server();

-- Every pool gets its catalog; existing pools a default name (the operator may rename it).
UPDATE pools SET catalog_zone = 'pool-' || id || '.catalog.zonectl.invalid.' WHERE catalog_zone IS NULL;
INSERT INTO zones (name, kind, account_id, serial, serial_policy, default_ttl, soa_mname, soa_rname,
                   soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl, nameservers, ns_ttl, pool_id)
SELECT p.catalog_zone, 'catalog', NULL, 1, 'increment', 0, 'invalid.', 'invalid.', 3600, 600, 2419200, 0, 0,
       ARRAY['invalid.'], 0, p.id
FROM pools p WHERE NOT EXISTS (SELECT 1 FROM zones z WHERE z.pool_id = p.id AND z.kind = 'catalog');
INSERT INTO zone_changes (zone_id, serial_from, serial_to, kind)
SELECT z.id, NULL, z.serial, 'create' FROM zones z
WHERE z.kind = 'catalog' AND NOT EXISTS (SELECT 1 FROM zone_changes c WHERE c.zone_id = z.id);
