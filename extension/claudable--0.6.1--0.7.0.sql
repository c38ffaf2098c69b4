-- claudable 0.6.1 -> 0.7.0: snapshots, restore and branches (claudable_snapshot,
-- claudable_snapshots, claudable_restore, claudable_drop_snapshot, claudable_branch),
-- branch ids (parent~branch) in the ownership marker's pattern, the view claudable.databases
-- with each project's parent, expiry and snapshots, their findings in claudable_check()
-- and their settling in claudable_reconcile().
-- The Makefile builds claudable--0.6.1--0.7.0.sql from this file: each "include" line
-- becomes the section of claudable.sql it names, so every definition is written once.
\echo Use "ALTER EXTENSION claudable UPDATE TO '0.7.0'" to load this file. \quit

-- The marker as a pattern whose one capture group is the project id (a branch's id holds a
-- '~': parent~branch); NULL (which matches nothing) before the first provisioning.
CREATE OR REPLACE FUNCTION claudable.marker_pattern()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '^' || pg_catalog.replace(claudable.ownership_marker('%'), '%', '([A-Za-z0-9_~-]+)') || '$'
$$;
REVOKE ALL ON FUNCTION claudable.marker_pattern() FROM PUBLIC;

-- ---- snapshots and branches (0.7.0) -------------------------------------------------
-- A branch is a project of its own (role, database, password, URL) whose row names its
-- parent; its project id is parent~branch_id, which no ordinary project id can be. A branch
-- may expire: claudable_reconcile() deprovisions it after expires_at.
ALTER TABLE claudable.projects
    ADD COLUMN parent_project_id text REFERENCES claudable.projects (project_id),
    ADD COLUMN expires_at timestamptz;
CREATE INDEX projects_parent ON claudable.projects (parent_project_id) WHERE parent_project_id IS NOT NULL;

-- A snapshot is a database copied from a project's database at one moment, owned by the
-- extension's owner, refusing every connection (ALLOW_CONNECTIONS false, no grant): no
-- tenant can connect to it, alter it or drop it. A restore copies it to a staging database
-- (ALLOW_CONNECTIONS false too) and swaps that in by rename; the database it replaces is
-- kept as the snapshot made by the restore. Not dumped: pg_dump writes one database, and
-- the snapshots' databases are not in it.
CREATE TABLE claudable.snapshots (
    snapshot_id      text        PRIMARY KEY CHECK (snapshot_id ~ '^snap-[0-9a-f]{12}$'),
    project_id       text        NOT NULL REFERENCES claudable.projects (project_id),
    label            text,
    database_name    text        NOT NULL UNIQUE,
    -- creating: being copied; restoring: this snapshot is the state a restore under way
    -- replaces (staging_database holds the copy swapped in); dropping: being dropped
    state            text        NOT NULL CHECK (state IN ('creating', 'restoring', 'ready', 'dropping')),
    restored_from    text,
    staging_database text        UNIQUE,
    size_bytes       bigint,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    worker_pid       integer
);
CREATE INDEX snapshots_project ON claudable.snapshots (project_id, created_at);
REVOKE ALL ON TABLE claudable.snapshots FROM PUBLIC;
ALTER TABLE claudable.snapshots ENABLE ROW LEVEL SECURITY;

-- The row claudable_snapshot returns. Its columns are pinned: clients rely on them.
CREATE TYPE claudable.snapshot AS (
    snapshot_id text,
    project_id  text,
    label       text,
    size_bytes  bigint,
    created_at  timestamptz
);

