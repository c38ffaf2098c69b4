-- The spare pool (claudable.spare_databases): databases copied from the template ahead of
-- time, claimed by a cold claudable_provision, refilled, retired when they no longer fit,
-- reported by claudable_check(), and never counted as projects.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
LOAD 'claudable';
-- Settings of the server (postgresql.auto.conf): the detached refiller reads those.
-- A backend applies a reload before its next command, once the signal has arrived.
CREATE FUNCTION pg_temp.spare_names() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM claudable.spares
$$;
CREATE FUNCTION pg_temp.spare_objects() RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'claudable\_spare\_%')
         + (SELECT count(*) FROM pg_database WHERE datname LIKE 'claudable\_spare\_%')
$$;
ALTER SYSTEM SET claudable.spare_databases = 3;
SELECT pg_reload_conf() AS reloaded \gset
SELECT pg_sleep(0.5) AS slept \gset

SELECT plan(41);

SELECT is(current_setting('claudable.spare_databases'), '3', 'claudable.spare_databases sizes the pool');
SELECT is((SELECT context FROM pg_settings WHERE name = 'claudable.spare_databases'), 'sighup',
    'it is set in postgresql.conf or with ALTER SYSTEM and takes effect on reload');
SELECT is(pg_temp.sqlstate_of($$SET claudable.spare_databases = 10$$), '55P02', 'a session cannot SET it');
SELECT is(claudable_refill_spares(), 3, 'claudable_refill_spares() fills the pool and returns how many are ready');
SELECT is((SELECT count(*) FROM pg_roles r JOIN pg_database d ON d.datdba = r.oid AND d.datname = r.rolname
            WHERE r.rolname ~ '^claudable_spare_[0-9]+$' AND NOT r.rolcanlogin
              AND d.datacl = ARRAY[format('%s=CTc/%s', r.rolname, r.rolname)::aclitem]), 3::bigint,
    'a spare is a NOLOGIN role owning a database of its name, with CONNECT and TEMPORARY revoked from PUBLIC');
SELECT is((SELECT count(*) FROM pg_database d
            WHERE d.datname LIKE 'claudable\_spare\_%'
              AND shobj_description(d.oid, 'pg_database') = claudable.spare_marker()
              AND shobj_description(d.oid, 'pg_database') !~ claudable.marker_pattern()), 3::bigint,
    'spares carry the spare marker, which no project marker pattern matches');
SELECT is((SELECT count(*) FROM claudable.databases WHERE database_name LIKE 'claudable\_spare\_%'), 0::bigint,
    'claudable.databases lists no spare');
SELECT is((SELECT count(*) FROM claudable_check()), 0::bigint, 'claudable_check() is silent on a full, intact pool');

-- The claim.
SELECT name AS oldest FROM claudable.spares ORDER BY created_at, name LIMIT 1 \gset
SELECT oid AS spare_oid FROM pg_database WHERE datname = :'oldest' \gset
SELECT set_config('claudable.max_projects', (SELECT count(*) + 1 FROM claudable.projects)::text, false) AS limited \gset
SET claudable.connection_limit = 7;
SET claudable.role_settings = 'statement_timeout=5s';
CREATE TEMP TABLE claimed AS SELECT * FROM claudable_provision('spare-1', 'owner-spare');
SELECT is((SELECT created FROM claimed), true,
    'a cold claudable_provision with spares ready creates the project (claudable.max_projects allowed one more)');
SELECT throws_ok($$SELECT claudable_provision('spare-over', 'owner-spare')$$, '53400', NULL,
    'claudable.max_projects counts the claimed project, never the spares');
RESET claudable.max_projects;
SELECT is((SELECT oid FROM pg_database WHERE datname = 'app_db_spare_1'), :'spare_oid'::oid,
    'by renaming the oldest spare: the project database is that database');
SELECT is((SELECT detail FROM claudable.events WHERE project_id = 'spare-1' AND action = 'provision'),
    'role and database claimed from spare ' || :'oldest', 'the audit trail names the spare');
SELECT is((SELECT count(*) FROM claudable.spares WHERE name = :'oldest'), 0::bigint,
    'a claimed spare leaves the pool');
SELECT is((SELECT rolcanlogin::text || ' ' || rolconnlimit || ' ' || array_to_string(s.setconfig, ',')
             FROM pg_roles r JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
            WHERE r.rolname = 'app_u_spare_1'),
    'true 7 statement_timeout=5s', 'the role gets LOGIN, the connection limit and the role settings');
