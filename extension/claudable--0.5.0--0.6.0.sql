-- claudable 0.5.0 -> 0.6.0: claudable_check() reports every database PUBLIC may connect to
-- (postgres, template1, any other), and claudable_move_host() moves the recorded projects
-- to a new server address; claudable_pooler_entries() exports only verifiers claudable wrote; a spare
-- whose role was granted anything anywhere is not intact; row level security keeps
-- pg_read_all_data and pg_write_all_data out of claudable's tables; a call that began
-- before a fleet directory was told the project is not here creates nothing.
-- The Makefile builds claudable--0.5.0--0.6.0.sql from this file: each "include" line
-- becomes the section of claudable.sql it names, so every definition is written once.
\echo Use "ALTER EXTENSION claudable UPDATE TO '0.6.0'" to load this file. \quit

-- A project's host and port are recorded when it is created, so that every call returns the
-- same URL. When the server's address changes, a superuser moves the recorded projects to
-- it in one statement: each project moved is audited (move_host), and nothing else changes.
CREATE FUNCTION @extschema@.claudable_move_host(old_host text, new_host text, new_port integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'claudable_move_host'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.claudable_move_host(text, text, integer) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claudable_move_host(text, text, integer) IS
    'Superuser: records new_host (and new_port) for every project recorded with old_host; returns how many moved.';

-- What each project's role owns in databases other than its own (a tenant may connect to
-- any database PUBLIC may, and create tables or large objects there): counted toward its
-- size by claudable_enforce_quotas() and reported by claudable_check(). One worker per
-- database that holds such objects (pg_shdepend says which); none when there are none.
CREATE FUNCTION claudable.owned_elsewhere()
RETURNS TABLE (project_id text, database_name text, objects bigint, size_bytes bigint)
AS 'MODULE_PATHNAME', 'claudable_owned_elsewhere'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.owned_elsewhere() FROM PUBLIC;

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
        SELECT pr.project_id, pr.owner_id, pr.database_name, pr.read_only_since, COALESCE(e.size, 0) AS elsewhere,
               EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting AS s
                        WHERE s.setdatabase = d.oid AND s.setrole = 0
                          AND 'default_transaction_read_only=on' = ANY (s.setconfig)) AS read_only_set
          FROM claudable.projects AS pr
          JOIN pg_catalog.pg_database AS d ON d.datname = pr.database_name
          JOIN pg_catalog.pg_roles AS r ON r.oid = d.datdba AND r.rolname = pr.username
          LEFT JOIN (SELECT o.project_id, pg_catalog.sum(o.size_bytes)::bigint AS size
                       FROM claudable.owned_elsewhere() AS o GROUP BY o.project_id) AS e ON e.project_id = pr.project_id
         WHERE pr.status = 'ready'
         ORDER BY pr.project_id
    LOOP
        -- What the role owns in other databases (postgres, if PUBLIC may connect) counts too.
        size := pg_catalog.pg_database_size(p.database_name) + p.elsewhere;
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
SELECT c.severity, c.object, c.problem, c.project_id, c.repairable FROM claudable.credential_findings() AS c
$$;
REVOKE ALL ON FUNCTION claudable.findings() FROM PUBLIC;

-- The roles whose SCRAM verifier is the one claudable wrote for the stored password. A tenant
-- may set its own verifier (any rounds, any salt): that one is never exported, and telling
-- it apart costs no more than claudable's own 4096 rounds (crypto/scram.hpp).
CREATE FUNCTION claudable.written_verifiers()
RETURNS TABLE (username text, scram_verifier text)
AS 'MODULE_PATHNAME', 'claudable_written_verifiers'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION claudable.written_verifiers() FROM PUBLIC;

-- A connection pooler in front of this server needs each ready project's database, role
-- and SCRAM verifier (never a password): with the verifier the pooler checks a client's
-- proof, and SCRAM pass-through logs it in to this server. A project whose role carries a
-- verifier claudable did not write is left out: claudable_check() reports it, and
-- claudable_reconcile() puts claudable's back.
CREATE OR REPLACE FUNCTION @extschema@.claudable_pooler_entries()
RETURNS TABLE (database_name text, username text, host text, port integer, scram_verifier text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p.database_name, p.username, p.host, p.port, v.scram_verifier
  FROM claudable.projects AS p
  JOIN claudable.written_verifiers() AS v ON v.username OPERATOR(pg_catalog.=) p.username
  JOIN pg_catalog.pg_authid AS a ON a.rolname OPERATOR(pg_catalog.=) p.username
 WHERE p.status OPERATOR(pg_catalog.=) 'ready' AND a.rolcanlogin
 ORDER BY p.database_name
$$;
COMMENT ON FUNCTION @extschema@.claudable_pooler_entries() IS
    'Each ready project''s database, role, host, port and the SCRAM verifier claudable wrote, for a connection pooler''s configuration.';
REVOKE ALL ON FUNCTION @extschema@.claudable_pooler_entries() FROM PUBLIC;

-- Every recorded spare: does it fit the template (same name, same database: a template
-- dropped and made again is another), and is it intact (nobody can log in as its role or
-- connect to its database, both carry the spare marker, nothing was granted or set on
-- them, and its role holds nothing anywhere: a tenant may grant what it owns to a spare's
-- role, which pg_shdepend records in the tenant's database). Only a ready spare that fits
-- and is intact is ever claimed; the refill retires the others. The one definition the
-- C++ code and claudable_check() share.
CREATE OR REPLACE FUNCTION claudable.spare_pool(template_name text)
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
                                 WHERE rs.setrole = r.oid OR rs.setdatabase = d.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_shdepend AS sd
                                 WHERE sd.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
                                   AND sd.refobjid = r.oid
                                   AND NOT (sd.deptype = 'o' AND sd.dbid = 0 AND sd.objid = d.oid
                                            AND sd.classid = 'pg_catalog.pg_database'::pg_catalog.regclass)), false)
  FROM claudable.spares AS s
  CROSS JOIN (SELECT claudable.spare_marker() AS marker) AS m
  LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname = s.name
  LEFT JOIN pg_catalog.pg_database AS d ON d.datname = s.name
