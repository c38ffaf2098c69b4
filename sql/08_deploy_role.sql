-- The deploy service needs nothing but EXECUTE: no superuser, CREATEDB or CREATEROLE.
\i sql/include/setup.psql

CREATE ROLE deploy_service LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT EXECUTE ON FUNCTION claudable_provision(text, text) TO deploy_service;
CREATE ROLE bystander LOGIN;

GRANT EXECUTE ON FUNCTION pg_temp.error_text(text) TO deploy_service;

SELECT plan(9);

SET ROLE deploy_service;
SELECT is((SELECT created FROM claudable_provision('deployed-1', 'team-a')), true,
    'a role with only EXECUTE provisions a project');
SELECT is((SELECT database_name FROM claudable_provision('deployed-1', 'team-a')), 'app_db_deployed_1',
    'and looks it up again');
SELECT throws_ok($$SELECT * FROM claudable.projects$$, '42501', NULL,
    'it cannot read the metadata');
SELECT throws_ok($$SET claudable.template = 'template1'$$, '42501', NULL,
    'it cannot change where databases come from');
SELECT ok(pg_temp.error_text($$SELECT claudable_provision('deployed-1', 'team-b')$$) NOT SIMILAR TO
          '%(app\_db\_deployed\_1|app\_u\_deployed\_1|team-a)%',
    'a refused owner learns neither the names nor the real owner');
RESET ROLE;

SELECT is((SELECT owner_id FROM claudable.projects WHERE project_id = 'deployed-1'), 'team-a',
    'the project is recorded with the deploy service''s owner_id');
SELECT ok(NOT pg_has_role('deploy_service', 'app_u_deployed_1', 'MEMBER'),
    'the deploy service gains no membership in the project''s role');

SET ROLE bystander;
SELECT throws_ok($$SELECT claudable_provision('deployed-2', 'team-a')$$, '42501', NULL,
    'a role without the grant cannot call it');
RESET ROLE;
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_deployed_2'),
    'and nothing was created for it');

SELECT * FROM finish();
