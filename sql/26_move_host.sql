-- claudable_move_host(old_host, new_host, new_port): when the server's address changes, a
-- superuser moves the projects recorded with the old host to the new one, in the caller's
-- transaction, each move audited; nobody else may, and bad input changes nothing.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

SET claudable.host = 'old.example';  -- earlier suites left projects at localhost
CREATE TEMP TABLE before_move AS
    SELECT * FROM claudable_provision('move-1', 'owner-move')
    UNION ALL SELECT * FROM claudable_provision('move-2', 'owner-move');
SET claudable.host = 'other.example';
CREATE TEMP TABLE elsewhere AS SELECT * FROM claudable_provision('move-other', 'owner-move');
RESET claudable.host;
CREATE FUNCTION pg_temp.hosts() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(project_id || '=' || host || ':' || port, ',' ORDER BY project_id)
      FROM claudable.projects WHERE project_id LIKE 'move-%'
$$;
SELECT pg_temp.hosts() AS hosts_before \gset
SELECT current_setting('port') AS port \gset

SELECT plan(20);

SELECT ok(NOT has_function_privilege('public', 'claudable_move_host(text, text, integer)', 'EXECUTE'),
    'PUBLIC may not execute claudable_move_host');
SELECT is((SELECT prosecdef::text || ' ' || array_to_string(proconfig, ',') FROM pg_proc
            WHERE oid = 'claudable_move_host(text, text, integer)'::regprocedure),
    'false search_path=pg_catalog, pg_temp', 'it is not SECURITY DEFINER, and its search_path is pinned');

-- A role that was granted EXECUTE and logs in is still refused: the move is a superuser's.
CREATE ROLE move_probe LOGIN;
GRANT CONNECT ON DATABASE :"db" TO move_probe;
GRANT EXECUTE ON FUNCTION claudable_move_host(text, text, integer) TO move_probe;
CALL pg_temp.connect_as('probe', 'move_probe');
SELECT is(pg_temp.error_text($$SELECT * FROM dblink('probe', 'SELECT claudable_move_host(''old.example'', ''evil.example'')')
                                                AS t(n integer)$$),
    'claudable: only a superuser may call claudable_move_host: it changes every moved project''s DATABASE_URL',
    'a non-superuser with EXECUTE is refused');
SELECT dblink_disconnect('probe') AS disconnected \gset
SELECT is(pg_temp.hosts(), :'hosts_before', 'and nothing moved');

SELECT throws_ok($$SELECT claudable_move_host('old.example', '')$$, '22023',
    'claudable: new_host is not a host name or IP address', 'an empty new host is refused (22023)');
SELECT throws_ok($$SELECT claudable_move_host('old.example', 'db.example.com:5432')$$, '22023',
    'claudable: new_host is not a host name or IP address', 'a host with a port is refused');
SELECT throws_ok($$SELECT claudable_move_host('old.example', 'user@evil.example')$$, '22023',
    'claudable: new_host is not a host name or IP address', 'a host with an @ is refused');
SELECT throws_ok($$SELECT claudable_move_host('old.example', NULL)$$, '22023',
    'claudable: new_host is not a host name or IP address', 'a NULL new host is refused');
SELECT throws_ok($$SELECT claudable_move_host(NULL, 'db.moved.example')$$, '22023',
    'claudable: old_host must not be empty', 'a NULL old host is refused');
SELECT throws_ok($$SELECT claudable_move_host('old.example', 'db.moved.example', 70000)$$, '22023',
    'claudable: new_port must be between 1 and 65535', 'a port out of range is refused');
SELECT is(pg_temp.hosts() || ' ' || (SELECT count(*) FROM claudable.events WHERE action = 'move_host'),
    :'hosts_before' || ' 0', 'the refused calls moved nothing and recorded nothing');

BEGIN;
SELECT claudable_move_host('old.example', 'db.rolled-back.example') AS moved_in_transaction \gset
ROLLBACK;
SELECT is(pg_temp.hosts() || ' ' || (SELECT count(*) FROM claudable.events WHERE action = 'move_host'),
    :'hosts_before' || ' 0', 'the move is part of the caller''s transaction: a ROLLBACK undoes it and its events');

SELECT is(claudable_move_host('old.example', 'db.moved.example'), 2,
    'it moves the projects recorded with the old host and returns how many');
SELECT is(pg_temp.hosts(), format('move-1=db.moved.example:%s,move-2=db.moved.example:%s,move-other=other.example:%s',
                                  :'port', :'port', :'port'),
    'their host changes, their port stays, and a project recorded with another host is left alone');
SELECT ok((SELECT p.database_url = replace(b.database_url, '@old.example:', '@db.moved.example:') AND p.password = b.password
             AND NOT p.created
             FROM claudable_provision('move-1', 'owner-move') AS p, before_move AS b WHERE b.project_id = 'move-1'),
    'claudable_provision returns the URL with the new host and the same password');
SELECT is((SELECT string_agg(project_id || ': ' || detail || ' by ' || actor, '; ' ORDER BY project_id)
             FROM claudable.events WHERE action = 'move_host' AND outcome = 'succeeded'),
    format('move-1: connection details moved from old.example:%s to db.moved.example:%s by postgres; '
           'move-2: connection details moved from old.example:%s to db.moved.example:%s by postgres',
           :'port', :'port', :'port', :'port'),
    'each move is audited with the old and new address and the actor');
SELECT ok(pg_temp.wait_for($$SELECT pg_read_file(pg_current_logfile())
                                    LIKE '%claudable: moved 2 projects from host "old.example" to "db.moved.example"%'$$, 5),
    'and logged');
SELECT is((SELECT string_agg(DISTINCT host, ',') FROM claudable_pooler_entries() WHERE database_name IN ('app_db_move_1', 'app_db_move_2')),
    'db.moved.example', 'the pooler entries follow the move');

SELECT is(claudable_move_host('db.moved.example', 'db.moved.example', 6432), 2, 'a move may change the port too');
SELECT is(claudable_move_host('nobody.example', 'db.moved.example'), 0, 'a host no project has moves nothing');

SELECT * FROM finish();
SELECT bool_and(claudable_deprovision(p, 'owner-move')) AS removed FROM unnest(ARRAY['move-1', 'move-2', 'move-other']) AS p \gset
REVOKE EXECUTE ON FUNCTION claudable_move_host(text, text, integer) FROM move_probe;
REVOKE CONNECT ON DATABASE :"db" FROM move_probe;
DROP ROLE move_probe;
