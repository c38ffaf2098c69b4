-- When the database cannot be created after the role was, nothing is left behind.
\i sql/include/setup.psql

SELECT plan(6);

SET claudable.template = 'no_such_template';
SELECT throws_ok($$SELECT claudable_provision('doomed', 'owner-d')$$, '3D000',
    'template database "no_such_template" does not exist',
    'the caller gets the original error of CREATE DATABASE with its SQLSTATE');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_doomed'),
    'the role created before the failure was dropped');
SELECT ok(NOT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'doomed'),
    'the metadata row was removed');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_doomed'),
    'no database exists');
RESET claudable.template;

SELECT is((SELECT created FROM claudable_provision('doomed', 'owner-d')), true,
    'a retry after fixing the cause creates the project');
SELECT ok(EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_doomed'),
    'and its database exists');

SELECT * FROM finish();
