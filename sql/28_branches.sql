-- Branches (0.7.0): claudable_branch makes project~branch_id, a project of its own (role,
-- password, database, URL) copied from the project now, from the template ('empty', a
-- spare when one is ready) or from a snapshot. The branch's role owns every object in the
-- branch and has no right on the parent; the parent's ownership and grants are untouched.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE ROLE deploy_branches LOGIN;
GRANT CONNECT ON DATABASE :"db" TO deploy_branches;
GRANT EXECUTE ON FUNCTION claudable_provision(text, text), claudable_rotate_password(text, text),
                          claudable_deprovision(text, text), claudable_snapshot(text, text, text),
                          claudable_branch(text, text, text, text, timestamptz) TO deploy_branches;
CALL pg_temp.connect_as('deploy', 'deploy_branches');

SELECT plan(37);

CREATE TEMP TABLE parent AS SELECT * FROM claudable_provision('br-1', 'owner-br');
SELECT dblink_connect('parent', (SELECT database_url FROM parent));
SELECT dblink_exec('parent', $$CREATE TABLE items (id int PRIMARY KEY, name text);
                               INSERT INTO items VALUES (1, 'one');
                               CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
                               CREATE SCHEMA app; CREATE TABLE app.t (x int);
                               DO 'BEGIN PERFORM lo_from_bytea(0, ''large''); END'$$);
SELECT dblink_disconnect('parent');
CREATE TEMP TABLE parent_before AS
    SELECT d.datdba, d.datacl::text AS acl FROM pg_database d WHERE d.datname = 'app_db_br_1';

CREATE TEMP TABLE branch AS
    SELECT * FROM dblink('deploy', $$SELECT project_id, database_name, username, database_url, created
                                       FROM claudable_branch('br-1', 'owner-br', 'pr-42')$$)
        AS t(project_id text, database_name text, username text, database_url text, created boolean);
SELECT is((SELECT project_id || ' ' || created FROM branch), 'br-1~pr-42 true',
    'the deploy service makes branch br-1~pr-42 of project br-1');
SELECT ok((SELECT database_name ~ '^app_br_br_1_pr_42_[0-9a-f]{8}$' AND username ~ '^app_bu_br_1_pr_42_[0-9a-f]{8}$' FROM branch),
    'with its own database and role, named apart from every ordinary project''s');
SELECT isnt((SELECT database_url FROM branch), (SELECT database_url FROM parent), 'and its own URL');
SELECT dblink_connect('branch', (SELECT database_url FROM branch));
SELECT is(pg_temp.on('branch', $$SELECT current_user || ' ' || string_agg(name, ',') FROM items$$),
    (SELECT username || ' one' FROM branch),
    'its URL logs in as its role and sees the project''s data');
SELECT is(pg_temp.on('branch', $$SELECT count(*)::text FROM (
        SELECT relowner AS owner FROM pg_class WHERE relnamespace IN ('public'::regnamespace, 'app'::regnamespace)
        UNION ALL SELECT proowner FROM pg_proc WHERE pronamespace = 'public'::regnamespace
        UNION ALL SELECT nspowner FROM pg_namespace WHERE nspname = 'app'
        UNION ALL SELECT lomowner FROM pg_largeobject_metadata) o WHERE o.owner <> current_user::regrole$$), '0',
    'its role owns every object in the branch: tables, functions, schemas, large objects');
SELECT is(pg_temp.on('branch', $$SELECT (SELECT rolname FROM pg_roles WHERE oid = datdba) FROM pg_database WHERE datname = current_database()$$),
    (SELECT username FROM branch), 'and the database');
SELECT is(pg_temp.on('branch', 'INSERT INTO items VALUES (2, ''two'') RETURNING id::text'), '2', 'it writes to its copy');
SELECT dblink_disconnect('branch');
SELECT dblink_connect('parent', (SELECT database_url FROM parent));
SELECT is(pg_temp.on('parent', $$SELECT string_agg(name, ',') || ' ' || (SELECT count(*) FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relowner <> current_user::regrole) FROM items$$), 'one 0',
    'the parent keeps its data, and its role still owns its objects');
SELECT dblink_disconnect('parent');
SELECT ok((SELECT d.datdba = b.datdba AND d.datacl::text = b.acl FROM pg_database d, parent_before b WHERE d.datname = 'app_db_br_1'),
    'the parent''s database keeps its owner and its grants');
SELECT matches(pg_temp.login_refusal(regexp_replace((SELECT database_url FROM branch), '/[^/?]+$', '/app_db_br_1')),
    'FATAL:  42501: permission denied for database "app_db_br_1"', 'the branch''s role cannot connect to the parent');
SELECT matches(pg_temp.login_refusal(regexp_replace((SELECT database_url FROM parent), '/[^/?]+$', '/' || (SELECT database_name FROM branch))),
    'FATAL:  42501: permission denied for database "app_br_', 'nor the parent''s role to the branch');

SELECT is(pg_temp.on('deploy', $$SELECT created::text FROM claudable_branch('br-1', 'owner-br', 'pr-42')$$), 'false',
    'claudable_branch again returns the branch, created false');
SELECT is(pg_temp.on('deploy', $$SELECT database_url FROM claudable_provision('br-1~pr-42', 'owner-br')$$),
    (SELECT database_url FROM branch), 'claudable_provision returns the branch by its project id');
SELECT isnt(pg_temp.on('deploy', $$SELECT database_url FROM claudable_rotate_password('br-1~pr-42', 'owner-br')$$),
    (SELECT database_url FROM branch), 'claudable_rotate_password gives the branch a new password');
SELECT is((SELECT parent_project_id FROM claudable.databases WHERE project_id = 'br-1~pr-42'), 'br-1',
    'claudable.databases lists the branch under its parent');

