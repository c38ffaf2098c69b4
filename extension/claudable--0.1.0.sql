-- claudable 0.1.0: per-project role and database provisioning.
\echo Use "CREATE EXTENSION claudable" to load this file. \quit

-- Metadata lives in its own schema; nobody but the extension's owner may touch it.
CREATE SCHEMA claudable;
REVOKE ALL ON SCHEMA claudable FROM PUBLIC;

CREATE TABLE claudable.projects (
    project_id      text        PRIMARY KEY,
    owner_id        text        NOT NULL,
    database_name   text        NOT NULL UNIQUE,
    username        text        NOT NULL UNIQUE,
    -- AES-256-GCM box under the key in claudable.key_file; never the password itself
    password_sealed bytea       NOT NULL,
    host            text        NOT NULL,
    port            integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    status          text        NOT NULL CHECK (status IN ('provisioning', 'ready')),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE claudable.projects IS 'One row per provisioned project (claudable). Passwords are stored encrypted.';
REVOKE ALL ON TABLE claudable.projects FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('claudable.projects', '');

-- Which metadata instance owns a role or database: its id is part of the marker comment
-- on every object claudable creates. Created by the first provisioning, not by this
-- script, so that pg_restore brings the original id back into a fresh database.
CREATE TABLE claudable.installation (
    id      uuid    PRIMARY KEY,
    one_row boolean NOT NULL DEFAULT true UNIQUE CHECK (one_row)
);
REVOKE ALL ON TABLE claudable.installation FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('claudable.installation', '');

-- The row claudable_provision returns. Its columns are pinned: clients rely on them.
CREATE TYPE claudable.provisioned_project AS (
    project_id    text,
    owner_id      text,
    database_name text,
    username      text,
    password      text,
    host          text,
    port          integer,
    database_url  text,
    created       boolean,
    created_at    timestamptz
);

CREATE FUNCTION @extschema@.claudable_provision(project_id text, owner_id text)
RETURNS claudable.provisioned_project
AS 'MODULE_PATHNAME', 'claudable_provision'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.claudable_provision(text, text) IS
    'Creates (first call) or returns (later calls) the role and database of a project. Autonomous: not undone by ROLLBACK.';

REVOKE ALL ON FUNCTION @extschema@.claudable_provision(text, text) FROM PUBLIC;

-- Internal: runs every provisioning step again for a recorded project (recreates what is
-- missing, resets drifted attributes and privileges). Used by claudable_reconcile().
CREATE FUNCTION claudable.repair_project(project_id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'claudable_repair_project'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.repair_project(text) FROM PUBLIC;

-- Functions below qualify every relation and function; operators resolve through the
-- pinned search_path (pg_catalog, pg_temp), where only pg_catalog can supply them.

-- The marker claudable writes on its roles and databases, as a pattern whose one
-- capture group is the project id. Only this installation's marker counts; NULL (which
-- matches nothing) before the first provisioning.
CREATE FUNCTION claudable.marker_pattern()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '^managed by claudable: project ([A-Za-z0-9_-]+), installation ' || i.id::text || '$'
      FROM (SELECT 1) AS one LEFT JOIN claudable.installation AS i ON true
$$;
REVOKE ALL ON FUNCTION claudable.marker_pattern() FROM PUBLIC;

-- One row per problem; no rows on a healthy cluster. Reveals no secret.
CREATE FUNCTION @extschema@.claudable_check()
RETURNS TABLE (severity text, object text, problem text)
LANGUAGE sql STABLE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH managed_roles AS (
    SELECT r.oid, r.rolname::text AS name, r.rolsuper, r.rolcreatedb, r.rolcreaterole,
           r.rolreplication, r.rolbypassrls,
           pg_catalog.substring(pg_catalog.shobj_description(r.oid, 'pg_authid'), claudable.marker_pattern())
               AS project_id
      FROM pg_catalog.pg_roles AS r
), managed_databases AS (
    SELECT d.oid, d.datname::text AS name, d.datacl, d.datdba,
           pg_catalog.substring(pg_catalog.shobj_description(d.oid, 'pg_database'), claudable.marker_pattern())
               AS project_id
      FROM pg_catalog.pg_database AS d
), running_workers AS (
    -- each provisioning worker holds (project_lock_class, hashtext(project_id)) for its life
    SELECT l.objid
      FROM pg_catalog.pg_locks AS l
     WHERE l.locktype = 'advisory' AND l.granted
       AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d
                                               WHERE d.datname = pg_catalog.current_database())
       AND l.classid = 1668047873::oid AND l.objsubid = 2
)
SELECT 'error', 'role ' || p.username,
       'project ' || p.project_id || ' is ready but its role is missing'
  FROM claudable.projects AS p
 WHERE p.status = 'ready'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = p.username)
