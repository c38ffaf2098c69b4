-- claudable_check() reports what is wrong; claudable_reconcile() fixes what is safe to fix.
\i sql/include/setup.psql

CREATE TEMP TABLE healthy AS SELECT * FROM claudable_provision('rec-healthy', 'owner-rec');
CREATE TEMP TABLE drifted AS SELECT * FROM claudable_provision('rec-drift', 'owner-rec');
CREATE TEMP TABLE opened AS SELECT * FROM claudable_provision('rec-public', 'owner-rec');
CREATE TEMP TABLE dropped AS SELECT * FROM claudable_provision('rec-dropped', 'owner-rec');
CREATE TEMP TABLE stuck AS SELECT * FROM claudable_provision('rec-stuck', 'owner-rec');
-- Objects that carry this metadata database's marker but have no row.
CREATE ROLE app_u_rec_orphan NOLOGIN;
DO $$ BEGIN
    EXECUTE format('COMMENT ON ROLE app_u_rec_orphan IS %L',
                   'managed by claudable: project rec-orphan, installation ' || (SELECT id FROM claudable.installation));
END $$;
CREATE ROLE rec_orphan_owner NOLOGIN;
CREATE DATABASE app_db_rec_orphan_db OWNER rec_orphan_owner;
REVOKE CONNECT, TEMPORARY ON DATABASE app_db_rec_orphan_db FROM PUBLIC;  -- as claudable leaves its databases
DO $$ BEGIN
    EXECUTE format('COMMENT ON DATABASE app_db_rec_orphan_db IS %L',
                   'managed by claudable: project rec-orphan-db, installation ' || (SELECT id FROM claudable.installation));
END $$;

CREATE TEMP TABLE problems_before AS SELECT * FROM claudable_check();

SELECT plan(22);

SELECT is((SELECT count(*) FROM problems_before
            WHERE object NOT IN ('role app_u_rec_orphan', 'database app_db_rec_orphan_db')),
    0::bigint, 'claudable_check() reports nothing about healthy projects');
SELECT is((SELECT severity || ': ' || problem FROM problems_before WHERE object = 'role app_u_rec_orphan'),
    'warning: marked as managed by claudable for project rec-orphan, which has no metadata row',
    'it reports a role marked as ours that has no row');
SELECT is((SELECT severity || ': ' || problem FROM problems_before WHERE object = 'database app_db_rec_orphan_db'),
    'warning: marked as managed by claudable for project rec-orphan-db, which has no metadata row',
    'it reports a database marked as ours that has no row');

-- Damage, one kind per project.
ALTER ROLE app_u_rec_drift SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS;
GRANT CONNECT ON DATABASE app_db_rec_public TO PUBLIC;
DROP DATABASE app_db_rec_dropped;
DROP ROLE app_u_rec_dropped;
UPDATE claudable.projects SET status = 'provisioning' WHERE project_id = 'rec-stuck';
CREATE TEMP TABLE problems AS SELECT * FROM claudable_check();

SELECT is((SELECT problem FROM problems WHERE object = 'role app_u_rec_drift' AND problem LIKE 'managed role%'),
    'managed role has drifted: SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS',
    'it reports a managed role whose attributes drifted');
SELECT is((SELECT problem FROM problems WHERE object = 'database app_db_rec_public'),
    'PUBLIC holds CONNECT on a managed database',
    'it reports PUBLIC holding CONNECT on a managed database');
SELECT is((SELECT problem FROM problems WHERE object = 'database app_db_rec_dropped'),
    'project rec-dropped is ready but its database is missing',
    'it reports a ready project whose database is missing');
SELECT is((SELECT problem FROM problems WHERE object = 'role app_u_rec_dropped'),
    'project rec-dropped is ready but its role is missing',
    'it reports a ready project whose role is missing');
SELECT is((SELECT problem FROM problems WHERE object = 'project rec-stuck'),
    'stuck in provisioning with no worker running (claudable_reconcile() completes it)',
    'it reports a row stuck in provisioning with no worker running');
SELECT ok(NOT EXISTS (SELECT 1 FROM problems p, healthy h, drifted d, opened o, dropped x, stuck s
                       WHERE position(h.password IN p.object || p.problem) > 0
                          OR position(d.password IN p.object || p.problem) > 0
                          OR position(o.password IN p.object || p.problem) > 0
                          OR position(x.password IN p.object || p.problem) > 0
                          OR position(s.password IN p.object || p.problem) > 0),
    'no reported problem contains a password');

CREATE TEMP TABLE actions AS SELECT * FROM claudable_reconcile();

SELECT is((SELECT array_agg(object ORDER BY object) FROM actions WHERE action = 'repaired'),
    ARRAY['project rec-drift', 'project rec-dropped', 'project rec-public', 'project rec-stuck'],
    'claudable_reconcile() repairs each damaged project and says so');
SELECT is((SELECT ARRAY[rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls]
             FROM pg_roles WHERE rolname = 'app_u_rec_drift'),
    ARRAY[false, false, false, false, false], 'the drifted attributes are reset');
SELECT is((SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a
            WHERE d.datname = 'app_db_rec_public' AND a.grantee = 0), 0::bigint,
    'PUBLIC''s CONNECT is revoked again');
SELECT ok(EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_rec_dropped')
          AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_rec_dropped'),
    'the missing role and database are created again');
SELECT is((SELECT status FROM claudable.projects WHERE project_id = 'rec-stuck'), 'ready',
    'the stuck project is completed');
SELECT ok((SELECT s.password = r.password FROM stuck s, claudable_provision('rec-stuck', 'owner-rec') r),
    'a repaired project keeps its password');
SELECT is((SELECT action || ': ' || detail FROM actions WHERE object = 'role app_u_rec_orphan'),
    'dropped: orphan of project rec-orphan with no database',
    'an orphan role that owns no database is dropped');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_rec_orphan'), 'and is gone');
SELECT is((SELECT action FROM actions WHERE object = 'database app_db_rec_orphan_db'), 'left',
    'an orphan database is left for a DBA, because it may hold data');
SELECT ok(EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_rec_orphan_db'), 'and still exists');
SELECT is((SELECT array_agg(object) FROM claudable_check()), ARRAY['database app_db_rec_orphan_db'],
    'afterwards claudable_check() reports only what was left for a DBA');

SELECT ok(NOT has_function_privilege('public', 'claudable_check()', 'EXECUTE')
          AND NOT has_function_privilege('public', 'claudable_reconcile()', 'EXECUTE'),
    'PUBLIC may execute neither claudable_check nor claudable_reconcile');
-- README's monitoring role: it logs in over TCP, and may connect and run the check.
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE ROLE rec_monitor LOGIN;
GRANT CONNECT ON DATABASE :"db" TO rec_monitor;
GRANT EXECUTE ON FUNCTION claudable_check() TO rec_monitor;
CALL pg_temp.connect_as('monitor', 'rec_monitor');
SELECT is((SELECT n FROM dblink('monitor', 'SELECT count(*) FROM claudable_check()') AS t(n bigint)), 1::bigint,
    'a role granted EXECUTE on claudable_check() can run it');
SELECT dblink_disconnect('monitor') AS disconnected \gset

SELECT * FROM finish();

DROP DATABASE app_db_rec_orphan_db;
DROP ROLE rec_orphan_owner;
REVOKE CONNECT ON DATABASE :"db" FROM rec_monitor;
DROP OWNED BY rec_monitor;
DROP ROLE rec_monitor;
