-- The deploy service needs nothing but what README's Install grants it (CONNECT on the
-- metadata database, EXECUTE on its functions): no superuser, CREATEDB or CREATEROLE. Every
-- call below is made by that role itself, logged in over TCP with its password, as the
-- deploy service connects; a bystander that may connect but holds no EXECUTE is refused.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

-- README, Install: the deploy service's grant block, on this (hardened) metadata database.
CREATE ROLE deploy_service LOGIN;
GRANT CONNECT ON DATABASE :"db" TO deploy_service;
GRANT EXECUTE ON FUNCTION claudable_provision(text, text), claudable_deprovision(text, text),
                          claudable_rotate_password(text, text), claudable_databases(),
                          claudable_check() TO deploy_service;
CREATE ROLE bystander LOGIN;
GRANT CONNECT ON DATABASE :"db" TO bystander;


SELECT plan(15);

CALL pg_temp.connect_as('deploy', 'deploy_service');
SELECT is(pg_temp.on('deploy', 'SELECT current_user || chr(47) || session_user || chr(47) || rolsuper || rolcreatedb || rolcreaterole
                                   || chr(47) || host(inet_client_addr()) FROM pg_roles WHERE rolname = current_user'),
    'deploy_service/deploy_service/falsefalsefalse/127.0.0.1',
    'the deploy service logs in over TCP with its password, as itself, with no superuser, CREATEDB or CREATEROLE');
SELECT is(pg_temp.on('deploy', $$SELECT created::text FROM claudable_provision('deployed-1', 'team-a')$$), 'true',
    'it provisions a project');
SELECT is(pg_temp.on('deploy', $$SELECT database_name || ' ' || created FROM claudable_provision('deployed-1', 'team-a')$$),
    'app_db_deployed_1 false', 'and looks it up again');
SELECT is(pg_temp.on('deploy', $$SELECT string_agg(project_id || ' ' || status, ',') FROM claudable_databases()
                                  WHERE project_id = 'deployed-1'$$), 'deployed-1 ready',
    'it lists the projects (claudable_databases())');
SELECT is(pg_temp.on('deploy', $$SELECT count(*)::text FROM claudable_check()$$), '0',
    'it runs claudable_check()');
SELECT matches(pg_temp.on('deploy', 'SELECT count(*)::text FROM claudable.projects'), '^42501: permission denied for schema claudable',
    'it cannot read the metadata (42501)');
SELECT matches(pg_temp.on('deploy', $$SELECT set_config('claudable.template', 'template1', false)$$),
    '^42501: permission denied to set parameter "claudable.template"',
    'it cannot change where databases come from (42501)');
SELECT ok(pg_temp.error_text($$SELECT * FROM dblink('deploy', 'SELECT project_id FROM claudable_provision(''deployed-1'', ''team-b'')')
                                                 AS t(p text)$$) ~ '^permission denied'
          AND pg_temp.error_text($$SELECT * FROM dblink('deploy', 'SELECT project_id FROM claudable_provision(''deployed-1'', ''team-b'')')
                                                 AS t(p text)$$) !~ '(app_db_deployed_1|app_u_deployed_1|team-a)',
    'a refused owner is told permission denied and learns neither the names nor the real owner');
CREATE TEMP TABLE before_rotation AS
    SELECT * FROM dblink('deploy', $$SELECT password FROM claudable_provision('deployed-1', 'team-a')$$) AS t(password text);
SELECT ok(pg_temp.on('deploy', $$SELECT password FROM claudable_rotate_password('deployed-1', 'team-a')$$)
              ~ '^[A-Za-z0-9_-]{32}$'
          AND (SELECT password FROM claudable_provision('deployed-1', 'team-a')) <> (SELECT password FROM before_rotation),
    'it rotates the project''s password');
SELECT is((SELECT owner_id FROM claudable.projects WHERE project_id = 'deployed-1'), 'team-a',
    'the project is recorded with the deploy service''s owner_id');
SELECT ok(NOT pg_has_role('deploy_service', 'app_u_deployed_1', 'MEMBER'),
    'the deploy service gains no membership in the project''s role');
SELECT is(pg_temp.on('deploy', $$SELECT claudable_deprovision('deployed-1', 'team-a')::text$$), 'true',
    'it deprovisions the project');

CALL pg_temp.connect_as('bystander', 'bystander');
SELECT is(pg_temp.on('bystander', 'SELECT session_user::text'), 'bystander', 'a bystander that may connect logs in too');
SELECT matches(pg_temp.on('bystander', $$SELECT created::text FROM claudable_provision('deployed-2', 'team-a')$$),
    '^42501: permission denied for function claudable_provision',
    'but without the grant it cannot call claudable_provision (42501)');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_deployed_2')
          AND NOT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'deployed-2'),
    'and nothing was created for it');

SELECT * FROM finish();
SELECT dblink_disconnect('deploy') AS disconnected \gset
SELECT dblink_disconnect('bystander') AS disconnected \gset
