-- Pooled URLs and what a fleet directory or a pooler reads (0.5.0). With claudable.pooler_host
-- set, the row of claudable_provision ends with pooled_database_url: the same role, password
-- and database behind the pooler's host and port. claudable_databases() and
-- claudable_pooler_entries() give a role holding EXECUTE only what it needs; the update from
-- 0.4.0 adds the column without touching the grants on the functions that return it.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
LOAD 'claudable';
CREATE FUNCTION pg_temp.connect(name text, db text) RETURNS text LANGUAGE sql AS $$
    SELECT dblink_connect(name, format('host=%s port=%s dbname=%s user=postgres',
                                       current_setting('unix_socket_directories'), current_setting('port'), db))
$$;
CREATE FUNCTION pg_temp.behind_pooler(url text, host text, port integer) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(url, '@[^@/]+/', format('@%s:%s/', host, port))
$$;

SELECT plan(20);

SELECT is((SELECT pooled_database_url FROM claudable_provision('pool-1', 'owner-pool')), NULL,
    'without claudable.pooler_host the row has no pooled_database_url');
SELECT is((SELECT string_agg(name || ' ' || context || ' ' || boot_val, ', ' ORDER BY name) FROM pg_settings
            WHERE name IN ('claudable.pooler_host', 'claudable.pooler_port')),
    'claudable.pooler_host superuser , claudable.pooler_port superuser 6432',
    'claudable.pooler_host (empty) and claudable.pooler_port (6432) are superuser-only settings');

SET claudable.pooler_host = 'pool.internal';
SET claudable.pooler_port = 6543;
CREATE TEMP TABLE first_row AS SELECT * FROM claudable_provision('pool-2', 'owner-pool');
SELECT is((SELECT pooled_database_url FROM first_row),
          (SELECT pg_temp.behind_pooler(database_url, 'pool.internal', 6543) FROM first_row),
    'a new project''s pooled_database_url is its DATABASE_URL with the pooler''s host and port');
SELECT is((SELECT pooled_database_url FROM claudable_provision('pool-2', 'owner-pool')),
          (SELECT pooled_database_url FROM first_row),
    'a later call returns the same pooled_database_url');
SELECT is((SELECT pooled_database_url FROM claudable_provision('pool-1', 'owner-pool')),
          (SELECT pg_temp.behind_pooler(database_url, 'pool.internal', 6543) FROM claudable_provision('pool-1', 'owner-pool')),
    'a project made before the pooler was set gains one too');
CREATE TEMP TABLE rotated AS SELECT * FROM claudable_rotate_password('pool-2', 'owner-pool');
SELECT ok((SELECT r.pooled_database_url = pg_temp.behind_pooler(r.database_url, 'pool.internal', 6543)
                  AND r.pooled_database_url <> f.pooled_database_url FROM rotated AS r, first_row AS f),
    'claudable_rotate_password returns the pooled_database_url with the new password');
SET claudable.sslmode = 'require';
SELECT ok((SELECT pooled_database_url LIKE '%@pool.internal:6543/%?sslmode=require' FROM claudable_provision('pool-2', 'owner-pool')),
    'it carries claudable.sslmode like DATABASE_URL');
RESET claudable.sslmode;
SET claudable.pooler_host = '';
SELECT is((SELECT pooled_database_url FROM claudable_provision('pool-2', 'owner-pool')), NULL,
    'an empty claudable.pooler_host leaves it out again');
RESET claudable.pooler_host;
RESET claudable.pooler_port;

