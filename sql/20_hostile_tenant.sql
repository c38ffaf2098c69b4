-- A tenant that uses its own URL and only its own rights cannot block deprovisioning,
-- bypass a quota or its role settings, park the workers, or leave a dead URL behind; what
-- it changes is reported by claudable_check() and put back by claudable_reconcile().
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
-- Runs `sql` in the tenant's session `conn`; 'SQLSTATE' if it fails, '' if it succeeds.
CREATE FUNCTION pg_temp.tenant(conn text, sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_exec(conn, sql);
    RETURN '';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE;
END $$;
CREATE FUNCTION pg_temp.problems(pattern text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(object || ': ' || problem, E'\n' ORDER BY object, problem) FROM claudable_check()
     WHERE object || ' ' || problem LIKE pattern
$$;

CREATE TEMP TABLE one AS SELECT * FROM claudable_provision('evil-1', 'owner-evil');
CREATE TEMP TABLE two AS SELECT * FROM claudable_provision('evil-2', 'owner-evil');
SELECT dblink_connect('t1', (SELECT database_url FROM one)) AS t1 \gset
SELECT dblink_connect('t2', (SELECT database_url FROM two)) AS t2 \gset

SELECT plan(38);

-- ---- what the tenant changes is reported and repaired --------------------------------
SELECT is(pg_temp.tenant('t1', 'ALTER DATABASE app_db_evil_1 IS_TEMPLATE true'), '',
    'a tenant may mark its own database as a template');
SELECT is(pg_temp.tenant('t1', $$COMMENT ON DATABASE app_db_evil_1 IS 'managed by me'$$), '',
    'and replace its comment, where 0.2.0 kept the ownership marker');
SELECT is(pg_temp.tenant('t1', 'GRANT CONNECT, TEMPORARY ON DATABASE app_db_evil_1 TO PUBLIC'), '',
    'and open it to PUBLIC');
SELECT is(pg_temp.tenant('t1', 'GRANT CONNECT ON DATABASE app_db_evil_1 TO app_u_evil_2'), '',
    'and to another project''s role');
SELECT is(pg_temp.tenant('t1', $$ALTER ROLE app_u_evil_1 IN DATABASE app_db_evil_1 SET statement_timeout = '1h'$$), '',
    'and override its role settings in its database');
SELECT is(pg_temp.problems('%evil_1%'),
    'database app_db_evil_1: PUBLIC holds CONNECT on a managed database' || E'\n' ||
    'database app_db_evil_1: PUBLIC holds TEMPORARY on a managed database' || E'\n' ||
    'database app_db_evil_1: does not carry claudable''s ownership marker (its comment was changed)' || E'\n' ||
    'database app_db_evil_1: is marked as a template (IS_TEMPLATE), so anyone with CONNECT may copy it' || E'\n' ||
    'role app_u_evil_1: overrides settings in database app_db_evil_1 (ALTER ROLE ... IN DATABASE): statement_timeout=1h' || E'\n' ||
    'role app_u_evil_2: can connect to database app_db_evil_1 of project evil-1',
    'claudable_check() reports each of them');
SELECT is((SELECT count(*) FROM claudable_reconcile() WHERE object = 'project evil-1' AND action = 'repaired'), 1::bigint,
    'claudable_reconcile() repairs the project');
SELECT is(pg_temp.problems('%evil%'), NULL, 'and claudable_check() is clean again');
SELECT is((SELECT datistemplate::text || ' ' || shobj_description(oid, 'pg_database') LIKE 'false managed by claudable: project evil-1,%'
             FROM pg_database WHERE datname = 'app_db_evil_1'), true,
    'the database is no template and carries the marker again');

-- ---- the tenant's password, its database ----------------------------------------------
SELECT is(pg_temp.tenant('t1', $$ALTER ROLE app_u_evil_1 PASSWORD 'chosen-by-tenant'$$), '',
    'a tenant may change its own password');
SELECT is(pg_temp.problems('role app_u_evil_1%'),
    'role app_u_evil_1: password was changed outside claudable (claudable_reconcile() puts the stored one back)',
    'claudable_check() reports the changed password');
SELECT is((SELECT count(*) FROM claudable_reconcile() WHERE object = 'project evil-1'), 1::bigint,
    'claudable_reconcile() puts the stored one back');
SELECT is(dblink_connect('t1-again', (SELECT database_url FROM claudable_provision('evil-1', 'owner-evil'))), 'OK',
    'and the URL claudable_provision returns logs in again');
SELECT dblink_disconnect('t1-again') AS gone \gset

SELECT is(pg_temp.login_refusal(regexp_replace((SELECT database_url FROM two), '/app_db_evil_2$', '/postgres')),
    'app_u_evil_2@postgres FATAL:  42501: permission denied for database "postgres"',
    'on a hardened cluster a tenant cannot log in to postgres (42501)');
-- A cluster whose DBA left postgres open (initdb's default): the tenant drops its own
-- database from there, as an owner may.
GRANT CONNECT ON DATABASE postgres TO PUBLIC;
SELECT dblink_connect('t2-elsewhere', regexp_replace((SELECT database_url FROM two), '/app_db_evil_2$', '/postgres'))
    AS elsewhere \gset
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
SELECT is(pg_temp.tenant('t2-elsewhere', 'DROP DATABASE app_db_evil_2 WITH (FORCE)'), '',
    'where postgres is open, a tenant may drop its own database');
SELECT dblink_disconnect('t2-elsewhere') AS gone \gset
SELECT is((SELECT created FROM claudable_provision('evil-2', 'owner-evil')), false,
    'claudable_provision then heals the project (created stays false) ...');
SELECT is(dblink_connect('t2-healed', (SELECT database_url FROM claudable_provision('evil-2', 'owner-evil'))), 'OK',
    '... and returns a URL that logs in, never a dead one');
SELECT dblink_disconnect('t2-healed') AS gone \gset
SELECT is((SELECT detail FROM claudable.events WHERE project_id = 'evil-2' AND action = 'heal' AND outcome = 'succeeded'),
    'database was missing and was re-created empty', 'the healing is audited');
SELECT dblink_disconnect('t2') AS gone \gset
SELECT dblink_connect('t2', (SELECT database_url FROM two)) AS t2 \gset

-- ---- quotas and role settings ---------------------------------------------------------
SET claudable.max_database_size = 1;  -- MB: every database is over it
SELECT is((SELECT action FROM claudable_enforce_quotas() WHERE project_id = 'evil-1'), 'made read-only',
    'a database over the quota is made read-only');
SELECT is(pg_temp.tenant('t1', 'ALTER DATABASE app_db_evil_1 RESET default_transaction_read_only'), '',
    'the tenant may remove the setting');
SELECT is(pg_temp.problems('database app_db_evil_1 quota bypassed%'),
    'database app_db_evil_1: quota bypassed: read-only since ' ||
        (SELECT read_only_since FROM claudable.projects WHERE project_id = 'evil-1') ||
        ' but default_transaction_read_only = on was removed',
    'claudable_check() reports the bypassed quota');
SELECT is((SELECT action FROM claudable_enforce_quotas() WHERE project_id = 'evil-1'),
    're-applied read-only (the setting had been removed)', 'the next enforcement puts it back and says so');
SELECT is(pg_temp.tenant('t1', 'ALTER ROLE app_u_evil_1 SET default_transaction_read_only = off'), '',
    'the tenant may override it on its role');
SELECT is(pg_temp.problems('role app_u_evil_1%'), 'role app_u_evil_1: role settings differ from claudable.role_settings',
    'claudable_check() reports the role-level override');
SELECT is((SELECT count(*) FROM claudable_reconcile() WHERE object = 'project evil-1' AND action = 'repaired'), 1::bigint,
    'claudable_reconcile() removes it');
SELECT is((SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'app_u_evil_1'),
    0::bigint, 'no setting of the tenant''s own is left on its role');
RESET claudable.max_database_size;
SELECT count(*) AS lifted FROM claudable_enforce_quotas() \gset

-- ---- locks --------------------------------------------------------------------------
-- The advisory lock keys 0.2.0 used are anyone's to take; they no longer matter.
SELECT dblink_connect('locker', format('host=%s dbname=%s port=%s user=postgres',
    current_setting('unix_socket_directories'), current_database(), current_setting('port'))) AS locker \gset
SELECT * FROM dblink('locker', $$SELECT pg_advisory_lock(1668047872, 1)::text || pg_advisory_lock(1668047873, hashtext('evil-3'))::text$$)
    AS t(locked text);
SET claudable.worker_timeout = 5000;
SELECT is((SELECT created FROM claudable_provision('evil-3', 'owner-evil')), true,
    'holding the advisory lock keys of 0.2.0 blocks no provisioning');
-- A tenant holds a lock on its own role's row.
SELECT is(pg_temp.tenant('t2', 'BEGIN'), '', 'a tenant opens a transaction');
SELECT is(pg_temp.tenant('t2', $$ALTER ROLE app_u_evil_2 PASSWORD 'holding-the-row'$$), '',
    'and locks its role''s row by changing its password in it');
-- worker_timeout far above the 1 s a step waits for a row its tenant can lock.
SET claudable.worker_timeout = 60000;
SELECT is(pg_temp.sqlstate_of($$SELECT claudable_rotate_password('evil-2', 'owner-evil')$$), '55P03',
    'a rotation waits about a second for the tenant''s row, not claudable.worker_timeout, and fails with 55P03');
SELECT is(pg_temp.error_text($$SELECT claudable_rotate_password('evil-2', 'owner-evil')$$),
    'claudable: rotating the password of project "evil-2" for owner "owner-evil" stopped: a session holds a lock on '
    'role "app_u_evil_2" or its database | '
    'Another session (a session of the project''s own role, after ALTER ROLE or ALTER DATABASE in a transaction '
    'still open) held the row for more than 1000 ms; nothing was changed, and no other project waited. | '
    'End that transaction (pg_stat_activity shows it as ''idle in transaction'' for role "app_u_evil_2") or '
    'terminate the session, then call again.',
    'and says what it waited for and what to do');
RESET claudable.worker_timeout;
SELECT ok((SELECT p.password = t.password FROM claudable_provision('evil-2', 'owner-evil') AS p, two AS t)
          AND NOT EXISTS (SELECT 1 FROM claudable.events
                           WHERE project_id = 'evil-2' AND action = 'rotate' AND outcome = 'succeeded'),
    'and the refused rotation changed nothing: the stored password is the same, no rotation is recorded');

-- ---- deprovisioning cannot be blocked ---------------------------------------------------
SELECT is(pg_temp.tenant('t1', 'ALTER DATABASE app_db_evil_1 IS_TEMPLATE true'), '', 'tenant 1 makes its database a template again');
SELECT is(pg_temp.tenant('t1', 'CREATE TABLE mine (x int); GRANT SELECT ON mine TO app_u_evil_2'), '',
    'and grants tenant 2 a privilege in it, which would make DROP ROLE of tenant 2 fail');
SELECT is(pg_temp.tenant('t1', 'GRANT CONNECT ON DATABASE app_db_evil_1 TO app_u_evil_2'), '',
    'and a privilege on the database itself');
SELECT is(claudable_deprovision('evil-2', 'owner-evil'), true,
    'tenant 2 is deprovisioned while it holds an open transaction and privileges elsewhere');
SELECT is(claudable_deprovision('evil-1', 'owner-evil'), true,
    'tenant 1 is deprovisioned while its session is open and its database is a template');
SELECT is((SELECT count(*) FROM pg_roles WHERE rolname IN ('app_u_evil_1', 'app_u_evil_2'))
          + (SELECT count(*) FROM pg_database WHERE datname IN ('app_db_evil_1', 'app_db_evil_2'))
          + (SELECT count(*) FROM claudable.projects WHERE project_id IN ('evil-1', 'evil-2')), 0::bigint,
    'both roles, both databases and both rows are gone');

SELECT * FROM finish();
SELECT dblink_disconnect('locker') AS gone \gset
SELECT claudable_deprovision('evil-3', 'owner-evil') AS cleaned_up \gset
