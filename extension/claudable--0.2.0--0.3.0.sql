-- claudable 0.2.0 -> 0.3.0: a key that survives failover, locks no tenant can take,
-- deprovisioning no tenant can block, quotas and settings that cannot be bypassed, limits.
-- Kept as it shipped in 0.3.0 (it was built from the sections of claudable.sql then).
\echo Use "ALTER EXTENSION claudable UPDATE TO '0.3.0'" to load this file. \quit

-- ---- keys ----------------------------------------------------------------------------
-- Which keys exist and which one seals new passwords. Fingerprints only
-- (HMAC-SHA-256 of a constant under the key): kept by pg_dump, useless to an attacker,
-- and what tells a restored or promoted server that it holds the right key.
CREATE TABLE claudable.key_ring (
    fingerprint text        PRIMARY KEY,
    state       text        NOT NULL CHECK (state IN ('active', 'retired')),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    retired_at  timestamptz
);
CREATE UNIQUE INDEX key_ring_one_active ON claudable.key_ring ((true)) WHERE state = 'active';
REVOKE ALL ON TABLE claudable.key_ring FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('claudable.key_ring', '');

-- The key itself when claudable.key_file is empty (the default). A table of the metadata
-- database, so it travels with streaming replication, WAL archives and base backups, as
-- PGDATA does; an extension table not registered with pg_extension_config_dump, so
-- pg_dump never writes it. Readable by superusers only, like a key file in PGDATA.
CREATE TABLE claudable.key_material (
    fingerprint text  PRIMARY KEY REFERENCES claudable.key_ring (fingerprint),
    material    bytea NOT NULL CHECK (pg_catalog.length(material) = 32)
);
REVOKE ALL ON TABLE claudable.key_material FROM PUBLIC;

-- The one row every reservation locks FOR UPDATE (and every sealing FOR SHARE): a lock
-- only the extension's owner can take, unlike an advisory lock key.
CREATE TABLE claudable.provisioning_lock (
    one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row)
);
INSERT INTO claudable.provisioning_lock VALUES (true);
REVOKE ALL ON TABLE claudable.provisioning_lock FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_rotate_key()
RETURNS text
AS 'MODULE_PATHNAME', 'claudable_rotate_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_rotate_key() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claudable_rotate_key() IS
    'Seals every stored password under a new key and retires the old one; returns the new fingerprint.';

-- Moving the key by hand (a restore from pg_dump, the switch to claudable.key_file):
-- superuser only, since they read and write server files.
CREATE FUNCTION @extschema@.claudable_export_key(path text)
RETURNS text
AS 'MODULE_PATHNAME', 'claudable_export_key'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_export_key(text) FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_import_key(path text)
RETURNS text
AS 'MODULE_PATHNAME', 'claudable_import_key'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_import_key(text) FROM PUBLIC;

-- Per-project findings that need the key or PostgreSQL's SCRAM code: stored passwords
-- that do not decrypt, a key that does not match the recorded fingerprint, and roles
-- whose password was changed outside claudable.
CREATE FUNCTION claudable.credential_findings()
RETURNS TABLE (severity text, object text, problem text, project_id text, repairable boolean)
AS 'MODULE_PATHNAME', 'claudable_credential_findings'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.credential_findings() FROM PUBLIC;

-- Which key sealed each password; which worker (by PID) is working on the project.
ALTER TABLE claudable.projects ADD COLUMN key_fingerprint text;
ALTER TABLE claudable.projects ADD COLUMN worker_pid integer;

-- The 0.2.0 key file (claudable.key in the data directory, or claudable.key_file) is
-- adopted: its fingerprint is recorded, and without claudable.key_file the key moves
-- into claudable.key_material. The file itself is left for the DBA to remove.
CREATE FUNCTION claudable.adopt_key_of_0_2_0()
RETURNS text
AS 'MODULE_PATHNAME', 'claudable_adopt_key_of_0_2_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.adopt_key_of_0_2_0() FROM PUBLIC;
SELECT claudable.adopt_key_of_0_2_0();
DROP FUNCTION claudable.adopt_key_of_0_2_0();  -- used once, here

