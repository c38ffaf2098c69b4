-- The returned DATABASE_URL logs in over TCP with SCRAM; calls are autonomous like CREATE DATABASE.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

SELECT plan(9);

-- Something that exists in template1 but not in template0.
SELECT dblink_exec(format('host=%s dbname=template1 port=%s user=postgres', current_setting('unix_socket_directories'), current_setting('port')),
                   'CREATE TABLE public.only_in_template1 (x int)') AS created_marker \gset

CREATE TEMP TABLE app_a AS SELECT * FROM claudable_provision('login-a', 'owner-l');
CREATE TEMP TABLE app_b AS SELECT * FROM claudable_provision('login-b', 'owner-l');

SELECT is(dblink_connect('app_a', (SELECT database_url FROM app_a)), 'OK',
    'the database_url logs in over TCP (SCRAM-SHA-256)');
SELECT is((SELECT u || '@' || d FROM dblink('app_a', 'SELECT current_user, current_database()')
             AS t(u name, d name)),
    'app_u_login_a@app_db_login_a', 'as the project''s role, in the project''s database');
SELECT is(dblink_exec('app_a', 'CREATE TABLE notes (id int PRIMARY KEY, body text)'), 'CREATE TABLE',
    'the project''s role can create a table in its database');
SELECT is(dblink_exec('app_a', $$INSERT INTO notes VALUES (1, 'hello')$$), 'INSERT 0 1',
    'and write to it');
SELECT is((SELECT body FROM dblink('app_a', 'SELECT body FROM notes WHERE id = 1') AS t(body text)), 'hello',
    'and read it back');
SELECT is((SELECT t FROM dblink('app_a', $$SELECT to_regclass('public.only_in_template1')::text$$) AS r(t text)),
    NULL, 'the database is a copy of template0, not template1, by default');
SELECT dblink_disconnect('app_a') IS NOT NULL AS disconnected \gset

SELECT is(pg_temp.login_refusal((SELECT format('postgresql://%s:%s@%s:%s/%s', a.username, a.password, a.host, a.port, b.database_name)
                                     FROM app_a a, app_b b)),
    'app_u_login_a@app_db_login_b FATAL:  42501: permission denied for database "app_db_login_b"',
    'one project''s credentials are refused by another project''s database: the server''s FATAL, 42501');

BEGIN;
SELECT created AS created_in_rolled_back_transaction FROM claudable_provision('autonomous', 'owner-l') \gset
ROLLBACK;
SELECT ok(:'created_in_rolled_back_transaction'::boolean
          AND EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_autonomous'),
    'a ROLLBACK of the caller''s transaction does not undo the provisioned database');
SELECT is((SELECT created FROM claudable_provision('autonomous', 'owner-l')), false,
    'and a retry simply returns it');

SELECT * FROM finish();
SELECT dblink_exec(format('host=%s dbname=template1 port=%s user=postgres', current_setting('unix_socket_directories'), current_setting('port')),
                   'DROP TABLE public.only_in_template1') AS dropped_marker \gset