UNION ALL
SELECT 'error', 'database ' || p.database_name,
       'project ' || p.project_id || ' is ready but its database is missing'
  FROM claudable.projects AS p
 WHERE p.status = 'ready'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datname = p.database_name)
UNION ALL
SELECT 'error', 'project ' || p.project_id,
       'stuck in provisioning with no worker running (claudable_reconcile() completes it)'
  FROM claudable.projects AS p
 WHERE p.status = 'provisioning'
   AND NOT EXISTS (SELECT 1 FROM running_workers AS w
                    WHERE w.objid =
                          ((pg_catalog.hashtext(p.project_id)::bigint + 4294967296)
                            % 4294967296)::text::oid)
UNION ALL
SELECT 'warning', 'role ' || r.name,
       'marked as managed by claudable for project ' || r.project_id
           || ', which has no metadata row'
  FROM managed_roles AS r
 WHERE r.project_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p
                    WHERE p.project_id = r.project_id
                      AND p.username = r.name)
UNION ALL
SELECT 'warning', 'database ' || d.name,
       'marked as managed by claudable for project ' || d.project_id
           || ', which has no metadata row'
  FROM managed_databases AS d
 WHERE d.project_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p
                    WHERE p.project_id = d.project_id
                      AND p.database_name = d.name)
UNION ALL
SELECT 'error', 'database ' || d.name,
       'PUBLIC holds ' || a.privilege_type || ' on a managed database'
  FROM managed_databases AS d
       JOIN claudable.projects AS p ON p.project_id = d.project_id AND p.database_name = d.name
       CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
 WHERE a.grantee = 0::oid
   AND a.privilege_type = ANY (ARRAY['CONNECT', 'TEMPORARY'])
UNION ALL
SELECT 'error', 'role ' || r.name,
       'managed role has drifted: ' || pg_catalog.array_to_string(ARRAY[
           CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
           CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
           CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], ', ')
  FROM managed_roles AS r
       JOIN claudable.projects AS p ON p.project_id = r.project_id AND p.username = r.name
 WHERE (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls)
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_check() FROM PUBLIC;

-- Completes or cleans up what claudable_check() reports, where that is safe, and
-- returns what it did. A managed database without a metadata row is never dropped:
-- it may hold data, so it is left for a DBA.
CREATE FUNCTION @extschema@.claudable_reconcile()
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
    -- Projects to complete or repair: every problem tied to a recorded project.
    FOR project IN
        SELECT DISTINCT p.project_id
          FROM claudable.projects AS p
         WHERE EXISTS (SELECT 1 FROM @extschema@.claudable_check() AS c
                        WHERE c.object = ANY (ARRAY[
                                  'project ' || p.project_id,
                                  'role ' || p.username,
                                  'database ' || p.database_name])
                          AND c.problem NOT LIKE 'marked as managed%')
         ORDER BY 1
    LOOP
        BEGIN
            PERFORM claudable.repair_project(project);
            action := 'repaired'; object := 'project ' || project;
            detail := 'role and database exist, are locked down and the project is ready';
        EXCEPTION WHEN OTHERS THEN
            action := 'failed'; object := 'project ' || project;
            detail := SQLSTATE || ': ' || SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;

    -- Orphans: objects marked as ours whose project has no row.
    FOR finding IN
        SELECT r.rolname::text AS role_name,
               pg_catalog.substring(pg_catalog.shobj_description(r.oid, 'pg_authid'), pattern) AS project_id
          FROM pg_catalog.pg_roles AS r
         WHERE pg_catalog.shobj_description(r.oid, 'pg_authid') ~ pattern
           AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p
                            WHERE p.username = r.rolname::text)
    LOOP
        object := 'role ' || finding.role_name;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datdba =
                       (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = finding.role_name)) THEN
            action := 'left'; detail := 'it owns a database, which may hold data; drop both by hand if unwanted';
        ELSE
            EXECUTE pg_catalog.format('DROP ROLE %I', finding.role_name);
            action := 'dropped'; detail := 'orphan of project ' || finding.project_id
                                           || ' with no database';
        END IF;
        RETURN NEXT;
    END LOOP;
    FOR finding IN
        SELECT d.datname::text AS database_name
          FROM pg_catalog.pg_database AS d
         WHERE pg_catalog.shobj_description(d.oid, 'pg_database') ~ pattern
           AND NOT EXISTS (SELECT 1 FROM claudable.projects AS p
                            WHERE p.database_name = d.datname::text)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r
                            WHERE r.oid = d.datdba
                              AND pg_catalog.shobj_description(r.oid, 'pg_authid') ~ pattern)
    LOOP
        action := 'left'; object := 'database ' || finding.database_name;
        detail := 'marked as claudable''s but has no metadata row; it may hold data, so a DBA decides';
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_reconcile() FROM PUBLIC;
