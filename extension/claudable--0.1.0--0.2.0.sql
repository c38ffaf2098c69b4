-- claudable 0.1.0 -> 0.2.0: deprovision, rotate, monitoring, audit, limits, security report.
-- A fresh CREATE EXTENSION runs 0.1.0 and then this script.
\echo Use "ALTER EXTENSION claudable UPDATE TO '0.2.0'" to load this file. \quit

ALTER TABLE claudable.projects DROP CONSTRAINT projects_status_check;
ALTER TABLE claudable.projects ADD CONSTRAINT projects_status_check
    CHECK (status IN ('provisioning', 'ready', 'deprovisioning'));
-- Set while claudable_enforce_quotas() keeps the database read-only.
ALTER TABLE claudable.projects ADD COLUMN read_only_since timestamptz;

-- The audit trail. Never holds a secret.
CREATE TABLE claudable.events (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    action        text        NOT NULL,
    project_id    text,
    owner_id      text,
    database_name text,
    actor         text        NOT NULL DEFAULT session_user,
    outcome       text        NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    detail        text
);
CREATE INDEX events_project_at ON claudable.events (project_id, at);
REVOKE ALL ON TABLE claudable.events FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('claudable.events', '');
SELECT pg_catalog.pg_extension_config_dump('claudable.events_id_seq', '');

-- What exists and how big it is. No secret column.
CREATE VIEW claudable.databases AS
SELECT p.project_id, p.owner_id, p.database_name, p.username, p.status,
       CASE WHEN d.oid IS NOT NULL THEN pg_catalog.pg_database_size(d.oid) END AS size_bytes,
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity AS a WHERE a.datid = d.oid)::integer AS connections,
       p.created_at, p.updated_at
  FROM claudable.projects AS p
  LEFT JOIN pg_catalog.pg_database AS d ON d.datname = p.database_name;
REVOKE ALL ON TABLE claudable.databases FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_deprovision(project_id text, owner_id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'claudable_deprovision'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_deprovision(text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_rotate_password(project_id text, owner_id text)
RETURNS claudable.provisioned_project
AS 'MODULE_PATHNAME', 'claudable_rotate_password'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_rotate_password(text, text) FROM PUBLIC;

-- The limits in force for the calling session (loads the library, so defaults apply).
CREATE FUNCTION claudable.limits(OUT connection_limit integer, OUT role_settings text, OUT max_database_size bigint)
AS 'MODULE_PATHNAME', 'claudable_limits'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.limits() FROM PUBLIC;

-- claudable.role_settings as PostgreSQL stores role settings: sorted name=value items.
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

-- Every finding, with the project it belongs to and whether claudable_reconcile() may
-- repair it; claudable_check() shows the first three columns.
CREATE FUNCTION claudable.findings()
RETURNS TABLE (severity text, object text, problem text, project_id text, repairable boolean)
LANGUAGE sql STABLE PARALLEL UNSAFE
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
    SELECT d.oid, d.datname::text AS name, d.datconnlimit,
           COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba)) AS acl,
           pg_catalog.substring(pg_catalog.shobj_description(d.oid, 'pg_database'), claudable.marker_pattern()) AS project_id
      FROM pg_catalog.pg_database AS d
), project_roles AS (
    SELECT r.*, p.status FROM managed_roles AS r
      JOIN claudable.projects AS p ON p.project_id = r.project_id AND p.username = r.name
), project_databases AS (
    SELECT d.*, p.status FROM managed_databases AS d
      JOIN claudable.projects AS p ON p.project_id = d.project_id AND p.database_name = d.name
), running_workers AS (
    -- each worker holds (project_lock_class, hashtext(project_id)) for its life
    SELECT l.objid FROM pg_catalog.pg_locks AS l, this_database AS t
     WHERE l.locktype = 'advisory' AND l.granted AND l.database = t.oid
       AND l.classid = 1668047873::oid AND l.objsubid = 2
)
SELECT 'error', 'role ' || p.username, 'project ' || p.project_id || ' is ready but its role is missing',
       p.project_id, true
  FROM claudable.projects AS p
 WHERE p.status = 'ready' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = p.username)
UNION ALL
SELECT 'error', 'database ' || p.database_name, 'project ' || p.project_id || ' is ready but its database is missing',
       p.project_id, true
  FROM claudable.projects AS p
 WHERE p.status = 'ready' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datname = p.database_name)
