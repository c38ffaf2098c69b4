-- claudable 0.3.0 -> 0.4.0: a pool of spare databases that a cold claudable_provision
-- claims instead of copying the template; claudable_check() reports on the pool.
-- Kept as it shipped with 0.4.0 (then built from the sections of claudable.sql).
\echo Use "ALTER EXTENSION claudable UPDATE TO '0.4.0'" to load this file. \quit

-- ---- the spare pool ------------------------------------------------------------------
-- Ready-made databases, each owned by a NOLOGIN role of the same name, copied from
-- claudable.template before anyone asks (claudable.spare_databases of them). A cold
-- claudable_provision renames one to the project's names instead of copying the template.
-- A spare is not a project: no listing, view or limit of projects counts it. Not dumped:
-- a restored database has none of their databases, and the next refill makes new ones.
CREATE TABLE claudable.spares (
    name          text        PRIMARY KEY CHECK (name ~ '^claudable_spare_[0-9]+$'),
    template_name text        NOT NULL,
    template_oid  oid         NOT NULL,
    -- creating: role made, database maybe; ready: claimable; retiring: being dropped
    state         text        NOT NULL CHECK (state IN ('creating', 'ready', 'retiring')),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The password whose SCRAM verifier the NOLOGIN role already holds, sealed under the
    -- key key_fingerprint names for the context 'spare:<name>', so that a claim does not
    -- compute a verifier; NULL when no key existed yet (the claim then makes one).
    password_sealed bytea,
    key_fingerprint text
);
REVOKE ALL ON TABLE claudable.spares FROM PUBLIC;
CREATE SEQUENCE claudable.spare_numbers;
REVOKE ALL ON SEQUENCE claudable.spare_numbers FROM PUBLIC;

-- The comment on a spare's role and database. A project's marker names a project; this
-- one never matches claudable.marker_pattern(), so nothing mistakes a spare for a project.
CREATE FUNCTION claudable.spare_marker()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'spare database of claudable, installation ' || i.id::text FROM claudable.installation AS i
$$;
REVOKE ALL ON FUNCTION claudable.spare_marker() FROM PUBLIC;

-- claudable.spare_databases and claudable.template as the calling session sees them.
CREATE FUNCTION claudable.spare_settings(OUT target integer, OUT template_name text)
AS 'MODULE_PATHNAME', 'claudable_spare_settings'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.spare_settings() FROM PUBLIC;

-- Every recorded spare: does it fit the template (same name, same database: a template
-- dropped and made again is another), and is it intact (nobody can log in as its role or
-- connect to its database, both carry the spare marker, nothing was granted or set on
-- them). Only a ready spare that fits and is intact is ever claimed; the refill retires
-- the others. The one definition the C++ code and claudable_check() share.
CREATE FUNCTION claudable.spare_pool(template_name text)
RETURNS TABLE (name text, state text, template_name text, fits boolean, intact boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT s.name, s.state, s.template_name,
       s.template_name = $1
           AND s.template_oid IS NOT DISTINCT FROM (SELECT t.oid FROM pg_catalog.pg_database AS t WHERE t.datname = $1),
       COALESCE(NOT r.rolcanlogin AND NOT (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls)
                AND pg_catalog.shobj_description(r.oid, 'pg_authid') = m.marker
                AND d.datdba = r.oid AND NOT d.datistemplate AND d.datallowconn
                AND pg_catalog.shobj_description(d.oid, 'pg_database') = m.marker
                AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
                                 WHERE a.grantee <> d.datdba)
                AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members AS am WHERE am.member = r.oid OR am.roleid = r.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting AS rs
                                 WHERE rs.setrole = r.oid OR rs.setdatabase = d.oid), false)
  FROM claudable.spares AS s
  CROSS JOIN (SELECT claudable.spare_marker() AS marker) AS m
  LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname = s.name
  LEFT JOIN pg_catalog.pg_database AS d ON d.datname = s.name
$$;
REVOKE ALL ON FUNCTION claudable.spare_pool(text) FROM PUBLIC;

-- Fills the pool now (a worker retires spares that no longer fit, then copies the
-- template until claudable.spare_databases are ready) and returns how many are ready.
-- The server's settings, as the configuration files say at the call, size the pool.
CREATE FUNCTION @extschema@.claudable_refill_spares()
RETURNS integer
AS 'MODULE_PATHNAME', 'claudable_refill_spares'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_refill_spares() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claudable_refill_spares() IS
    'Retires spare databases that no longer fit, makes new ones up to claudable.spare_databases; returns how many are ready.';

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
), spare_settings AS (
    SELECT t.target, t.template_name FROM claudable.spare_settings() AS t
), spares AS (
    SELECT s.* FROM spare_settings AS t, claudable.spare_pool(t.template_name) AS s
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
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity AS a  -- an idle one waits for its next call
                    WHERE a.pid = p.worker_pid AND a.backend_type = 'claudable provisioner' AND a.state <> 'idle')
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
SELECT 'warning', 'spare pool',
       pg_catalog.format('%s of %s spare databases ready (claudable_refill_spares() fills the pool)',
                         (SELECT pg_catalog.count(*) FROM spares AS s WHERE s.state = 'ready' AND s.fits AND s.intact),
                         t.target),
       NULL, false
  FROM spare_settings AS t
 WHERE (SELECT pg_catalog.count(*) FROM spares AS s WHERE s.state = 'ready' AND s.fits AND s.intact) < t.target
UNION ALL
SELECT 'warning', 'database ' || s.name,
       CASE WHEN NOT s.intact THEN 'spare was changed or is incomplete (the next refill retires it)'
            WHEN NOT s.fits THEN 'spare was made from template ' || s.template_name
                                 || ', which claudable.template no longer names (the next refill retires it)'
            ELSE 'spare is being ' || CASE s.state WHEN 'creating' THEN 'made' ELSE 'retired' END
                 || ' (the next refill finishes it)' END,
       NULL, false
  FROM spares AS s
 WHERE NOT (s.state = 'ready' AND s.fits AND s.intact)
UNION ALL
SELECT 'warning', o.kind || ' ' || o.name, 'carries the spare marker but is not in claudable.spares (the next refill drops it)',
       NULL, false
  FROM (SELECT 'role' AS kind, r.rolname::text AS name FROM pg_catalog.pg_roles AS r
         WHERE pg_catalog.shobj_description(r.oid, 'pg_authid') = claudable.spare_marker()
        UNION ALL
        SELECT 'database', d.datname::text FROM pg_catalog.pg_database AS d
         WHERE pg_catalog.shobj_description(d.oid, 'pg_database') = claudable.spare_marker()) AS o
 WHERE NOT EXISTS (SELECT 1 FROM claudable.spares AS s WHERE s.name = o.name)
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
