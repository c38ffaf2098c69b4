-- Resource limits: connection limits and role settings applied at creation and reported
-- when they drift; a size quota that claudable_enforce_quotas() enforces and lifts.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

SET claudable.connection_limit = 7;
SET claudable.role_settings = 'statement_timeout=60s, idle_in_transaction_session_timeout = 60s';
CREATE TEMP TABLE limited AS SELECT * FROM claudable_provision('lim-1', 'owner-lim');

SELECT plan(20);

SELECT is((SELECT rolconnlimit FROM pg_roles WHERE rolname = 'app_u_lim_1'), 7,
    'claudable.connection_limit becomes the role''s CONNECTION LIMIT');
SELECT is((SELECT datconnlimit FROM pg_database WHERE datname = 'app_db_lim_1'), 7,
    'and the database''s CONNECTION LIMIT');
SELECT is((SELECT array_agg(c ORDER BY c) FROM pg_db_role_setting s, unnest(s.setconfig) c
            WHERE s.setrole = 'app_u_lim_1'::regrole AND s.setdatabase = 0),
    ARRAY['idle_in_transaction_session_timeout=60s', 'statement_timeout=60s'],
    'claudable.role_settings become the role''s settings');
SELECT throws_ok($$SET claudable.role_settings = 'statement_timeout'$$, '22023', NULL,
    'a role setting without a value is refused');
SELECT throws_ok($$SET claudable.role_settings = 'no_such_setting=1'$$, '22023', NULL,
    'an unknown setting name is refused');
SELECT throws_ok($$SET claudable.role_settings = 'search_path=''x'''$$, '22023', NULL,
    'a value with a quote is refused');
SELECT is((SELECT count(*) FROM claudable_check() WHERE object IN ('role app_u_lim_1', 'database app_db_lim_1')),
    0::bigint, 'a project created with the limits in force has no findings');

ALTER ROLE app_u_lim_1 CONNECTION LIMIT 100;
ALTER ROLE app_u_lim_1 RESET statement_timeout;
ALTER DATABASE app_db_lim_1 CONNECTION LIMIT 100;
SELECT is((SELECT array_agg(problem ORDER BY problem) FROM claudable_check()
            WHERE object IN ('role app_u_lim_1', 'database app_db_lim_1')),
    ARRAY['connection limit 100 differs from claudable.connection_limit 7',
          'connection limit 100 differs from claudable.connection_limit 7',
          'role settings differ from claudable.role_settings'],
    'claudable_check() reports drifted connection limits and role settings');
SELECT is((SELECT action FROM claudable_reconcile() WHERE object = 'project lim-1'), 'repaired',
    'claudable_reconcile() repairs them');
SELECT is(ARRAY[(SELECT rolconnlimit FROM pg_roles WHERE rolname = 'app_u_lim_1'),
                 (SELECT datconnlimit FROM pg_database WHERE datname = 'app_db_lim_1')],
    ARRAY[7, 7], 'the connection limits are back, on the role and on the database');
SELECT is((SELECT count(*) FROM claudable_check() WHERE object IN ('role app_u_lim_1', 'database app_db_lim_1')),
    0::bigint, 'and nothing is reported any more');

-- The quota, 1 MB: every fresh database (about 7 MB) is over it.
SET claudable.max_database_size = '1MB';
SELECT alike((SELECT problem FROM claudable_check() WHERE object = 'database app_db_lim_1'),
    'size % bytes exceeds claudable.max_database_size 1048576 (claudable_enforce_quotas() makes it read-only)',
    'claudable_check() reports a database over claudable.max_database_size');
CREATE TEMP TABLE enforced AS SELECT * FROM claudable_enforce_quotas();
SELECT is((SELECT action || ' ' || limit_bytes FROM enforced WHERE project_id = 'lim-1'), 'made read-only 1048576',
    'claudable_enforce_quotas() makes it read-only and says so');
SELECT is((SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) c
            WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = 'app_db_lim_1') AND s.setrole = 0
              AND c = 'default_transaction_read_only=on'),
    1::bigint, 'by setting default_transaction_read_only on the database');
SELECT dblink_connect('app', (SELECT database_url FROM limited)) AS app_connected \gset
SELECT is(pg_temp.sqlstate_of($$SELECT dblink_exec('app', 'CREATE TABLE t (x int)')$$), '25006'::text,
    'a new session of the app cannot write');
SELECT dblink_disconnect('app') AS app_disconnected \gset
SELECT is((SELECT count(*) FROM claudable_enforce_quotas() WHERE project_id = 'lim-1'), 0::bigint,
    'enforcing again changes nothing');

RESET claudable.max_database_size;
SELECT is((SELECT action FROM claudable_enforce_quotas() WHERE project_id = 'lim-1'), 'made writable',
    'without the quota it is made writable again');
SELECT is((SELECT count(*) FROM pg_db_role_setting s
            WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = 'app_db_lim_1') AND s.setrole = 0),
    0::bigint, 'the read-only setting is gone');
SELECT is((SELECT count(*) FROM claudable.events WHERE project_id = 'lim-1' AND action = 'enforce_quota'),
    2::bigint, 'both changes are recorded in claudable.events');
SELECT is((SELECT read_only_since FROM claudable.projects WHERE project_id = 'lim-1'), NULL,
    'and the project is no longer marked read-only');

SELECT * FROM finish();
RESET claudable.connection_limit;
RESET claudable.role_settings;
SELECT claudable_deprovision('lim-1', 'owner-lim') AS removed \gset
-- The reconcile above applied this session's limits to every project in the database;
-- bring them all back to the defaults the other suites expect.
SELECT count(*) AS brought_back FROM claudable_reconcile() \gset
