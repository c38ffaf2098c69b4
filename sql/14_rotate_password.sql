-- claudable_rotate_password gives a project a new password: the old one stops working at
-- once, the new one works, and later claudable_provision calls return the new one.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

CREATE TEMP TABLE before_rotation AS SELECT * FROM claudable_provision('rot-1', 'owner-rot');
CREATE TEMP TABLE verifier_before AS SELECT rolpassword FROM pg_authid WHERE rolname = 'app_u_rot_1';
CREATE TEMP TABLE rotated AS SELECT * FROM claudable_rotate_password('rot-1', 'owner-rot');

SELECT plan(13);

SELECT is((SELECT count(*) FROM rotated), 1::bigint, 'it returns one row');
SELECT ok((SELECT (r.project_id, r.owner_id, r.database_name, r.username, r.host, r.port, r.created_at)
                = (b.project_id, b.owner_id, b.database_name, b.username, b.host, b.port, b.created_at)
             FROM rotated r, before_rotation b),
    'the row has the same shape and names as claudable_provision''s');
SELECT is((SELECT created FROM rotated), false, 'created is false');
SELECT ok((SELECT r.password <> b.password FROM rotated r, before_rotation b), 'the password is new');
SELECT ok((SELECT password ~ '^[A-Za-z0-9_-]{32}$' FROM rotated), 'and made like every password (32 URL-safe characters)');
SELECT ok((SELECT database_url = format('postgresql://%s:%s@%s:%s/%s', username, password, host, port, database_name)
             FROM rotated), 'database_url carries the new password');
SELECT ok((SELECT a.rolpassword <> v.rolpassword AND a.rolpassword LIKE 'SCRAM-SHA-256$%'
             FROM pg_authid a, verifier_before v WHERE a.rolname = 'app_u_rot_1'),
    'the role has a new SCRAM verifier');
SELECT ok((SELECT p.password = r.password FROM claudable_provision('rot-1', 'owner-rot') p, rotated r),
    'claudable_provision returns the new password from now on');

SELECT is(pg_temp.login_refusal((SELECT database_url FROM before_rotation)),
    'app_u_rot_1@app_db_rot_1 FATAL:  28P01: password authentication failed for user "app_u_rot_1"',
    'the old password is refused at once (28P01)');
CREATE TEMP TABLE verifier_after AS SELECT rolpassword FROM pg_authid WHERE rolname = 'app_u_rot_1';
SELECT is(dblink_connect('new', (SELECT database_url FROM rotated)), 'OK', 'the new password logs in');
SELECT dblink_disconnect('new') AS new_disconnected \gset

SELECT throws_ok($$SELECT claudable_rotate_password('rot-1', 'intruder')$$, '42501',
    'permission denied for project "rot-1"', 'another owner is refused with 42501');
SELECT throws_ok($$SELECT claudable_rotate_password('rot-unknown', 'owner-rot')$$, 'P0002',
    'claudable: project "rot-unknown" is not provisioned', 'a project that does not exist is an error');
SELECT ok((SELECT p.password = r.password FROM claudable_provision('rot-1', 'owner-rot') p, rotated r)
          AND (SELECT a.rolpassword = v.rolpassword FROM pg_authid a, verifier_after v WHERE a.rolname = 'app_u_rot_1')
          AND NOT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'rot-unknown'),
    'a refused rotation changes nothing: the same password and verifier, no project made');

SELECT * FROM finish();