-- The comment claudable writes on the roles and databases it creates: the one place its
-- format is defined (the C++ code and the report both ask this function). NULL before the
-- first provisioning creates the installation id.
CREATE FUNCTION claudable.ownership_marker(project_id text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'managed by claudable: project ' || project_id || ', installation ' || i.id::text
      FROM claudable.installation AS i
$$;
REVOKE ALL ON FUNCTION claudable.ownership_marker(text) FROM PUBLIC;

-- The marker as a pattern whose one capture group is the project id; NULL (which matches
-- nothing) before the first provisioning.
CREATE OR REPLACE FUNCTION claudable.marker_pattern()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '^' || pg_catalog.replace(claudable.ownership_marker('%'), '%', '([A-Za-z0-9_-]+)') || '$'
$$;
REVOKE ALL ON FUNCTION claudable.marker_pattern() FROM PUBLIC;

-- limits() gains two columns, so it and what reads it are made anew.
DROP FUNCTION claudable.expected_role_settings();
DROP FUNCTION claudable.limits();
-- ---- limits --------------------------------------------------------------------------
CREATE FUNCTION claudable.limits(OUT connection_limit integer, OUT role_settings text, OUT max_database_size bigint,
                                 OUT max_projects integer, OUT max_projects_per_owner integer)
AS 'MODULE_PATHNAME', 'claudable_limits'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.limits() FROM PUBLIC;

CREATE FUNCTION claudable.expected_role_settings()
RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE(pg_catalog.array_agg(item ORDER BY item), '{}')
      FROM (SELECT pg_catalog.regexp_replace(pg_catalog.btrim(part), '\s*=\s*', '=') AS item
              FROM claudable.limits() AS l,
                   pg_catalog.regexp_split_to_table(l.role_settings, ',') AS part
             WHERE pg_catalog.btrim(part) <> '') AS items
$$;
REVOKE ALL ON FUNCTION claudable.expected_role_settings() FROM PUBLIC;

-- ---- the report ----------------------------------------------------------------------
-- A project's role is the role of its recorded name carrying this installation's marker
-- (a tenant cannot comment on its own role). Its database is the database of its recorded
-- name OWNED BY that role: a tenant can change its database's comment, but can neither
-- rename it nor give it away (both need CREATEDB), so ownership is what identifies it.
CREATE OR REPLACE FUNCTION claudable.findings()
RETURNS TABLE (severity text, object text, problem text, project_id text, repairable boolean)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
WITH limits AS (
    SELECT l.connection_limit, l.max_database_size, claudable.expected_role_settings() AS role_settings
      FROM claudable.limits() AS l
), this_database AS (
    SELECT d.oid, d.datname::text AS name, COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba)) AS acl
      FROM pg_catalog.pg_database AS d WHERE d.datname = pg_catalog.current_database()
), managed_roles AS (
    SELECT r.oid, r.rolname::text AS name, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication,
           r.rolbypassrls, r.rolconnlimit,
           pg_catalog.substring(pg_catalog.shobj_description(r.oid, 'pg_authid'), claudable.marker_pattern()) AS project_id
      FROM pg_catalog.pg_roles AS r
), managed_databases AS (
    SELECT d.oid, d.datname::text AS name,
           pg_catalog.substring(pg_catalog.shobj_description(d.oid, 'pg_database'), claudable.marker_pattern()) AS project_id
      FROM pg_catalog.pg_database AS d
), project_roles AS (
    SELECT r.*, p.status FROM managed_roles AS r
      JOIN claudable.projects AS p ON p.project_id = r.project_id AND p.username = r.name
), project_databases AS (
    SELECT d.oid, d.datname::text AS name, d.datconnlimit, d.datistemplate, d.datdba,
           COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba)) AS acl,
           pg_catalog.shobj_description(d.oid, 'pg_database') AS comment,
           p.project_id, p.status, p.read_only_since
      FROM pg_catalog.pg_database AS d
      JOIN project_roles AS r ON r.oid = d.datdba
      JOIN claudable.projects AS p ON p.project_id = r.project_id AND p.database_name = d.datname::text
)
SELECT 'error', 'role ' || p.username, 'project ' || p.project_id || ' is ready but its role is missing',
       p.project_id, true
  FROM claudable.projects AS p
 WHERE p.status = 'ready' AND NOT EXISTS (SELECT 1 FROM project_roles AS r WHERE r.project_id = p.project_id)
UNION ALL
SELECT 'error', 'database ' || p.database_name, 'project ' || p.project_id || ' is ready but its database is missing',
       p.project_id, true
  FROM claudable.projects AS p
 WHERE p.status = 'ready' AND NOT EXISTS (SELECT 1 FROM project_databases AS d WHERE d.project_id = p.project_id)
UNION ALL
SELECT 'error', 'project ' || p.project_id,
       'stuck in ' || p.status || ' with no worker running (claudable_reconcile() completes it)', p.project_id, true
  FROM claudable.projects AS p
 WHERE p.status IN ('provisioning', 'deprovisioning')
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity AS a
                    WHERE a.pid = p.worker_pid AND a.backend_type = 'claudable provisioner')
UNION ALL
SELECT 'warning', 'role ' || r.name,
       'marked as managed by claudable for project ' || r.project_id || ', which has no metadata row', NULL, false
  FROM managed_roles AS r
 WHERE r.project_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p WHERE p.project_id = r.project_id AND p.username = r.name)
