-- claudable_deprovision drops the database (even with the app connected), then the role,
-- then the record; refuses other owners; never drops what it did not create.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

CREATE TEMP TABLE doomed AS SELECT * FROM claudable_provision('depro-1', 'owner-dp');
CREATE TEMP TABLE connected AS SELECT * FROM claudable_provision('depro-open', 'owner-dp');

SELECT plan(19);

SELECT throws_ok($$SELECT claudable_deprovision('depro-1', 'intruder')$$, '42501',
    'permission denied for project "depro-1"', 'another owner is refused with 42501');
SELECT ok(EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_depro_1')
          AND (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_u_depro_1')
          AND (SELECT status FROM claudable.projects WHERE project_id = 'depro-1') = 'ready'
          AND (SELECT p.password = d.password FROM claudable_provision('depro-1', 'owner-dp') AS p, doomed AS d),
    'and nothing was changed for it: database, role, login, status and password as they were');
SELECT throws_ok($$SELECT claudable_deprovision(NULL, 'owner-dp')$$, '22023', 'project_id must not be NULL',
    'input is validated like claudable_provision''s');

SELECT is(claudable_deprovision('depro-1', 'owner-dp'), true, 'it returns true when it removed a project');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_depro_1'), 'the database is dropped');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_depro_1'), 'the role is dropped');
SELECT ok(NOT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'depro-1'), 'the record is removed');
SELECT is(claudable_deprovision('depro-1', 'owner-dp'), false, 'a second call returns false');
SELECT is(claudable_deprovision('never-provisioned', 'owner-dp'), false,
    'a project never provisioned returns false');

SELECT dblink_connect('app', (SELECT database_url FROM connected)) AS app_connected \gset
SELECT is((SELECT x FROM dblink('app', 'SELECT 1') AS t(x int)), 1, 'the app holds an open connection');
SELECT is(claudable_deprovision('depro-open', 'owner-dp'), true,
    'deprovisioning succeeds while the app is connected (DROP DATABASE ... WITH (FORCE))');
SELECT matches(pg_temp.error_text($$SELECT * FROM dblink('app', 'SELECT 1') AS t(x int)$$),
    'terminating connection due to administrator command|server closed the connection unexpectedly',
    'the app''s connection was terminated by the server');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_depro_open'), 'and the database is gone');
SELECT dblink_disconnect('app') AS app_disconnected \gset

-- Someone replaced the project's database by hand: claudable leaves the stranger alone.
CREATE TEMP TABLE replaced AS SELECT * FROM claudable_provision('depro-2', 'owner-dp');
DROP DATABASE app_db_depro_2;
CREATE DATABASE app_db_depro_2;
SELECT is(claudable_deprovision('depro-2', 'owner-dp'), true, 'a project whose database was replaced is deprovisioned');
SELECT ok(EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_depro_2'),
    'but the database it did not create is not dropped');
DROP DATABASE app_db_depro_2;

-- An interrupted deprovisioning (as after a crash) is finished by the next call.
CREATE TEMP TABLE interrupted AS SELECT * FROM claudable_provision('depro-3', 'owner-dp');
UPDATE claudable.projects SET status = 'deprovisioning' WHERE project_id = 'depro-3';
SELECT throws_ok($$SELECT claudable_provision('depro-3', 'owner-dp')$$, '55000',
    'claudable: project "depro-3" is being deprovisioned',
    'provisioning a project that is being deprovisioned is refused until that is finished');
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'project depro-3'),
    'stuck in deprovisioning with no worker running (claudable_reconcile() completes it)',
    'claudable_check() reports the interrupted deprovisioning');
SELECT is(claudable_deprovision('depro-3', 'owner-dp'), true, 'a retry finishes it');
SELECT is((SELECT created FROM claudable_provision('depro-3', 'owner-dp')), true,
    'and the project can then be provisioned anew');

SELECT * FROM finish();
SELECT claudable_deprovision('depro-3', 'owner-dp') AS cleaned_up \gset
