-- A template that PUBLIC can connect to, or that carries claudable itself, is refused;
-- claudable_check() reports what exposes the metadata.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

CREATE DATABASE claudable_tmpl_public;
CREATE DATABASE claudable_tmpl_with_ext;
REVOKE CONNECT ON DATABASE claudable_tmpl_with_ext FROM PUBLIC;
SELECT dblink_exec(format('host=%s port=%s dbname=claudable_tmpl_with_ext user=postgres',
                          current_setting('unix_socket_directories'), current_setting('port')),
                   'CREATE EXTENSION claudable') AS installed \gset
CREATE DATABASE claudable_tmpl_clean;
REVOKE CONNECT ON DATABASE claudable_tmpl_clean FROM PUBLIC;

SELECT plan(24);

SET claudable.template = 'claudable_tmpl_public';
SELECT throws_ok($$SELECT claudable_provision('tmpl-1', 'owner-t')$$, '55000',
    'claudable: template database "claudable_tmpl_public" can be connected to by PUBLIC',
    'a template PUBLIC can connect to is refused');
SET claudable.template = 'claudable_tmpl_with_ext';
SELECT throws_ok($$SELECT claudable_provision('tmpl-1', 'owner-t')$$, '55000',
    'claudable: template database "claudable_tmpl_with_ext" contains the claudable extension',
    'a template that contains the claudable extension is refused');
SELECT ok(NOT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'tmpl-1')
          AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_tmpl_1'),
    'refused templates leave nothing behind');
SET claudable.template = 'claudable_tmpl_clean';
SELECT is((SELECT created FROM claudable_provision('tmpl-1', 'owner-t')), true,
    'a template nobody else can connect to and without claudable is used');
RESET claudable.template;

SELECT is((SELECT problem FROM claudable_check() WHERE object = 'database claudable_tmpl_public'),
    'PUBLIC may connect to database claudable_tmpl_public, so every project''s role can log in there'
        || ' (REVOKE CONNECT, TEMPORARY ON DATABASE claudable_tmpl_public FROM PUBLIC)',
    'a database a DBA added that PUBLIC may connect to is reported, with the statement that closes it');
REVOKE CONNECT ON DATABASE claudable_tmpl_public FROM PUBLIC;
SELECT is((SELECT count(*) FROM claudable_check()), 0::bigint,
    'a hardened cluster with healthy projects has no findings');

GRANT CONNECT ON DATABASE contrib_regression TO PUBLIC;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'database contrib_regression'),
    'PUBLIC may connect to the database that holds the claudable metadata',
    'PUBLIC holding CONNECT on the metadata database is reported');
SELECT ok(EXISTS (SELECT 1 FROM claudable_check()
                   WHERE object = 'role app_u_tmpl_1' AND problem = 'a project role can reach the claudable metadata'),
    'and so is every project role, which can now connect to it');
REVOKE CONNECT ON DATABASE contrib_regression FROM PUBLIC;

GRANT CONNECT ON DATABASE template1 TO PUBLIC;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'database template1'),
    'PUBLIC may connect to database template1, so every project''s role can log in there'
        || ' (REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC)',
    'PUBLIC holding CONNECT on template1 is reported');
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
GRANT CONNECT ON DATABASE postgres TO PUBLIC;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'database postgres'),
    'PUBLIC may connect to database postgres, so every project''s role can log in there'
        || ' (REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC)',
    'PUBLIC holding CONNECT on postgres (as initdb leaves it) is reported');
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
ALTER DATABASE claudable_tmpl_public ALLOW_CONNECTIONS false;
GRANT CONNECT ON DATABASE claudable_tmpl_public TO PUBLIC;
SELECT is((SELECT count(*) FROM claudable_check() WHERE object = 'database claudable_tmpl_public'), 0::bigint,
    'a database nobody may connect to (ALLOW_CONNECTIONS false, like template0) is not reported');
REVOKE CONNECT ON DATABASE claudable_tmpl_public FROM PUBLIC;

GRANT EXECUTE ON FUNCTION claudable_provision(text, text) TO PUBLIC;
SELECT is((SELECT object || ': ' || problem FROM claudable_check() WHERE object LIKE 'function %'),
    'function public.claudable_provision(text,text): PUBLIC may execute a claudable function',
    'a claudable function executable by PUBLIC is reported');
REVOKE EXECUTE ON FUNCTION claudable_provision(text, text) FROM PUBLIC;

