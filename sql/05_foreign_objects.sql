-- A role or database with the target name that claudable did not create is never adopted.
\i sql/include/setup.psql

CREATE ROLE app_u_squatted_role NOLOGIN CONNECTION LIMIT 3;
COMMENT ON ROLE app_u_squatted_role IS 'made by hand';
CREATE ROLE squatter NOLOGIN;
CREATE DATABASE app_db_squatted_db OWNER squatter;
CREATE ROLE app_u_forged NOLOGIN;
COMMENT ON ROLE app_u_forged IS 'managed by claudable: project forged, installation 00000000-0000-0000-0000-000000000001';


SELECT plan(11);

SELECT throws_ok($$SELECT claudable_provision('squatted-role', 'owner-f')$$, '42710',
    'role "app_u_squatted_role" already exists and is not managed by claudable',
    'an existing role of the target name is refused with 42710');
SELECT is(pg_temp.error_text($$SELECT claudable_provision('squatted-role', 'owner-f')$$),
    'role "app_u_squatted_role" already exists and is not managed by claudable | claudable never adopts, '
    'alters or drops objects it did not create. Drop or rename the existing role, or use another project_id.',
    'the worker''s error reaches the caller with its hint, saying what to do');
SELECT is((SELECT ARRAY[rolcanlogin::text, rolconnlimit::text, shobj_description(oid, 'pg_authid')]
             FROM pg_roles WHERE rolname = 'app_u_squatted_role'),
    ARRAY['false', '3', 'made by hand'],
    'the existing role is not altered');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app_db_squatted_role'),
    'no database was created for the refused project');

SELECT throws_ok($$SELECT claudable_provision('squatted-db', 'owner-f')$$, '42710',
    'database "app_db_squatted_db" already exists and is not managed by claudable',
    'an existing database of the target name is refused with 42710');
SELECT is((SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app_db_squatted_db'), 'squatter',
    'the existing database keeps its owner');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_squatted_db'),
    'no role was created for the refused project');

SELECT throws_ok($$SELECT claudable_provision('forged', 'owner-f')$$, '42710',
    'role "app_u_forged" already exists and is not managed by claudable',
    'a marker naming another installation does not make a role ours');
SELECT is((SELECT ARRAY[rolcanlogin::text, shobj_description(oid, 'pg_authid')] FROM pg_roles WHERE rolname = 'app_u_forged'),
    ARRAY['false', 'managed by claudable: project forged, installation 00000000-0000-0000-0000-000000000001'],
    'and the role with the forged marker is left as it was');

SELECT is((SELECT count(*) FROM claudable.projects WHERE project_id IN ('squatted-role', 'squatted-db', 'forged')),
    0::bigint, 'refused projects leave no metadata row');

SELECT throws_ok($$SELECT claudable_provision('squatted-role', 'owner-f')$$, '42710',
    'role "app_u_squatted_role" already exists and is not managed by claudable',
    'the refusal is repeatable: nothing was half-created by the first attempt');

SELECT * FROM finish();

DROP DATABASE app_db_squatted_db;
DROP ROLE squatter;
DROP ROLE app_u_squatted_role;
DROP ROLE app_u_forged;