SELECT is((SELECT datconnlimit::text || ' ' || datacl::text || ' ' || shobj_description(oid, 'pg_database')
             FROM pg_database WHERE datname = 'app_db_spare_1'),
    '7 {app_u_spare_1=CTc/app_u_spare_1} ' || claudable.ownership_marker('spare-1'),
    'the database gets the limit and the project marker, and only its owner may connect');
SELECT is((SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = 'app_u_spare_1'),
    claudable.ownership_marker('spare-1'), 'the role carries the project marker');
SELECT is(dblink_connect('tenant', (SELECT database_url FROM claimed)), 'OK', 'the returned DATABASE_URL logs in');
SELECT is((SELECT u FROM dblink('tenant', 'SELECT current_user::text || ''@'' || current_database()') AS t(u text)),
    'app_u_spare_1@app_db_spare_1', 'as the project role, into the project database');
SELECT name AS untouched_spare FROM claudable.spares ORDER BY name LIMIT 1 \gset
CREATE TEMP TABLE spare_before AS
    SELECT datacl, shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE datname = :'untouched_spare';
SELECT throws_ok(format($$SELECT dblink_exec('tenant', 'COMMENT ON DATABASE %I IS ''mine''')$$, :'untouched_spare'),
    '42501', format('must be owner of database %s', :'untouched_spare'),
    'the tenant cannot touch a spare: an owner''s action is refused (42501)');
SELECT throws_ok(format($$SELECT dblink_exec('tenant', 'GRANT CONNECT ON DATABASE %I TO PUBLIC')$$, :'untouched_spare'),
    '42501', format('permission denied for database %s', :'untouched_spare'), 'nor open it to anyone');
SELECT ok((SELECT b.datacl IS NOT DISTINCT FROM d.datacl AND b.marker = shobj_description(d.oid, 'pg_database')
             FROM spare_before AS b, pg_database AS d WHERE d.datname = :'untouched_spare'),
    'and the spare''s privileges and marker are as they were');
SELECT dblink_disconnect('tenant') AS disconnected \gset
SELECT is(claudable_refill_spares(), 3, 'the pool is refilled after a claim');
SELECT is((SELECT count(*) FROM claudable_check() WHERE object ~ 'spare'), 0::bigint,
    'claudable_check() finds the claimed project and the pool sound');
RESET claudable.connection_limit;
RESET claudable.role_settings;

-- A spare's role holds the verifier of a password sealed in its row, so a claim computes
-- none; after a key rotation a spare sealed under the retired key gets a new one.
SELECT is((SELECT count(*) FROM claudable.spares s JOIN pg_authid a ON a.rolname = s.name
                               JOIN claudable.key_ring k ON k.fingerprint = s.key_fingerprint AND k.state = 'active'
            WHERE s.password_sealed IS NOT NULL AND a.rolpassword LIKE 'SCRAM-SHA-256$%'), 3::bigint,
    'every spare''s role holds a SCRAM verifier and its row the password, sealed under the active key');
SELECT claudable_rotate_key() AS rotated \gset
SELECT name AS sealed_before FROM claudable.spares ORDER BY created_at, name LIMIT 1 \gset
SELECT is((SELECT k.state FROM claudable.spares AS s JOIN claudable.key_ring AS k ON k.fingerprint = s.key_fingerprint
            WHERE s.name = :'sealed_before' AND :'rotated' = (SELECT fingerprint FROM claudable.key_ring WHERE state = 'active')),
    'retired', 'the rotation succeeded, and the oldest spare is sealed under the retired key');
CREATE TEMP TABLE after_rotation AS SELECT * FROM claudable_provision('spare-rotated', 'owner-spare');
SELECT is((SELECT detail FROM claudable.events WHERE project_id = 'spare-rotated' AND action = 'provision'),
    'role and database claimed from spare ' || :'sealed_before',
    'a spare sealed under a key rotated since is still claimed');
SELECT is(dblink_connect('rotated', (SELECT database_url FROM after_rotation)), 'OK',
    'with a new password, whose URL logs in');
SELECT dblink_disconnect('rotated') AS disconnected \gset
SELECT claudable_refill_spares() AS refilled \gset

-- A claim is autonomous, like every call: the caller's ROLLBACK does not give it back.
SELECT name AS taken_in_transaction FROM claudable.spares ORDER BY created_at, name LIMIT 1 \gset
BEGIN;
SELECT created AS in_transaction FROM claudable_provision('spare-rollback', 'owner-spare') \gset
ROLLBACK;
SELECT is((SELECT status FROM claudable.projects WHERE project_id = 'spare-rollback')
          || ' ' || (SELECT count(*) FROM claudable.spares WHERE name = :'taken_in_transaction')
          || ' ' || (SELECT count(*) FROM pg_database WHERE datname = 'app_db_spare_rollback'), 'ready 0 1',
    'a caller''s ROLLBACK keeps the project and does not give the spare back');
