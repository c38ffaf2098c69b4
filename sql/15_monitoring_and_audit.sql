-- claudable.databases shows what exists and how big it is; claudable.events records who
-- did what. Neither holds a secret.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

CREATE TEMP TABLE watched AS SELECT * FROM claudable_provision('mon-1', 'owner-mon');
CREATE TEMP TABLE rotated AS SELECT * FROM claudable_rotate_password('mon-1', 'owner-mon');
SELECT pg_temp.sqlstate_of($$SELECT claudable_provision('mon-1', 'intruder')$$) AS refused \gset
CREATE ROLE app_u_mon_squat NOLOGIN;
SELECT pg_temp.sqlstate_of($$SELECT claudable_provision('mon-squat', 'owner-mon')$$) AS squat_refused \gset
DROP ROLE app_u_mon_squat;

SELECT plan(19);

SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'claudable.databases'::regclass AND attnum > 0),
    ARRAY['project_id', 'owner_id', 'database_name', 'username', 'status', 'size_bytes', 'connections',
          'created_at', 'updated_at', 'parent_project_id', 'expires_at', 'snapshots', 'snapshots_size_bytes'],
    'claudable.databases has the documented columns and no secret column');
SELECT cmp_ok((SELECT size_bytes FROM claudable.databases WHERE project_id = 'mon-1'), '>', 1000000::bigint,
    'size_bytes is the database''s size');
SELECT dblink_connect('app', (SELECT database_url FROM rotated)) AS app_connected \gset
SELECT is((SELECT connections FROM claudable.databases WHERE project_id = 'mon-1'), 1,
    'connections counts the sessions connected to the database');
SELECT dblink_disconnect('app') AS app_disconnected \gset

-- README's monitoring role: it logs in over TCP, lists the projects with their sizes and
-- runs the check through the two functions it may execute, and reads nothing else.
CREATE ROLE claudable_monitor LOGIN;
GRANT CONNECT ON DATABASE :"db" TO claudable_monitor;
GRANT EXECUTE ON FUNCTION claudable_check(), claudable_databases() TO claudable_monitor;
CALL pg_temp.connect_as('monitor', 'claudable_monitor');
SELECT ok(pg_temp.on('monitor', $$SELECT size_bytes::text FROM claudable_databases() WHERE project_id = 'mon-1'$$)::bigint > 1000000,
    'the monitoring role lists the projects with their sizes (claudable_databases())');
SELECT is(pg_temp.on('monitor', 'SELECT count(*)::text FROM claudable_check()'), '0', 'and runs claudable_check()');
SELECT is(pg_temp.on('monitor', 'SELECT count(*)::text FROM claudable.projects'), '42501: permission denied for schema claudable',
    'but cannot read claudable.projects (42501)');
SELECT is(pg_temp.on('monitor', 'SELECT count(*)::text FROM claudable.events'), '42501: permission denied for schema claudable',
    'nor claudable.events');
SELECT is(pg_temp.on('monitor', $$SELECT project_id FROM claudable_provision('mon-2', 'owner-mon')$$),
    '42501: permission denied for function claudable_provision', 'nor call claudable_provision');
SELECT ok(NOT EXISTS (SELECT 1 FROM claudable.projects WHERE project_id = 'mon-2'), 'which created nothing');
SELECT dblink_disconnect('monitor') AS disconnected \gset
REVOKE EXECUTE ON FUNCTION claudable_check(), claudable_databases() FROM claudable_monitor;
REVOKE CONNECT ON DATABASE :"db" FROM claudable_monitor;
DROP ROLE claudable_monitor;

SELECT columns_are('claudable', 'events',
    ARRAY['id', 'at', 'action', 'project_id', 'owner_id', 'database_name', 'actor', 'outcome', 'detail',
          'repeats', 'last_at'],
    'claudable.events has the documented columns');
SELECT ok('claudable.events'::regclass = ANY (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'claudable'),
    'claudable.events is kept by pg_dump');
SELECT is((SELECT actor || ' ' || outcome || ' ' || database_name FROM claudable.events
            WHERE project_id = 'mon-1' AND action = 'provision' AND outcome = 'succeeded'),
    session_user || ' succeeded app_db_mon_1', 'a provisioning is recorded with its actor (session_user)');
SELECT is((SELECT count(*) FROM claudable.events WHERE project_id = 'mon-1' AND action = 'rotate' AND outcome = 'succeeded'),
    1::bigint, 'a rotation is recorded');
SELECT is(:'refused'::text, '42501', 'a call with the wrong owner is refused');
SELECT is((SELECT detail FROM claudable.events WHERE project_id = 'mon-1' AND outcome = 'failed' AND owner_id = 'intruder'),
    '42501: owner_id does not match the registered owner', 'and the refusal is recorded, although the call failed');
SELECT is(:'squat_refused'::text, '42710', 'a call that meets a foreign role is refused');
SELECT is((SELECT detail FROM claudable.events WHERE project_id = 'mon-squat' AND outcome = 'failed'),
    '42710: role "app_u_mon_squat" already exists and is not managed by claudable',
    'and that failure is recorded with its SQLSTATE');
SELECT is((SELECT count(*) FROM claudable.events e, watched w, rotated r
            WHERE position(w.password IN concat_ws(' ', e.action, e.project_id, e.owner_id, e.database_name, e.actor, e.detail)) > 0
               OR position(r.password IN concat_ws(' ', e.action, e.project_id, e.owner_id, e.database_name, e.actor, e.detail)) > 0),
    0::bigint, 'no event holds a password');
SELECT claudable_deprovision('mon-1', 'owner-mon') AS removed \gset
SELECT is((SELECT count(*) FROM claudable.events WHERE project_id = 'mon-1' AND action = 'deprovision' AND outcome = 'succeeded'),
    1::bigint, 'a deprovisioning is recorded');

SELECT * FROM finish();