SELECT ok(NOT has_function_privilege('public', 'public.claudable_databases()', 'EXECUTE')
          AND NOT has_function_privilege('public', 'public.claudable_databases(text)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'public.claudable_pooler_entries()', 'EXECUTE'),
    'PUBLIC may not execute claudable_databases(), claudable_databases(text) or claudable_pooler_entries()');
SELECT is((SELECT count(*) FROM pg_proc
            WHERE oid IN ('public.claudable_databases()'::regprocedure, 'public.claudable_databases(text)'::regprocedure,
                          'public.claudable_pooler_entries()'::regprocedure)
              AND prosecdef AND proconfig = ARRAY['search_path=pg_catalog, pg_temp']),
    3::bigint, 'all three are SECURITY DEFINER with search_path pinned to pg_catalog, pg_temp');
SELECT set_eq('SELECT * FROM claudable_databases()', 'SELECT * FROM claudable.databases',
    'claudable_databases() returns the rows of claudable.databases');
SELECT is((SELECT string_agg(project_id, ',') FROM claudable_databases('pool-2')) || ' '
          || (SELECT count(*) FROM claudable_databases('no-such-project')),
    'pool-2 0', 'claudable_databases(project_id) returns that project''s row only, and none for a project not here');
SELECT is((SELECT count(*) FROM claudable_pooler_entries() AS e
             JOIN pg_authid AS a ON a.rolname = e.username AND a.rolpassword = e.scram_verifier
             JOIN claudable.projects AS p USING (database_name, username, host, port)
            WHERE e.database_name IN (SELECT database_name FROM claudable.projects WHERE project_id LIKE 'pool-%')),
    2::bigint, 'claudable_pooler_entries() gives each ready project''s database, role, host, port and SCRAM verifier');
SELECT is((SELECT count(*) FROM claudable_pooler_entries() AS e, rotated AS r
            WHERE strpos(e.scram_verifier, r.password) > 0 OR e.scram_verifier NOT LIKE 'SCRAM-SHA-256$4096:%'),
    0::bigint, 'it holds SCRAM verifiers, never a password');

-- README's pooler role: it logs in over TCP and may run claudable_pooler_entries() only.
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE ROLE pool_reader LOGIN;
GRANT CONNECT ON DATABASE :"db" TO pool_reader;
GRANT EXECUTE ON FUNCTION claudable_pooler_entries() TO pool_reader;
SELECT database_name AS pool_2_database FROM first_row \gset
CALL pg_temp.connect_as('pooler', 'pool_reader');
SELECT is((SELECT count(*) FROM dblink('pooler', 'SELECT database_name FROM claudable_pooler_entries()') AS t(d text)
            WHERE d = :'pool_2_database'),
    1::bigint, 'a role holding EXECUTE only reads the pooler entries without any access to the schema claudable');
SELECT matches(pg_temp.error_text($$SELECT * FROM dblink('pooler', 'SELECT project_id FROM claudable.databases') AS t(p text)$$),
    '^permission denied for schema claudable', 'while the view itself stays closed to it (42501)');
SELECT matches(pg_temp.error_text($$SELECT * FROM dblink('pooler', 'SELECT project_id FROM claudable_provision(''pool-3'', ''owner-pool'')')
                                                 AS t(p text)$$),
    '^permission denied for function claudable_provision', 'and it may not provision');
SELECT ok(NOT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'pool-3'), 'which created nothing');
SELECT dblink_disconnect('pooler') AS disconnected \gset

-- 0.4.0 -> 0.5.0 -> the current version in a database of its own: the grant on claudable_provision survives.
CREATE DATABASE claudable_pool_upgrade;
SELECT pg_temp.connect('upgrade', 'claudable_pool_upgrade') AS connected \gset
SELECT dblink_exec('upgrade', $$CREATE EXTENSION claudable VERSION '0.4.0'$$) AS installed \gset
SELECT dblink_exec('upgrade', 'GRANT EXECUTE ON FUNCTION claudable_provision(text, text) TO pool_reader') AS granted \gset
SELECT dblink_exec('upgrade', 'ALTER EXTENSION claudable UPDATE') AS updated \gset
SELECT ok((SELECT g FROM dblink('upgrade', $$SELECT has_function_privilege('pool_reader', 'claudable_provision(text,text)', 'EXECUTE')$$) AS t(g boolean)),
    'updating 0.4.0 through 0.5.0 to the current version keeps EXECUTE on claudable_provision granted to the deploy role');
SELECT is((SELECT c FROM dblink('upgrade', $$SET claudable.pooler_host = 'pool.internal';
                                             SELECT pooled_database_url IS NOT NULL AND project_id = 'pool-up'
                                               FROM claudable_provision('pool-up', 'owner-pool')$$) AS t(c boolean)),
    true, 'and the updated function returns the pooled_database_url column');
SELECT * FROM finish();

SELECT d AS removed FROM dblink('upgrade', $$SELECT claudable_deprovision('pool-up', 'owner-pool')$$) AS t(d boolean) \gset
SELECT dblink_disconnect('upgrade') AS disconnected \gset
DROP DATABASE claudable_pool_upgrade;
SELECT bool_and(claudable_deprovision(p, 'owner-pool')) AS removed FROM unnest(ARRAY['pool-1', 'pool-2']) AS p \gset
REVOKE EXECUTE ON FUNCTION claudable_pooler_entries() FROM pool_reader;
REVOKE CONNECT ON DATABASE :"db" FROM pool_reader;
DROP ROLE pool_reader;