UNION ALL
SELECT 'warning', 'database ' || d.name,
       'marked as managed by claudable for project ' || d.project_id || ', which has no metadata row', NULL, false
  FROM managed_databases AS d
 WHERE d.project_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p WHERE p.project_id = d.project_id AND p.database_name = d.name)
UNION ALL
SELECT 'error', 'database ' || d.name, 'does not carry claudable''s ownership marker (its comment was changed)',
       d.project_id, true
  FROM project_databases AS d
 WHERE d.comment IS DISTINCT FROM claudable.ownership_marker(d.project_id)
UNION ALL
SELECT 'error', 'database ' || d.name, 'is marked as a template (IS_TEMPLATE), so anyone with CONNECT may copy it',
       d.project_id, true
  FROM project_databases AS d
 WHERE d.datistemplate
UNION ALL
SELECT 'error', 'database ' || d.name, 'PUBLIC holds ' || a.privilege_type || ' on a managed database', d.project_id, true
  FROM project_databases AS d CROSS JOIN LATERAL pg_catalog.aclexplode(d.acl) AS a
 WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')
UNION ALL
SELECT 'error', 'role ' || r.name, 'can connect to database ' || d.name || ' of project ' || d.project_id,
       d.project_id, true
  FROM project_roles AS r JOIN project_databases AS d ON d.project_id <> r.project_id
 WHERE EXISTS (SELECT 1 FROM pg_catalog.aclexplode(d.acl) AS a
                WHERE a.grantee = r.oid AND a.privilege_type = 'CONNECT')  -- PUBLIC's is reported on its own
UNION ALL
SELECT 'error', 'role ' || r.name, 'is a member of role ' || o.name || ' of project ' || o.project_id,
       o.project_id, true
  FROM project_roles AS r JOIN project_roles AS o ON o.project_id <> r.project_id
 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members AS m WHERE m.roleid = o.oid AND m.member = r.oid)
UNION ALL
SELECT 'error', 'role ' || r.name,
       'managed role has drifted: ' || pg_catalog.array_to_string(ARRAY[
           CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
           CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
           CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], ', '), r.project_id, true
  FROM project_roles AS r
 WHERE r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls
UNION ALL
SELECT 'error', 'role ' || r.name,
       'connection limit ' || r.rolconnlimit || ' differs from claudable.connection_limit ' || l.connection_limit,
       r.project_id, true
  FROM project_roles AS r, limits AS l
 WHERE r.status = 'ready' AND r.rolconnlimit <> l.connection_limit
UNION ALL
SELECT 'error', 'database ' || d.name,
       'connection limit ' || d.datconnlimit || ' differs from claudable.connection_limit ' || l.connection_limit,
       d.project_id, true
  FROM project_databases AS d, limits AS l
 WHERE d.status = 'ready' AND d.datconnlimit <> l.connection_limit
UNION ALL
SELECT 'error', 'role ' || r.name, 'role settings differ from claudable.role_settings', r.project_id, true
  FROM project_roles AS r, limits AS l
 WHERE r.status = 'ready'
   AND COALESCE((SELECT pg_catalog.array_agg(item ORDER BY item)
                   FROM pg_catalog.pg_db_role_setting AS s, pg_catalog.unnest(s.setconfig) AS item
                  WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}') <> l.role_settings
UNION ALL
SELECT 'error', 'role ' || r.name,
       'overrides settings in database ' || COALESCE(d.datname::text, s.setdatabase::text) || ' (ALTER ROLE ... IN DATABASE): '
           || pg_catalog.array_to_string(s.setconfig, ', '),
       r.project_id, true
  FROM project_roles AS r
  JOIN pg_catalog.pg_db_role_setting AS s ON s.setrole = r.oid AND s.setdatabase <> 0
  LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.setdatabase
UNION ALL
SELECT 'error', 'database ' || d.name,
       'quota bypassed: read-only since ' || d.read_only_since || ' but default_transaction_read_only = on was removed',
       d.project_id, true
  FROM project_databases AS d
 WHERE d.read_only_since IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting AS s
                    WHERE s.setdatabase = d.oid AND s.setrole = 0
                      AND 'default_transaction_read_only=on' = ANY (s.setconfig))
UNION ALL
SELECT 'warning', 'database ' || d.name,
       'size ' || pg_catalog.pg_database_size(d.oid) || ' bytes exceeds claudable.max_database_size '
           || l.max_database_size || ' (claudable_enforce_quotas() makes it read-only)', d.project_id, false
  FROM project_databases AS d, limits AS l
 WHERE l.max_database_size > 0 AND d.read_only_since IS NULL AND pg_catalog.pg_database_size(d.oid) > l.max_database_size