SELECT claudable_refill_spares() AS refilled \gset

-- What is not claimed, and what the refill retires.
SELECT name AS damaged FROM claudable.spares ORDER BY created_at, name LIMIT 1 \gset
SELECT format('ALTER ROLE %I LOGIN', :'damaged') AS damage \gset
:damage;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'database ' || :'damaged'),
    'spare was changed or is incomplete (the next refill retires it)', 'claudable_check() reports a changed spare');
SELECT name AS next_spare FROM claudable.spares WHERE name <> :'damaged' ORDER BY created_at, name LIMIT 1 \gset
SELECT created AS second FROM claudable_provision('spare-2', 'owner-spare') \gset
SELECT is((SELECT detail FROM claudable.events WHERE project_id = 'spare-2' AND action = 'provision'),
    'role and database claimed from spare ' || :'next_spare', 'a changed spare is never claimed');
SELECT is(claudable_refill_spares(), 3, 'the refill retires it and makes a new one');
SELECT is((SELECT count(*) FROM pg_roles WHERE rolname = :'damaged'), 0::bigint, 'the changed spare is gone');

SELECT name AS unlisted FROM claudable.spares ORDER BY name LIMIT 1 \gset
DELETE FROM claudable.spares WHERE name = :'unlisted';
SELECT is((SELECT count(*) FROM claudable_check()
            WHERE problem = 'carries the spare marker but is not in claudable.spares (the next refill drops it)'),
    2::bigint, 'claudable_check() reports a marked role and database missing from claudable.spares');
SELECT is(claudable_refill_spares(), 3, 'the refill drops them and keeps the pool full');
SELECT is((SELECT count(*) FROM pg_database WHERE datname = :'unlisted'), 0::bigint, 'the unlisted spare is gone');

-- What a refill that crashed between its role and its copy leaves: a row in state
-- 'creating' and a marked NOLOGIN role with no database.
INSERT INTO claudable.spares (name, template_name, template_oid, state)
SELECT 'claudable_spare_990', 'template0', oid, 'creating' FROM pg_database WHERE datname = 'template0';
CREATE ROLE claudable_spare_990 NOLOGIN;
SELECT format('COMMENT ON ROLE claudable_spare_990 IS %L', claudable.spare_marker()) AS mark \gset
:mark;
SELECT is((SELECT problem FROM claudable_check() WHERE object = 'database claudable_spare_990'),
    'spare was changed or is incomplete (the next refill retires it)',
    'claudable_check() reports a spare a crashed refill left half-made');
SELECT claudable_refill_spares() AS refilled \gset
SELECT is((SELECT count(*) FROM pg_roles WHERE rolname = 'claudable_spare_990')
          || ' ' || (SELECT count(*) FROM claudable.spares WHERE name = 'claudable_spare_990'), '0 0',
    'the next refill drops its role and its row');

-- A new template retires every spare made from the old one.
CREATE DATABASE spare_template TEMPLATE template0;
REVOKE CONNECT, TEMPORARY ON DATABASE spare_template FROM PUBLIC;
ALTER SYSTEM SET claudable.template = 'spare_template';
SELECT pg_reload_conf() AS reloaded \gset
SELECT pg_sleep(0.5) AS slept \gset
SELECT is((SELECT string_agg(problem, '; ') FROM claudable_check() WHERE object = 'spare pool'),
    '0 of 3 spare databases ready (claudable_refill_spares() fills the pool)',
    'claudable_check() reports the pool below target once the template changes');
SELECT claudable_refill_spares() AS refilled \gset
SELECT is(:refilled || ' ' || (SELECT string_agg(DISTINCT template_name, ',') FROM claudable.spares), '3 spare_template',
    'the refill replaces every spare with a copy of the new template');
ALTER SYSTEM RESET claudable.template;

-- Back to no pool: every spare is dropped.
ALTER SYSTEM RESET claudable.spare_databases;
SELECT pg_reload_conf() AS reloaded \gset
SELECT pg_sleep(0.5) AS slept \gset
SELECT is(claudable_refill_spares() || ' ' || pg_temp.spare_objects(), '0 0',
    'with claudable.spare_databases = 0 the refill drops every spare');
SELECT is(claudable_deprovision('spare-1', 'owner-spare') AND claudable_deprovision('spare-2', 'owner-spare')
          AND claudable_deprovision('spare-rotated', 'owner-spare')
          AND claudable_deprovision('spare-rollback', 'owner-spare'), true,
    'a project made from a spare is deprovisioned like any other');

SELECT * FROM finish();
DROP DATABASE spare_template;