GRANT USAGE ON SCHEMA claudable TO app_u_tmpl_1;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'role app_u_tmpl_1'),
    'a project role can reach the claudable metadata', 'a project role with USAGE on schema claudable is reported');
REVOKE USAGE ON SCHEMA claudable FROM app_u_tmpl_1;
GRANT CONNECT ON DATABASE contrib_regression TO app_u_tmpl_1;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'role app_u_tmpl_1'),
    'a project role can reach the claudable metadata', 'a project role that may connect to the metadata database is reported');
REVOKE CONNECT ON DATABASE contrib_regression FROM app_u_tmpl_1;

-- PUBLIC's CONNECT granted by a role that held the grant option: the finding's statement
-- names that grantor, and run as printed it closes the database.
ALTER DATABASE claudable_tmpl_public ALLOW_CONNECTIONS true;
CREATE ROLE tmpl_dba NOLOGIN;
GRANT CONNECT ON DATABASE claudable_tmpl_public TO tmpl_dba WITH GRANT OPTION;
SET ROLE tmpl_dba;
GRANT CONNECT ON DATABASE claudable_tmpl_public TO PUBLIC;
RESET ROLE;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'database claudable_tmpl_public'),
    'PUBLIC may connect to database claudable_tmpl_public, so every project''s role can log in there'
        || ' (SET ROLE tmpl_dba; REVOKE CONNECT, TEMPORARY ON DATABASE claudable_tmpl_public FROM PUBLIC; RESET ROLE)',
    'PUBLIC''s CONNECT granted by another grantor is reported with the REVOKE, run as that grantor, that closes it');
DO $$ BEGIN
    EXECUTE (SELECT substring(problem FROM '\(((SET ROLE [^;]*; )?REVOKE [^)]*)\)$') FROM claudable_check()
              WHERE object = 'database claudable_tmpl_public');
END $$;
SELECT is((SELECT count(*) FROM claudable_check() WHERE object = 'database claudable_tmpl_public'), 0::bigint,
    'and that statement, run as printed, closes it');
REVOKE CONNECT ON DATABASE claudable_tmpl_public FROM tmpl_dba CASCADE;
DROP ROLE tmpl_dba;

-- The tenant gives CONNECT on its own database to a role that is no project's (as it may,
-- being the owner): reported, and reconcile takes it back.
CREATE ROLE tmpl_outsider NOLOGIN;
SELECT dblink_exec((SELECT database_url FROM claudable_provision('tmpl-1', 'owner-t')),
                   'GRANT CONNECT ON DATABASE app_db_tmpl_1 TO tmpl_outsider') AS granted \gset
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'role tmpl_outsider'),
    'can connect to database app_db_tmpl_1 of project tmpl-1',
    'a tenant''s CONNECT grant to a role that is no project''s is reported');
SELECT is((SELECT action FROM claudable_reconcile() WHERE object = 'project tmpl-1'), 'repaired',
    'claudable_reconcile() repairs the project');
SELECT ok(NOT has_database_privilege('tmpl_outsider', 'app_db_tmpl_1', 'CONNECT'), 'and the grant is gone');
DROP ROLE tmpl_outsider;

SELECT is((SELECT count(*) FROM claudable_check()), 0::bigint, 'with every grant revoked, nothing is reported');
SELECT is((SELECT count(*) FROM claudable_reconcile() WHERE action = 'repaired'), 0::bigint,
    'and claudable_reconcile() has nothing to repair');

-- claudable_check()'s security findings are reports for a DBA: reconcile changes no grant.
GRANT CONNECT ON DATABASE template1 TO PUBLIC;
SELECT is((SELECT count(*) FROM claudable_reconcile()), 0::bigint,
    'claudable_reconcile() does not touch grants outside the projects');
SELECT is((SELECT count(*) FROM claudable_check() WHERE object = 'database template1'), 1::bigint,
    'so the finding stays until a DBA acts');
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SELECT is((SELECT count(*) FROM claudable.events WHERE project_id = 'tmpl-1' AND action = 'provision' AND outcome = 'succeeded'),
    1::bigint, 'the project made from the clean template is recorded');

SELECT * FROM finish();
SELECT claudable_deprovision('tmpl-1', 'owner-t') AS removed \gset
DROP DATABASE claudable_tmpl_public;
DROP DATABASE claudable_tmpl_with_ext;
DROP DATABASE claudable_tmpl_clean;