UNION ALL
SELECT 'error', 'database ' || t.name, 'PUBLIC may connect to the database that holds the claudable metadata', NULL, false
  FROM this_database AS t
 WHERE EXISTS (SELECT 1 FROM pg_catalog.aclexplode(t.acl) AS a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')
UNION ALL
SELECT 'error', 'database template1', 'PUBLIC may connect to template1', NULL, false
  FROM pg_catalog.pg_database AS d
 WHERE d.datname = 'template1' AND d.datallowconn
   AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
                WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')
UNION ALL
SELECT 'error', 'function ' || f.oid::regprocedure::text, 'PUBLIC may execute a claudable function', NULL, false
  FROM pg_catalog.pg_proc AS f
  JOIN pg_catalog.pg_depend AS dep
    ON dep.classid = 'pg_catalog.pg_proc'::regclass AND dep.objid = f.oid AND dep.deptype = 'e'
   AND dep.refclassid = 'pg_catalog.pg_extension'::regclass
   AND dep.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'claudable')
 WHERE EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(f.proacl, pg_catalog.acldefault('f', f.proowner))) AS a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
UNION ALL
SELECT 'error', 'role ' || r.name, 'a project role can reach the claudable metadata', r.project_id, false
  FROM project_roles AS r, this_database AS t
 WHERE pg_catalog.has_database_privilege(r.oid, t.oid, 'CONNECT')
    OR pg_catalog.has_schema_privilege(r.oid, 'claudable', 'USAGE')
UNION ALL
SELECT c.severity, c.object, c.problem, c.project_id, c.repairable FROM claudable.credential_findings() AS c
$$;
REVOKE ALL ON FUNCTION claudable.findings() FROM PUBLIC;

-- One row per problem; no rows on a healthy cluster. Reveals no secret.
CREATE OR REPLACE FUNCTION @extschema@.claudable_check()
RETURNS TABLE (severity text, object text, problem text)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.severity, f.object, f.problem FROM claudable.findings() AS f
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_check() FROM PUBLIC;

-- ---- quotas --------------------------------------------------------------------------
-- Puts databases over claudable.max_database_size into default_transaction_read_only and
-- lifts it once they are back under. Reversible and logged. New sessions only: a session
-- already open keeps its setting, and a tenant may still SET it off (a soft quota).
-- Checks the setting that is really there, not only the state it last wrote: a quota the
-- tenant removed (ALTER DATABASE ... RESET) is put back on the next run and recorded.
CREATE OR REPLACE FUNCTION @extschema@.claudable_enforce_quotas()
RETURNS TABLE (project_id text, database_name text, action text, size_bytes bigint, limit_bytes bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    quota bigint := (SELECT l.max_database_size FROM claudable.limits() AS l);
    p record;
    size bigint;
BEGIN
    FOR p IN
        SELECT pr.project_id, pr.owner_id, pr.database_name, pr.read_only_since,
               EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting AS s
                        WHERE s.setdatabase = d.oid AND s.setrole = 0
                          AND 'default_transaction_read_only=on' = ANY (s.setconfig)) AS read_only_set
          FROM claudable.projects AS pr
          JOIN pg_catalog.pg_database AS d ON d.datname = pr.database_name
          JOIN pg_catalog.pg_roles AS r ON r.oid = d.datdba AND r.rolname = pr.username
         WHERE pr.status = 'ready'
         ORDER BY pr.project_id
    LOOP
        size := pg_catalog.pg_database_size(p.database_name);
        IF quota > 0 AND size > quota AND (p.read_only_since IS NULL OR NOT p.read_only_set) THEN
            EXECUTE pg_catalog.format('ALTER DATABASE %I SET default_transaction_read_only = on', p.database_name);
            UPDATE claudable.projects AS t SET read_only_since = COALESCE(t.read_only_since, pg_catalog.now()),
                                               updated_at = pg_catalog.now()
             WHERE t.project_id = p.project_id;
            action := CASE WHEN p.read_only_since IS NULL THEN 'made read-only'
                           ELSE 're-applied read-only (the setting had been removed)' END;
        ELSIF p.read_only_since IS NOT NULL AND (quota = 0 OR size <= quota) THEN
            EXECUTE pg_catalog.format('ALTER DATABASE %I RESET default_transaction_read_only', p.database_name);
            UPDATE claudable.projects AS t SET read_only_since = NULL, updated_at = pg_catalog.now()
             WHERE t.project_id = p.project_id;
            action := 'made writable';
        ELSE
            CONTINUE;
        END IF;
        INSERT INTO claudable.events (action, project_id, owner_id, database_name, outcome, detail)
        VALUES ('enforce_quota', p.project_id, p.owner_id, p.database_name, 'succeeded',
                action || ': ' || size || ' bytes, limit ' || quota);
        RAISE LOG 'claudable: % database "%" of project "%" (% bytes, limit %)',
            action, p.database_name, p.project_id, size, quota;
        project_id := p.project_id; database_name := p.database_name;
        size_bytes := size; limit_bytes := quota;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_enforce_quotas() FROM PUBLIC;