-- The comments on a snapshot's database and on a restore's staging copy. Neither matches
-- claudable.marker_pattern(): nothing mistakes them for a project's database.
CREATE FUNCTION claudable.snapshot_marker(project_id text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'snapshot of claudable project ' || project_id || ', installation ' || i.id::text
      FROM claudable.installation AS i
$$;
REVOKE ALL ON FUNCTION claudable.snapshot_marker(text) FROM PUBLIC;
CREATE FUNCTION claudable.staging_marker(project_id text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'restore staging of claudable project ' || project_id || ', installation ' || i.id::text
      FROM claudable.installation AS i
$$;
REVOKE ALL ON FUNCTION claudable.staging_marker(text) FROM PUBLIC;

-- What exists and how big it is. No secret column. One row per project and branch; a
-- project's snapshots are counted and measured in its row (claudable_snapshots lists them).
CREATE OR REPLACE VIEW claudable.databases AS
SELECT p.project_id, p.owner_id, p.database_name, p.username, p.status,
       CASE WHEN d.oid IS NOT NULL THEN pg_catalog.pg_database_size(d.oid) END AS size_bytes,
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity AS a WHERE a.datid = d.oid)::integer AS connections,
       p.created_at, p.updated_at,
       p.parent_project_id, p.expires_at,
       (SELECT pg_catalog.count(*) FROM claudable.snapshots AS s
         WHERE s.project_id = p.project_id AND s.state = 'ready')::integer AS snapshots,
       (SELECT COALESCE(pg_catalog.sum(s.size_bytes), 0) FROM claudable.snapshots AS s
         WHERE s.project_id = p.project_id AND s.state = 'ready')::bigint AS snapshots_size_bytes
  FROM claudable.projects AS p
  LEFT JOIN pg_catalog.pg_database AS d ON d.datname = p.database_name;
REVOKE ALL ON TABLE claudable.databases FROM PUBLIC;

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
), owned_elsewhere AS MATERIALIZED (
    SELECT o.* FROM claudable.owned_elsewhere() AS o
), pooler AS (
    SELECT u.name, r.oid, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, r.rolbypassrls
      FROM (SELECT claudable.pooler_auth_user() AS name) AS u
      LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname = u.name
     WHERE u.name <> ''
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
    SELECT d.oid, d.datname::text AS name, d.datconnlimit, d.datistemplate, d.datallowconn, d.datdba,
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
SELECT 'error', 'database ' || d.name,
       'refuses every connection (ALLOW_CONNECTIONS false, which its owner may set), so the project''s URL does '
           || 'not work (claudable_reconcile() allows them again)',
       d.project_id, true
  FROM project_databases AS d
 WHERE NOT d.datallowconn
UNION ALL
SELECT 'error', 'database ' || d.name, 'PUBLIC holds ' || a.privilege_type || ' on a managed database', d.project_id, true
  FROM project_databases AS d CROSS JOIN LATERAL pg_catalog.aclexplode(d.acl) AS a
 WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')
UNION ALL
-- Any role but the owner that may connect: another project's, the deploy service, a
-- monitoring role (a grant by the tenant; PUBLIC's is reported on its own).
SELECT 'error', 'role ' || pg_catalog.pg_get_userbyid(a.grantee), 'can connect to database ' || d.name || ' of project ' || d.project_id,
       d.project_id, true
  FROM project_databases AS d CROSS JOIN LATERAL pg_catalog.aclexplode(d.acl) AS a
 WHERE a.privilege_type = 'CONNECT' AND a.grantee <> 0 AND a.grantee <> d.datdba
   AND NOT EXISTS (SELECT 1 FROM pooler AS l WHERE l.oid = a.grantee)  -- PgBouncer's lookup role
UNION ALL
-- Pooled logins (claudable.pooler_auth_user): the role exists with no attribute above a
-- lookup's, and every ready project database grants it CONNECT and has the lookup.
SELECT 'error', 'setting claudable.pooler_auth_user',
       'names role ' || pg_catalog.quote_ident(l.name) || ', which does not exist: new projects are refused (CREATE ROLE '
           || pg_catalog.quote_ident(l.name) || ' LOGIN, README "Pooled URLs")', NULL, false
  FROM pooler AS l WHERE l.oid IS NULL
UNION ALL
SELECT 'error', 'role ' || l.name,
       'is claudable.pooler_auth_user, which PgBouncer logs in as to read verifiers, but has '
           || pg_catalog.array_to_string(ARRAY[
                  CASE WHEN l.rolsuper THEN 'SUPERUSER' END, CASE WHEN l.rolcreatedb THEN 'CREATEDB' END,
                  CASE WHEN l.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN l.rolreplication THEN 'REPLICATION' END,
                  CASE WHEN l.rolbypassrls THEN 'BYPASSRLS' END], ', ')
           || ': new projects are refused until it has none of these',
       NULL, false
  FROM pooler AS l
 WHERE l.rolsuper OR l.rolcreatedb OR l.rolcreaterole OR l.rolreplication OR l.rolbypassrls
UNION ALL
SELECT 'error', 'database ' || d.name,
       'its pooled URL does not log in: the lookup role ' || pg_catalog.quote_ident(l.name)
           || ' may not connect to it (made before claudable.pooler_auth_user was set, or its owner revoked it;'
           || ' claudable_reconcile() prepares it)',
       d.project_id, true
  FROM project_databases AS d CROSS JOIN pooler AS l
 WHERE d.status = 'ready' AND l.oid IS NOT NULL
   AND NOT pg_catalog.has_database_privilege(l.oid, d.oid, 'CONNECT')
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
       'size ' || (pg_catalog.pg_database_size(d.oid) + COALESCE(e.size, 0)) || ' bytes'
           || CASE WHEN e.size > 0 THEN ' (' || e.size || ' of them in other databases)' ELSE '' END
           || ' exceeds claudable.max_database_size ' || l.max_database_size
           || ' (claudable_enforce_quotas() makes it read-only)', d.project_id, false
  FROM project_databases AS d CROSS JOIN limits AS l
  LEFT JOIN (SELECT o.project_id, pg_catalog.sum(o.size_bytes)::bigint AS size FROM owned_elsewhere AS o
              GROUP BY o.project_id) AS e ON e.project_id = d.project_id
 WHERE l.max_database_size > 0 AND d.read_only_since IS NULL
   AND pg_catalog.pg_database_size(d.oid) + COALESCE(e.size, 0) > l.max_database_size
UNION ALL
SELECT 'warning', 'role ' || p.username,
       'owns ' || o.objects || ' objects (' || o.size_bytes || ' bytes) in database ' || o.database_name
           || ', outside its own database: they count toward its size; REVOKE CONNECT, TEMPORARY ON DATABASE '
           || pg_catalog.quote_ident(o.database_name) || ' FROM PUBLIC keeps tenants out of it',
       p.project_id, false
  FROM owned_elsewhere AS o JOIN claudable.projects AS p ON p.project_id = o.project_id
UNION ALL
SELECT 'error', 'database ' || t.name, 'PUBLIC may connect to the database that holds the claudable metadata', NULL, false
  FROM this_database AS t
 WHERE EXISTS (SELECT 1 FROM pg_catalog.aclexplode(t.acl) AS a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')
UNION ALL
-- Every other database a tenant could log in to: postgres and template1 as initdb made
-- them, and any a DBA added. Project databases and spares are reported above and below.
-- The statements named close every grant of it: one granted by a role other than the owner
-- (which held the grant option) is revoked as that role (PostgreSQL 15's REVOKE ... GRANTED BY
-- takes only the current role).
SELECT 'error', 'database ' || d.datname,
       'PUBLIC may connect to database ' || d.datname || ', so every project''s role can log in there ('
           || pg_catalog.string_agg(CASE WHEN a.grantor = d.datdba THEN ''
                                         ELSE 'SET ROLE ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantor)) || '; ' END
                                    || 'REVOKE CONNECT, TEMPORARY ON DATABASE ' || pg_catalog.quote_ident(d.datname) || ' FROM PUBLIC'
                                    || CASE WHEN a.grantor = d.datdba THEN '' ELSE '; RESET ROLE' END,
                                    '; ' ORDER BY a.grantor)
           || ')',
       NULL, false
  FROM pg_catalog.pg_database AS d
 CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
 WHERE d.datallowconn AND d.datname <> pg_catalog.current_database()
   AND a.grantee = 0 AND a.privilege_type = 'CONNECT'
   AND NOT EXISTS (SELECT 1 FROM project_databases AS p WHERE p.oid = d.oid)
   AND NOT EXISTS (SELECT 1 FROM claudable.spares AS s WHERE s.name = d.datname::text)
 GROUP BY d.datname, d.datdba
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
-- Roles that can still read the key and the sealed passwords, or stall every call, past
-- row level security (which stops pg_read_all_data and pg_write_all_data on claudable's
-- tables): what lets them, and so what a DBA revokes.
SELECT 'error', 'role ' || r.rolname::text, w.why, NULL, false
  FROM pg_catalog.pg_roles AS r
  CROSS JOIN LATERAL (
      SELECT CASE
          WHEN r.rolbypassrls THEN
              'has BYPASSRLS, so it reads claudable''s key and sealed passwords if it can read the tables '
              || '(ALTER ROLE ' || pg_catalog.quote_ident(r.rolname) || ' NOBYPASSRLS)'
          WHEN b.rolname IS NOT NULL THEN
              'is a member of ' || pg_catalog.quote_ident(b.rolname) || ', which has BYPASSRLS: it reads claudable''s '
              || 'key and sealed passwords if it can read the tables (REVOKE ' || pg_catalog.quote_ident(b.rolname)
              || ' FROM ' || pg_catalog.quote_ident(r.rolname) || ')'
          WHEN pg_catalog.pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER')
            OR pg_catalog.pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER') THEN
              'can read any file of the server (pg_read_server_files or pg_execute_server_program), the data files '
              || 'and claudable.key_file with the key included (REVOKE that role FROM '
              || pg_catalog.quote_ident(r.rolname) || ')'
          WHEN pg_catalog.pg_has_role(r.oid, 'pg_write_all_data', 'MEMBER') THEN
              'is a member of pg_write_all_data, so it may LOCK claudable''s tables and stall every call '
              || '(REVOKE pg_write_all_data FROM ' || pg_catalog.quote_ident(r.rolname) || ')'
          END AS why
        FROM (SELECT NULL) AS one
        LEFT JOIN LATERAL (SELECT o.rolname FROM pg_catalog.pg_roles AS o
                            WHERE o.rolbypassrls AND NOT o.rolsuper AND o.oid <> r.oid
                              AND pg_catalog.pg_has_role(r.oid, o.oid, 'MEMBER')
                            ORDER BY o.rolname LIMIT 1) AS b ON true) AS w
 WHERE NOT r.rolsuper AND w.why IS NOT NULL AND r.rolname !~ '^pg_'
UNION ALL
-- Snapshots (0.7.0): a copy, restore or drop no worker is finishing; a snapshot whose
-- database is gone; a snapshot's database someone opened (only a superuser can); a
-- database with a snapshot's marker that no row records. Settled by claudable_reconcile()
-- (claudable.settle_snapshots()), not per project.
SELECT 'error', 'snapshot ' || s.snapshot_id,
       'of project ' || s.project_id || ' is stuck in ' || s.state || ' with no worker running (claudable_reconcile() '
           || CASE s.state WHEN 'creating' THEN 'removes the unfinished copy'
                           WHEN 'restoring' THEN 'undoes the unfinished restore: the project keeps its database'
                           ELSE 'finishes dropping it' END || ')',
       NULL, false
  FROM claudable.snapshots AS s
 WHERE s.state <> 'ready'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity AS a
                    WHERE a.pid = s.worker_pid AND a.backend_type = 'claudable provisioner' AND a.state <> 'idle')
UNION ALL
SELECT 'error', 'snapshot ' || s.snapshot_id,
       'of project ' || s.project_id || ' has lost its database ' || s.database_name
           || ' (claudable_reconcile() removes the record)', NULL, false
  FROM claudable.snapshots AS s
 WHERE s.state = 'ready' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datname = s.database_name)
UNION ALL
SELECT 'error', 'database ' || s.database_name,
       'is snapshot ' || s.snapshot_id || ' of project ' || s.project_id || ' but '
           || CASE WHEN d.datallowconn THEN 'allows connections' WHEN d.datistemplate THEN 'is marked as a template'
                   WHEN d.datdba <> e.extowner THEN 'is owned by ' || pg_catalog.pg_get_userbyid(d.datdba)
                   ELSE 'grants CONNECT' END
           || ' (claudable_reconcile() closes it again)', NULL, false
  FROM claudable.snapshots AS s
  JOIN pg_catalog.pg_database AS d ON d.datname = s.database_name
  CROSS JOIN (SELECT x.extowner FROM pg_catalog.pg_extension AS x WHERE x.extname = 'claudable') AS e
 WHERE s.state = 'ready'
   AND (d.datallowconn OR d.datistemplate OR d.datdba <> e.extowner
        OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
                    WHERE a.grantee <> d.datdba AND a.privilege_type = 'CONNECT'))