UNION ALL
SELECT 'error', 'project ' || p.project_id,
       'stuck in ' || p.status || ' with no worker running (claudable_reconcile() completes it)', p.project_id, true
  FROM claudable.projects AS p
 WHERE p.status IN ('provisioning', 'deprovisioning')
   AND NOT EXISTS (SELECT 1 FROM running_workers AS w
                    WHERE w.objid = ((pg_catalog.hashtext(p.project_id)::bigint + 4294967296) % 4294967296)::text::oid)
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
SELECT 'error', 'database ' || d.name, 'PUBLIC holds ' || a.privilege_type || ' on a managed database', d.project_id, true
  FROM project_databases AS d CROSS JOIN LATERAL pg_catalog.aclexplode(d.acl) AS a
 WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')
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
SELECT 'warning', 'database ' || d.name,
       'size ' || pg_catalog.pg_database_size(d.oid) || ' bytes exceeds claudable.max_database_size '
           || l.max_database_size || ' (claudable_enforce_quotas() makes it read-only)', d.project_id, false
  FROM project_databases AS d, limits AS l
 WHERE l.max_database_size > 0 AND pg_catalog.pg_database_size(d.oid) > l.max_database_size
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
$$;
REVOKE ALL ON FUNCTION claudable.findings() FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.claudable_check()
RETURNS TABLE (severity text, object text, problem text)
LANGUAGE sql STABLE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.severity, f.object, f.problem FROM claudable.findings() AS f
$$;

CREATE OR REPLACE FUNCTION @extschema@.claudable_reconcile()
RETURNS TABLE (action text, object text, detail text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    finding record;
    project text;
    pattern text := claudable.marker_pattern();
BEGIN
    -- Every repairable finding of a recorded project: run its steps again (a project
    -- left in deprovisioning is removed, as was asked).
    FOR project IN
        SELECT DISTINCT f.project_id FROM claudable.findings() AS f
         WHERE f.repairable AND f.project_id IS NOT NULL ORDER BY 1
    LOOP
        BEGIN
            PERFORM claudable.repair_project(project);
            action := 'repaired'; object := 'project ' || project;
            detail := CASE WHEN EXISTS (SELECT 1 FROM claudable.projects AS p WHERE p.project_id = project)
                           THEN 'role and database exist, are locked down and the project is ready'
                           ELSE 'the interrupted deprovisioning was completed' END;
        EXCEPTION WHEN OTHERS THEN
            action := 'failed'; object := 'project ' || project; detail := SQLSTATE || ': ' || SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;

    -- Orphans: objects marked as ours whose project has no row.
    FOR finding IN
        SELECT r.oid, r.rolname::text AS role_name,
               pg_catalog.substring(pg_catalog.shobj_description(r.oid, 'pg_authid'), pattern) AS project_id
          FROM pg_catalog.pg_roles AS r
         WHERE pg_catalog.shobj_description(r.oid, 'pg_authid') ~ pattern
           AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p WHERE p.username = r.rolname::text)
    LOOP
        object := 'role ' || finding.role_name;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datdba = finding.oid) THEN
            action := 'left'; detail := 'it owns a database, which may hold data; drop both by hand if unwanted';
        ELSE
            EXECUTE pg_catalog.format('DROP ROLE %I', finding.role_name);
            action := 'dropped'; detail := 'orphan of project ' || finding.project_id || ' with no database';
            INSERT INTO claudable.events (action, project_id, outcome, detail)
            VALUES ('reconcile', finding.project_id, 'succeeded', 'dropped orphan role ' || finding.role_name);
            RAISE LOG 'claudable: reconcile dropped orphan role "%" of project "%"', finding.role_name, finding.project_id;
        END IF;
        RETURN NEXT;
    END LOOP;
    FOR finding IN
        SELECT d.datname::text AS database_name
          FROM pg_catalog.pg_database AS d
         WHERE pg_catalog.shobj_description(d.oid, 'pg_database') ~ pattern
           AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p WHERE p.database_name = d.datname::text)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r
                            WHERE r.oid = d.datdba AND pg_catalog.shobj_description(r.oid, 'pg_authid') ~ pattern)
    LOOP
        action := 'left'; object := 'database ' || finding.database_name;
        detail := 'marked as claudable''s but has no metadata row; it may hold data, so a DBA decides';
        RETURN NEXT;
    END LOOP;
END
$$;

-- Puts databases over claudable.max_database_size into default_transaction_read_only and
-- lifts it once they are back under. Reversible and logged. New sessions only: a session
-- already open keeps its setting, and a tenant may still SET it off (a soft quota).
CREATE FUNCTION @extschema@.claudable_enforce_quotas()
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
        SELECT pr.project_id, pr.owner_id, pr.database_name, pr.read_only_since
          FROM claudable.projects AS pr
          JOIN pg_catalog.pg_database AS d ON d.datname = pr.database_name
         WHERE pr.status = 'ready'
         ORDER BY pr.project_id
    LOOP
        size := pg_catalog.pg_database_size(p.database_name);
        IF quota > 0 AND size > quota AND p.read_only_since IS NULL THEN
            EXECUTE pg_catalog.format('ALTER DATABASE %I SET default_transaction_read_only = on', p.database_name);
            UPDATE claudable.projects AS t SET read_only_since = pg_catalog.now(), updated_at = pg_catalog.now()
             WHERE t.project_id = p.project_id;
            action := 'made read-only';
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
