-- A call for a provisioned project is a lookup in the caller's backend: it starts no worker.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

SELECT plan(6);

SELECT created AS warm_created FROM claudable_provision('warm-1', 'owner-w') \gset

-- Every provisioning worker first locks claudable.provisioning_lock; another session
-- holds it, so a call that started a worker would wait until claudable.worker_timeout.
SELECT dblink_connect('locker', format('host=%s dbname=%s port=%s user=postgres',
    current_setting('unix_socket_directories'), current_database(), current_setting('port'))) AS locker \gset
SELECT dblink_exec('locker', 'BEGIN') AS began \gset
SELECT * FROM dblink('locker', 'SELECT 1 FROM claudable.provisioning_lock FOR UPDATE') AS t(locked int);
SET claudable.worker_timeout = 1000;

SELECT is((SELECT created FROM claudable_provision('warm-1', 'owner-w')), false,
    'a call for a provisioned project returns while every worker would be blocked');
SELECT throws_ok($$SELECT claudable_provision('warm-2', 'owner-w')$$, '55000',
    'claudable: provisioning did not finish within claudable.worker_timeout',
    'whereas a new project waits for its (blocked) worker and gives up after claudable.worker_timeout');

RESET claudable.worker_timeout;
SET statement_timeout = '300ms';
SELECT is(pg_temp.sqlstate_of($$SELECT claudable_provision('warm-3', 'owner-w')$$), '57014',
    'a caller waiting for its worker honours statement_timeout');
RESET statement_timeout;
SELECT dblink_disconnect('locker') AS unlocked \gset
SELECT is((SELECT database_name FROM claudable_provision('warm-2', 'owner-w')), 'app_db_warm_2',
    'once the lock is free, the timed-out project is completed by the next call');
SELECT is((SELECT status FROM claudable.projects WHERE project_id = 'warm-2'), 'ready',
    'and recorded as ready');

SELECT is((SELECT database_name FROM claudable_provision('warm-3', 'owner-w')), 'app_db_warm_3',
    'and the project whose caller timed out is completed by the next call');

SELECT * FROM finish();
