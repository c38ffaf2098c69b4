-- An error raised in a worker reaches the caller whole: every field, any length, with a
-- context line naming the worker's job; values that cross to the worker are never cut.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
-- Every field of the error `sql` raises, as one row.
CREATE FUNCTION pg_temp.diagnostics(sql text, OUT state text, OUT message text, OUT detail text, OUT hint text,
                                    OUT context text, OUT schema_name text, OUT table_name text, OUT constraint_name text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT, context = PG_EXCEPTION_CONTEXT, schema_name = SCHEMA_NAME,
                            table_name = TABLE_NAME, constraint_name = CONSTRAINT_NAME;
END $$;

SELECT plan(10);

-- A message of 3,000 characters (the worker's ALTER ROLE ... SET refuses the value).
SELECT repeat('x', 3000) AS long_value \gset
SELECT set_config('claudable.role_settings', 'statement_timeout=' || :'long_value', false) AS set \gset
CREATE TEMP TABLE long_error AS SELECT * FROM pg_temp.diagnostics($$SELECT claudable_provision('err-long', 'owner-err')$$);
RESET claudable.role_settings;
SELECT is((SELECT state FROM long_error), '22023', 'the worker''s SQLSTATE arrives');
SELECT is((SELECT message FROM long_error),
    'invalid value for parameter "statement_timeout": "' || :'long_value' || '"',
    'its message arrives whole, 3,000 characters and more');
SELECT matches((SELECT context FROM long_error), '^claudable worker: provisioning project "err-long" for owner "owner-err"\n',
    'with a context line naming the worker''s job');
SELECT is((SELECT count(*) FROM claudable.projects WHERE project_id = 'err-long')
          + (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_err_long'), 0::bigint,
    'and nothing of the project is left');

-- A constraint the worker's last step violates: schema, table and constraint names arrive.
ALTER TABLE claudable.events ADD CONSTRAINT no_provision_event CHECK (action <> 'provision') NOT VALID;
CREATE TEMP TABLE constraint_error AS SELECT * FROM pg_temp.diagnostics($$SELECT claudable_provision('err-check', 'owner-err')$$);
ALTER TABLE claudable.events DROP CONSTRAINT no_provision_event;
SELECT is((SELECT state || ' ' || schema_name || '.' || table_name || ' ' || constraint_name FROM constraint_error),
    '23514 claudable.events no_provision_event', 'the schema, table and constraint names arrive');
SELECT is((SELECT created FROM claudable_provision('err-check', 'owner-err')), true,
    'and a retry completes the project once the constraint is gone');

-- A worker that is terminated: its FATAL arrives as the caller's ERROR.
SET claudable.fault_point = 'after_role';
SELECT dblink_connect('holder', format('host=%s dbname=%s port=%s user=postgres',
    current_setting('unix_socket_directories'), current_database(), current_setting('port'))) AS holder \gset
SELECT * FROM dblink('holder', 'SELECT pg_advisory_lock(1668047874, 0)::text') AS t(locked text);
SELECT dblink_connect('killer', format('host=%s dbname=%s port=%s user=postgres',
    current_setting('unix_socket_directories'), current_database(), current_setting('port'))) AS killer \gset
SELECT dblink_send_query('killer', $q$DO $d$ BEGIN
    FOR i IN 1..300 LOOP
        PERFORM pg_stat_clear_snapshot();
        IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE query = 'claudable: fault point after_role') THEN
            PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'claudable: fault point after_role';
            RETURN;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $d$$q$) AS sent \gset
CREATE TEMP TABLE fatal_error AS SELECT * FROM pg_temp.diagnostics($$SELECT claudable_provision('err-fatal', 'owner-err')$$);
RESET claudable.fault_point;
SELECT * FROM dblink_get_result('killer') AS t(x text);
SELECT is((SELECT state FROM fatal_error), '57P01', 'a terminated worker''s FATAL arrives with its SQLSTATE ...');
SELECT is((SELECT message FROM fatal_error), 'terminating background worker "claudable provisioner" due to administrator command',
    '... and its message');
SELECT dblink_disconnect('holder') AS released \gset
SELECT dblink_disconnect('killer') AS gone \gset
SELECT is((SELECT created FROM claudable_provision('err-fatal', 'owner-err')), true, 'and a retry completes the project');

-- The longest host name DNS allows (253 bytes) crosses the wire whole.
SELECT repeat('h', 63) || '.' || repeat('h', 63) || '.' || repeat('h', 63) || '.' || repeat('h', 61) AS long_host \gset
SET claudable.host = :'long_host';
SELECT is((SELECT host FROM claudable_provision('err-host', 'owner-err')), :'long_host',
    'a claudable.host of 253 bytes is recorded and returned whole');
RESET claudable.host;

SELECT * FROM finish();
SELECT claudable_deprovision('err-check', 'owner-err') AND claudable_deprovision('err-fatal', 'owner-err')
       AND claudable_deprovision('err-host', 'owner-err') AS cleaned_up \gset