UNION ALL
SELECT 'warning', 'database ' || d.datname,
       'carries the marker of a snapshot of claudable but no snapshot records it; it may hold data, so a DBA decides',
       NULL, false
  FROM pg_catalog.pg_database AS d
 WHERE pg_catalog.shobj_description(d.oid, 'pg_database')
         ~ ('^(snapshot|restore staging) of claudable project [A-Za-z0-9_~-]+, installation '
            || (SELECT i.id::text FROM claudable.installation AS i) || '$')
   AND NOT EXISTS (SELECT 1 FROM claudable.snapshots AS s
                    WHERE d.datname::text IN (s.database_name, s.staging_database))
UNION ALL
SELECT 'warning', 'project ' || p.project_id,
       'branch of project ' || p.parent_project_id || ' expired at ' || p.expires_at || ' (claudable_reconcile() removes it)',
       p.project_id, false
  FROM claudable.projects AS p
 WHERE p.expires_at <= pg_catalog.now() AND p.status = 'ready'
UNION ALL
SELECT c.severity, c.object, c.problem, c.project_id, c.repairable FROM claudable.credential_findings() AS c
$$;
REVOKE ALL ON FUNCTION claudable.findings() FROM PUBLIC;

-- ---- snapshots, restore and branches (0.7.0) -----------------------------------------
-- Each runs in a background worker, like claudable_provision: autonomous, audited, and
-- finished or undone by claudable_reconcile() after a crash. The deploy role needs only
-- EXECUTE on them; owner_id must be the project's.
CREATE FUNCTION @extschema@.claudable_snapshot(project_id text, owner_id text, label text DEFAULT NULL)
RETURNS claudable.snapshot
AS 'MODULE_PATHNAME', 'claudable_snapshot'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_snapshot(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claudable_snapshot(text, text, text) IS
    'Copies the project''s database as it is now into a snapshot nobody can connect to; returns it.';

CREATE FUNCTION @extschema@.claudable_snapshots(project_id text, owner_id text)
RETURNS SETOF claudable.snapshot
AS 'MODULE_PATHNAME', 'claudable_snapshots'
LANGUAGE C STABLE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_snapshots(text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claudable_snapshots(text, text) IS
    'The project''s snapshots, newest first.';

CREATE FUNCTION @extschema@.claudable_restore(project_id text, owner_id text, snapshot_id text)
RETURNS claudable.provisioned_project
AS 'MODULE_PATHNAME', 'claudable_restore'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_restore(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claudable_restore(text, text, text) IS
    'Puts the snapshot''s contents in the project''s database (same URL); the state before is kept as a snapshot.';

CREATE FUNCTION @extschema@.claudable_drop_snapshot(project_id text, owner_id text, snapshot_id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'claudable_drop_snapshot'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_drop_snapshot(text, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_branch(project_id text, owner_id text, branch_id text,
                                             source text DEFAULT 'current', expires_at timestamptz DEFAULT NULL)
RETURNS claudable.provisioned_project
AS 'MODULE_PATHNAME', 'claudable_branch'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_branch(text, text, text, text, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claudable_branch(text, text, text, text, timestamptz) IS
    'Creates (first call) or returns the branch project_id~branch_id: its own role, password and database, '
    'copied from the project now (''current''), from the template (''empty'') or from a snapshot.';

-- Internal, for claudable_reconcile(): snapshots and restores no worker is finishing are
-- finished or undone (a worker drops what a transaction cannot).
CREATE FUNCTION claudable.settle_snapshots()
RETURNS TABLE (action text, object text, detail text)
AS 'MODULE_PATHNAME', 'claudable_settle_snapshots'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.settle_snapshots() FROM PUBLIC;

-- Completes or cleans up what claudable_check() reports, where that is safe, and
-- returns what it did. A managed database without a metadata row is never dropped:
-- it may hold data, so it is left for a DBA.
CREATE OR REPLACE FUNCTION @extschema@.claudable_reconcile()
RETURNS TABLE (action text, object text, detail text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    finding record;
    project text;
    interrupted_branch boolean;
    pattern text := claudable.marker_pattern();
BEGIN
    -- Snapshots and restores a worker did not finish: finished or undone, never lost.
    FOR finding IN SELECT * FROM claudable.settle_snapshots() LOOP
        action := finding.action; object := finding.object; detail := finding.detail;
        RETURN NEXT;
    END LOOP;

    -- Branches past their expires_at (claudable.branch_ttl) are deprovisioned.
    FOR finding IN
        SELECT p.project_id, p.expires_at FROM claudable.projects AS p
         WHERE p.expires_at <= pg_catalog.now() AND p.status = 'ready' ORDER BY 1
    LOOP
        BEGIN
            PERFORM claudable.repair_project(finding.project_id);
            action := 'removed'; detail := 'branch expired at ' || finding.expires_at;
        EXCEPTION WHEN OTHERS THEN
            action := 'failed'; detail := SQLSTATE || ': ' || SQLERRM;
        END;
        object := 'project ' || finding.project_id;
        RETURN NEXT;
    END LOOP;

    -- Every repairable finding of a recorded project: run its steps again (a project
    -- left in deprovisioning is removed, as was asked; a branch whose creation was
    -- interrupted is removed, and claudable_branch makes it anew).
    FOR project IN
        SELECT DISTINCT f.project_id FROM claudable.findings() AS f
         WHERE f.repairable AND f.project_id IS NOT NULL ORDER BY 1
    LOOP
        interrupted_branch := EXISTS (SELECT 1 FROM claudable.projects AS p WHERE p.project_id = project
                                         AND p.status = 'provisioning' AND p.parent_project_id IS NOT NULL);
        BEGIN
            PERFORM claudable.repair_project(project);
            action := 'repaired'; object := 'project ' || project;
            detail := CASE WHEN EXISTS (SELECT 1 FROM claudable.projects AS p WHERE p.project_id = project)
                           THEN 'role and database exist, are locked down and the project is ready'
                           WHEN interrupted_branch
                           THEN 'the interrupted branch was removed (claudable_branch makes it anew)'
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
REVOKE ALL ON FUNCTION @extschema@.claudable_reconcile() FROM PUBLIC;