-- From the template, and from a snapshot.
CREATE TEMP TABLE empty_branch AS
    SELECT * FROM dblink('deploy', $$SELECT database_url FROM claudable_branch('br-1', 'owner-br', 'shadow', 'empty')$$) AS t(database_url text);
SELECT dblink_connect('empty', (SELECT database_url FROM empty_branch));
SELECT is(pg_temp.on('empty', $$SELECT count(*)::text FROM pg_class WHERE relnamespace = 'public'::regnamespace$$), '0',
    'a branch from ''empty'' is a database made from the template: the shadow database Prisma needs');
SELECT dblink_disconnect('empty');
CREATE TEMP TABLE snap AS SELECT snapshot_id FROM claudable_snapshot('br-1', 'owner-br');
SELECT dblink_connect('parent', (SELECT database_url FROM parent));
SELECT dblink_exec('parent', 'DELETE FROM items');
SELECT dblink_disconnect('parent');
CREATE TEMP TABLE snap_branch AS
    SELECT * FROM claudable_branch('br-1', 'owner-br', 'from-snap', (SELECT snapshot_id FROM snap));
SELECT dblink_connect('from_snap', (SELECT database_url FROM snap_branch));
SELECT is(pg_temp.on('from_snap', 'SELECT string_agg(name, '','') FROM items'), 'one',
    'a branch from a snapshot holds the snapshot''s data, not the project''s now');
SELECT dblink_disconnect('from_snap');

-- Refusals create nothing.
CREATE TEMP TABLE before_refusals AS SELECT (SELECT count(*) FROM pg_database) AS databases,
                                            (SELECT count(*) FROM pg_roles) AS roles,
                                            (SELECT count(*) FROM claudable.projects) AS projects;
SELECT throws_ok($$SELECT claudable_provision('br-1~never-made', 'owner-br')$$, 'P0002',
    'claudable: branch "br-1~never-made" does not exist', 'claudable_provision does not make a branch: it cannot know the source');
SELECT throws_ok($$SELECT claudable_branch('br-1~pr-42', 'owner-br', 'deeper')$$, '0A000', NULL, 'a branch of a branch is 0A000');
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', 'no~tilde')$$, '22023', NULL, 'a branch_id with ''~'' is 22023');
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', repeat('b', 64))$$, '22023', NULL, 'a branch_id over 63 characters is 22023');
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', '')$$, '22023', 'invalid branch_id: length must be 1 to 63 characters',
    'an empty branch_id is 22023, with the branch_id''s own limit');
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', 'x', 'current', 'infinity')$$, '22023',
    'claudable: expires_at must be a finite time', 'an expires_at of infinity is 22023');
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', 'x', 'yesterday')$$, '22023', 'claudable: invalid source',
    'a source that is not current, empty or a snapshot_id is 22023');
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', 'x', 'snap-000000000000')$$, 'P0002', NULL,
    'a snapshot the project does not have is P0002');
SELECT is(pg_temp.sqlstate_of($$SELECT * FROM dblink('deploy', 'SELECT project_id FROM claudable_branch(''br-1'', ''someone-else'', ''x'')') AS t(x text)$$),
    '42501', 'another owner_id cannot branch the project');
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', 'x', 'current', now() - interval '1 minute')$$, '22023',
    'claudable: expires_at is in the past', 'an expires_at in the past is 22023');
SET claudable.max_branches_per_project = 3;
SELECT throws_ok($$SELECT claudable_branch('br-1', 'owner-br', 'fourth')$$, '53400', NULL,
    'past claudable.max_branches_per_project a branch is 53400');
RESET claudable.max_branches_per_project;
SELECT ok((SELECT b.databases = (SELECT count(*) FROM pg_database) AND b.roles = (SELECT count(*) FROM pg_roles)
                  AND b.projects = (SELECT count(*) FROM claudable.projects) FROM before_refusals b),
    'no refusal created a database, a role or a record');

-- Expiry: claudable.branch_ttl, or expires_at given; claudable_reconcile() removes it after.
SET claudable.branch_ttl = '1h';
SELECT (claudable_branch('br-1', 'owner-br', 'ttl')).created;
SELECT ok((SELECT expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes' FROM claudable.databases
            WHERE project_id = 'br-1~ttl'),
    'claudable.branch_ttl sets a new branch''s expires_at');
RESET claudable.branch_ttl;
SELECT (claudable_branch('br-1', 'owner-br', 'short', 'empty', clock_timestamp() + interval '1 second')).created;
SELECT pg_sleep(1.2);
SELECT is((SELECT count(*) FROM claudable_check() WHERE problem LIKE 'branch of project br-1 expired at %'), 1::bigint,
    'claudable_check() reports the branch past its expires_at');
SELECT is((SELECT string_agg(action || ' ' || object, ',') FROM claudable_reconcile()), 'removed project br-1~short',
    'claudable_reconcile() removes it, and nothing else');
SELECT is((SELECT count(*) FROM claudable.projects WHERE project_id = 'br-1~short'), 0::bigint, 'it is gone');

SELECT is((SELECT count(*) FROM claudable_check()), 0::bigint, 'claudable_check() finds nothing to report');
SELECT is(pg_temp.on('deploy', $$SELECT claudable_deprovision('br-1~ttl', 'owner-br')::text$$), 'true',
    'a branch is deprovisioned on its own');
SELECT ok(claudable_deprovision('br-1', 'owner-br'), 'deprovisioning the project');
SELECT is((SELECT count(*) FROM pg_database WHERE datname ~ '^(app_br_|claudable_snap_)')
          + (SELECT count(*) FROM pg_roles WHERE rolname ~ '^app_bu_')
          + (SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'br-1%'), 0::bigint,
    'removes its branches and snapshots: databases, roles and records');

SELECT * FROM finish();