$$;
REVOKE ALL ON FUNCTION claudable.spare_pool(text) FROM PUBLIC;

-- A fleet directory's first call for a project asks each server whether it holds it
-- (claudable_databases(project_id)). A server that answers "no" remembers when: a call for
-- that project that began before the answer (its caller cancelled, timed out or went away
-- while the worker was queued, and the directory may now place the project elsewhere)
-- creates nothing here. Microseconds of the server's clock since 2000-01-01, as the calls
-- carry them; rows older than an hour, far past any queued call, are pruned.
CREATE TABLE claudable.absent_lookups (
    project_id   text   PRIMARY KEY,
    looked_up_at bigint NOT NULL
);
REVOKE ALL ON TABLE claudable.absent_lookups FROM PUBLIC;

-- One project's row (none if this server does not hold it), without measuring every other
-- database. It waits for a reservation being made at this moment (claudable.provisioning_lock),
-- so "none" holds: no call that began before it will create the project afterwards.
CREATE OR REPLACE FUNCTION @extschema@.claudable_databases(project_id text)
RETURNS SETOF claudable.databases
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_us bigint;
BEGIN
    IF pg_catalog.pg_is_in_recovery() THEN  -- a standby creates nothing
        RETURN QUERY SELECT d.* FROM claudable.databases AS d WHERE d.project_id OPERATOR(pg_catalog.=) $1;
        RETURN;
    END IF;
    PERFORM 1 FROM claudable.provisioning_lock FOR SHARE;
    RETURN QUERY SELECT d.* FROM claudable.databases AS d WHERE d.project_id OPERATOR(pg_catalog.=) $1;
    IF NOT FOUND THEN
        now_us := ((EXTRACT(epoch FROM pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.-) 946684800)
                   OPERATOR(pg_catalog.*) 1000000)::bigint;
        INSERT INTO claudable.absent_lookups AS l (project_id, looked_up_at) VALUES ($1, now_us)
            ON CONFLICT ON CONSTRAINT absent_lookups_pkey DO UPDATE SET looked_up_at = EXCLUDED.looked_up_at;
        DELETE FROM claudable.absent_lookups AS l
         WHERE l.looked_up_at OPERATOR(pg_catalog.<) (now_us OPERATOR(pg_catalog.-) 3600000000);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.claudable_databases(text) IS
    'The row of claudable.databases for one project, if this server holds it; a fleet directory asks this before it places a project.';
REVOKE ALL ON FUNCTION @extschema@.claudable_databases(text) FROM PUBLIC;

-- Refusals of one actor for one project and action within a minute of the first are one
-- event: repeats counts them, last_at is the latest (NULL for a single one).
ALTER TABLE claudable.events ADD COLUMN repeats bigint NOT NULL DEFAULT 1, ADD COLUMN last_at timestamptz;

-- Row level security with no policy on every table of claudable: the extension's owner (a
-- superuser) and the functions that run as it see every row; pg_read_all_data and
-- pg_write_all_data, which hold SELECT and INSERT/UPDATE/DELETE on every table, see and
-- change none: not the key, not a sealed password, not a host, not the audit trail.
-- claudable_check() reports the roles that could still get past it.
ALTER TABLE claudable.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE claudable.installation ENABLE ROW LEVEL SECURITY;
ALTER TABLE claudable.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE claudable.key_ring ENABLE ROW LEVEL SECURITY;
ALTER TABLE claudable.key_material ENABLE ROW LEVEL SECURITY;
ALTER TABLE claudable.provisioning_lock ENABLE ROW LEVEL SECURITY;
ALTER TABLE claudable.spares ENABLE ROW LEVEL SECURITY;
ALTER TABLE claudable.absent_lookups ENABLE ROW LEVEL SECURITY;
