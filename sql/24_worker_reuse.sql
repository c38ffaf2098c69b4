-- A provisioning worker stays up to claudable.worker_idle_timeout after its call and
-- serves the next call of its database: a burst of cold calls forks one worker, not one
-- per call. An idle worker never keeps a database from being dropped.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
LOAD 'claudable';
CREATE FUNCTION pg_temp.worker_of(project text) RETURNS integer LANGUAGE sql AS $$
    SELECT worker_pid FROM claudable.projects WHERE project_id = project
$$;

SELECT plan(10);

SELECT is(current_setting('claudable.worker_idle_timeout') || ' '
          || (SELECT context FROM pg_settings WHERE name = 'claudable.worker_idle_timeout'), '2s sighup',
    'claudable.worker_idle_timeout is 2 s by default and server-wide');

-- Workers that earlier calls left behind leave first, so both calls below meet only their own.
SELECT pg_temp.wait_for('SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                             WHERE backend_type = ''claudable provisioner'')') AS alone \gset
SELECT created AS first FROM claudable_provision('reuse-1', 'owner-reuse') \gset
SELECT created AS second FROM claudable_provision('reuse-2', 'owner-reuse') \gset
SELECT ok(pg_temp.worker_of('reuse-1') IS NOT NULL AND pg_temp.worker_of('reuse-2') = pg_temp.worker_of('reuse-1'),
    'two cold calls in a row are served by one worker');
SELECT ok(pg_temp.wait_for(format('SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s AND state = ''idle''
                                                   AND datname = current_database())', pg_temp.worker_of('reuse-2'))),
    'which waits, idle, connected to the metadata database');
SELECT ok(pg_temp.wait_for(format('SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)',
                                  pg_temp.worker_of('reuse-2')), 10),
    'and exits once claudable.worker_idle_timeout has passed without a call');

-- The caller's next call can come the moment it has the answer, before the worker is back
-- waiting: here the worker is held after answering (fault point after_answer).
SELECT dblink_connect('holder', format('host=%s dbname=%s port=%s user=postgres',
    current_setting('unix_socket_directories'), current_database(), current_setting('port'))) AS holder \gset
SELECT * FROM dblink('holder', 'SELECT pg_advisory_lock(1668047874, 0)::text') AS t(locked text);
SET claudable.fault_point = 'after_answer';
SELECT created AS held_first FROM claudable_provision('reuse-held-1', 'owner-reuse') \gset
RESET claudable.fault_point;
SELECT pg_temp.wait_for(format('SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s
                                                 AND query = ''claudable: fault point after_answer'')',
                               pg_temp.worker_of('reuse-held-1'))) AS held \gset
SELECT dblink_connect('caller', format('host=%s dbname=%s port=%s user=postgres',
    current_setting('unix_socket_directories'), current_database(), current_setting('port'))) AS caller \gset
SELECT dblink_send_query('caller', $$SELECT created::text FROM claudable_provision('reuse-held-2', 'owner-reuse')$$) AS sent \gset
SELECT pg_sleep(1) AS slept \gset
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'claudable provisioner'
                                                     AND pid <> pg_temp.worker_of('reuse-held-1')),
    'a call made before the last call''s worker is back waiting starts no second worker');
SELECT dblink_disconnect('holder') AS released \gset
SELECT created AS held_second FROM dblink_get_result('caller') AS t(created text) \gset
SELECT dblink_disconnect('caller') AS gone \gset
SELECT ok(pg_temp.worker_of('reuse-held-2') = pg_temp.worker_of('reuse-held-1'),
    'that worker serves it once it waits');
SELECT pg_temp.wait_for('SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                             WHERE backend_type = ''claudable provisioner'')') AS alone_again \gset

ALTER SYSTEM SET claudable.worker_idle_timeout = 0;
SELECT pg_reload_conf() AS reloaded \gset
SELECT pg_sleep(0.5) AS slept \gset
SELECT created AS third FROM claudable_provision('reuse-3', 'owner-reuse') \gset
SELECT created AS fourth FROM claudable_provision('reuse-4', 'owner-reuse') \gset
SELECT ok(pg_temp.worker_of('reuse-3') IS NOT NULL AND pg_temp.worker_of('reuse-4') IS NOT NULL
          AND pg_temp.worker_of('reuse-4') <> pg_temp.worker_of('reuse-3'),
    'with claudable.worker_idle_timeout = 0 every call has a worker of its own');
SELECT ok(pg_temp.wait_for('SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                                 WHERE backend_type = ''claudable provisioner'')'),
    'and none stays');
ALTER SYSTEM RESET claudable.worker_idle_timeout;
SELECT pg_reload_conf() AS reloaded \gset
SELECT pg_sleep(0.5) AS slept \gset

-- A database whose idle worker is still there can be dropped: DROP DATABASE waits up to
-- 5 s for other sessions, longer than the worker stays.
CREATE DATABASE claudable_reuse_drop;
SELECT dblink_connect('other', format('host=%s dbname=claudable_reuse_drop port=%s user=postgres',
    current_setting('unix_socket_directories'), current_setting('port'))) AS other \gset
SELECT dblink_exec('other', 'CREATE EXTENSION claudable') AS installed \gset
SELECT * FROM dblink('other', $$SELECT created::text FROM claudable_provision('reuse-drop', 'owner-reuse')$$) AS t(created text);
SELECT * FROM dblink('other', $$SELECT claudable_deprovision('reuse-drop', 'owner-reuse')::text$$) AS t(removed text);
SELECT ok(pg_temp.wait_for($$SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'claudable provisioner'
                                              AND datname = 'claudable_reuse_drop' AND state = 'idle')$$),
    'a worker stays idle in another metadata database');
SELECT dblink_disconnect('other') AS gone \gset
DROP DATABASE claudable_reuse_drop;
SELECT is((SELECT count(*) FROM pg_database WHERE datname = 'claudable_reuse_drop'), 0::bigint,
    'DROP DATABASE of that database still succeeds');

SELECT * FROM finish();
SELECT claudable_deprovision('reuse-1', 'owner-reuse') AND claudable_deprovision('reuse-2', 'owner-reuse')
       AND claudable_deprovision('reuse-3', 'owner-reuse') AND claudable_deprovision('reuse-4', 'owner-reuse')
       AND claudable_deprovision('reuse-held-1', 'owner-reuse') AND claudable_deprovision('reuse-held-2', 'owner-reuse')
       AS cleaned_up \gset
