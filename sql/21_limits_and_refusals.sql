-- claudable.max_projects and claudable.max_projects_per_owner cap what a deploy role can
-- create (53400, nothing created); wrong-owner refusals are audited without one
-- background worker per refused call.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;

SELECT plan(16);

SELECT created AS first FROM claudable_provision('lim-1', 'owner-lim') \gset
SELECT created AS second FROM claudable_provision('lim-2', 'owner-lim') \gset
SELECT is(current_setting('claudable.max_projects'), '-1', 'claudable.max_projects defaults to -1: no limit');
SELECT is(current_setting('claudable.max_projects_per_owner'), '-1', 'claudable.max_projects_per_owner defaults to -1');
SELECT is((SELECT context FROM pg_settings WHERE name = 'claudable.max_projects')
          || ' ' || (SELECT context FROM pg_settings WHERE name = 'claudable.max_projects_per_owner'),
    'superuser superuser', 'both are superuser-only');
SET claudable.max_projects_per_owner = 2;
SELECT throws_ok($$SELECT claudable_provision('lim-3', 'owner-lim')$$, '53400',
    'claudable: owner_id "owner-lim" already holds 2 projects, its limit (claudable.max_projects_per_owner = 2)',
    'an owner at its limit is refused with 53400');
SELECT is(pg_temp.error_text($$SELECT claudable_provision('lim-3', 'owner-lim')$$),
    'claudable: owner_id "owner-lim" already holds 2 projects, its limit (claudable.max_projects_per_owner = 2) | '
    'Deprovision one of this owner''s projects, or raise claudable.max_projects_per_owner.',
    'and told what to do');
SELECT is((SELECT count(*) FROM claudable.projects WHERE project_id = 'lim-3')
          + (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_lim_3')
          + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_lim_3'), 0::bigint,
    'and nothing is created');
SELECT is((SELECT created FROM claudable_provision('lim-1', 'owner-lim')), false,
    'its existing projects are still returned');
SELECT is((SELECT created FROM claudable_provision('lim-other', 'owner-lim-2')), true,
    'another owner still gets new projects');
SELECT is(claudable_deprovision('lim-2', 'owner-lim'), true, 'deprovisioning one ...');
SELECT is((SELECT created FROM claudable_provision('lim-3', 'owner-lim')), true, '... frees a place for the owner');
RESET claudable.max_projects_per_owner;

SELECT count(*) AS total FROM claudable.projects \gset
SELECT set_config('claudable.max_projects', :'total', false) AS limited \gset
SELECT throws_ok($$SELECT claudable_provision('lim-over', 'owner-lim-3')$$, '53400', NULL::text,
    'a server at claudable.max_projects is refused with 53400');
SELECT matches(pg_temp.error_text($$SELECT claudable_provision('lim-over', 'owner-lim-3')$$),
    'this server already holds [0-9]+ projects, its limit \(claudable.max_projects = [0-9]+\) \| .*place the project on another server',
    'and the hint names the way out');
RESET claudable.max_projects;

-- Refusals: park the audit trail (a lock on claudable.events), refuse 20 calls, and count
-- the drainers. One worker per call would show 20 of them waiting.
SELECT dblink_connect('locker', format('host=%s dbname=%s port=%s user=postgres',
    current_setting('unix_socket_directories'), current_database(), current_setting('port'))) AS locker \gset
SELECT dblink_exec('locker', 'BEGIN') AS began \gset
SELECT dblink_exec('locker', 'LOCK TABLE claudable.events IN EXCLUSIVE MODE') AS locked \gset
CREATE TEMP TABLE lim_one AS SELECT password FROM claudable_provision('lim-1', 'owner-lim');
SELECT count(*) FILTER (WHERE pg_temp.sqlstate_of(format('SELECT claudable_provision(''lim-1'', ''intruder-%s'')', i)) = '42501')
    AS refused FROM generate_series(1, 20) AS i \gset
SELECT is(:refused, 20, '20 calls with the wrong owner_id are refused with 42501');
SELECT ok((SELECT p.owner_id = 'owner-lim' AND p.password = l.password FROM claudable_provision('lim-1', 'owner-lim') AS p, lim_one AS l),
    'and they changed nothing: the same owner and password');
SELECT pg_temp.wait_for($$SELECT count(*) >= 1 FROM pg_stat_activity WHERE backend_type = 'claudable refusal drainer'
                                                                     AND wait_event_type = 'Lock'$$) AS drainer_waits,
       pg_sleep(0.5) AS settled \gset
SELECT ok(:'drainer_waits' AND (SELECT count(*) FROM pg_stat_activity
                                  WHERE backend_type = 'claudable refusal drainer'
                                     OR (backend_type = 'claudable provisioner' AND state <> 'idle')) = 1,
    'they start one background worker, not one per refused call');
SELECT dblink_exec('locker', 'COMMIT') AS committed \gset
-- One actor refused for one project within a minute is one event that counts them (repeats),
-- whatever owner_id each call gave.
SELECT ok(pg_temp.wait_for($$SELECT sum(repeats) = 20 FROM claudable.events
                             WHERE project_id = 'lim-1' AND owner_id LIKE 'intruder-%' AND outcome = 'failed'
                               AND detail = '42501: owner_id does not match the registered owner'$$),
    'and every one of them is counted in claudable.events');

SELECT * FROM finish();
SELECT dblink_disconnect('locker') AS gone \gset
SELECT claudable_deprovision('lim-1', 'owner-lim') AND claudable_deprovision('lim-3', 'owner-lim')
       AND claudable_deprovision('lim-other', 'owner-lim-2') AS cleaned_up \gset
