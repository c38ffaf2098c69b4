-- Snapshots and restore (0.7.0): claudable_snapshot copies a project's database into one
-- nobody can connect to; claudable_restore puts a snapshot's contents back under the same
-- URL and keeps the state it replaced as a snapshot, so a restore can be undone. The deploy
-- service calls them with EXECUTE only; the tenant, with its own URL, reaches no snapshot.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE ROLE deploy_snapshots LOGIN;
GRANT CONNECT ON DATABASE :"db" TO deploy_snapshots;
GRANT EXECUTE ON FUNCTION claudable_provision(text, text), claudable_snapshot(text, text, text),
                          claudable_snapshots(text, text), claudable_restore(text, text, text),
                          claudable_drop_snapshot(text, text, text) TO deploy_snapshots;
CALL pg_temp.connect_as('deploy', 'deploy_snapshots');
-- pg_temp.tenant(conn, project) opens `conn` as the project's own role with its own URL.
CREATE PROCEDURE pg_temp.tenant(conn text, project text) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_connect(conn, (SELECT database_url FROM claudable_provision(project, 'owner-snap')));
END $$;

SELECT plan(40);

CREATE TEMP TABLE first_row AS SELECT * FROM claudable_provision('snap-1', 'owner-snap');
CALL pg_temp.tenant('tenant', 'snap-1');
SELECT dblink_exec('tenant', 'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, ''one'')');

CREATE TEMP TABLE snap AS
    SELECT * FROM dblink('deploy', $$SELECT * FROM claudable_snapshot('snap-1', 'owner-snap', 'before the migration')$$)
        AS t(snapshot_id text, project_id text, label text, size_bytes bigint, created_at timestamptz);
SELECT ok((SELECT snapshot_id ~ '^snap-[0-9a-f]{12}$' AND project_id = 'snap-1' AND label = 'before the migration'
                  AND size_bytes > 0 AND created_at <= now() FROM snap),
    'the deploy service takes a snapshot: its id, project, label, size and time');
SELECT ok((SELECT NOT d.datallowconn AND NOT d.datistemplate AND d.datdba = (SELECT extowner FROM pg_extension WHERE extname = 'claudable')
                  AND NOT EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
                                   WHERE a.grantee <> d.datdba)
             FROM pg_database d, snap WHERE d.datname = 'claudable_snap_' || substr(snap.snapshot_id, 6)),
    'its database refuses connections, is the extension owner''s and grants nothing');
SELECT matches(pg_temp.on('tenant', 'SELECT count(*)::text FROM items'), '^08006: FATAL:  terminating connection due to administrator command',
    'the tenant''s open session was ended for the copy');
SELECT dblink_disconnect('tenant');
CALL pg_temp.tenant('tenant', 'snap-1');
SELECT is(pg_temp.on('tenant', 'SELECT count(*)::text FROM items'), '1', 'and a new one logs in at once');
SELECT matches(pg_temp.login_refusal(regexp_replace((SELECT database_url FROM first_row), '/app_db_snap_1$',
                                                    '/claudable_snap_' || (SELECT substr(snapshot_id, 6) FROM snap))),
    'FATAL:  55000: database "claudable_snap_[0-9a-f]+" is not currently accepting connections',
    'the tenant cannot log in to the snapshot with its own password');
SELECT dblink_connect('tenant_db', (SELECT database_url FROM first_row));
SELECT is(pg_temp.on('tenant_db', format('DROP DATABASE claudable_snap_%s', (SELECT substr(snapshot_id, 6) FROM snap))),
    '42501: must be owner of database claudable_snap_' || (SELECT substr(snapshot_id, 6) FROM snap),
    'the tenant cannot drop the snapshot');
SELECT is(pg_temp.on('tenant_db', format('ALTER DATABASE claudable_snap_%s ALLOW_CONNECTIONS true', (SELECT substr(snapshot_id, 6) FROM snap))),
    '42501: must be owner of database claudable_snap_' || (SELECT substr(snapshot_id, 6) FROM snap),
    'nor open it');
SELECT is(pg_temp.on('tenant_db', format('GRANT CONNECT ON DATABASE claudable_snap_%s TO PUBLIC', (SELECT substr(snapshot_id, 6) FROM snap))),
    '42501: permission denied for database claudable_snap_' || (SELECT substr(snapshot_id, 6) FROM snap),
    'nor grant anything on it');
SELECT dblink_disconnect('tenant_db');

-- The migration goes wrong; the app rolls its code back and the database with it.
SELECT dblink_exec('tenant', 'DROP TABLE items; CREATE TABLE wrong (x int)');
CREATE TEMP TABLE restored AS
    SELECT * FROM dblink('deploy', format($$SELECT database_url, created FROM claudable_restore('snap-1', 'owner-snap', %L)$$,
                                          (SELECT snapshot_id FROM snap))) AS t(database_url text, created boolean);
SELECT ok((SELECT r.database_url = f.database_url AND NOT r.created FROM restored r, first_row f),
    'a restore returns the same DATABASE_URL (name, role, password), created false');
SELECT dblink_connect('after', (SELECT database_url FROM first_row));
SELECT is(pg_temp.on('after', $$SELECT string_agg(name, ',') || ' ' || (to_regclass('wrong') IS NULL) FROM items$$), 'one true',
    'the URL logs in and the database holds the snapshot''s contents');
SELECT is(pg_temp.on('after', $$SELECT string_agg(tableowner, ',') FROM pg_tables WHERE schemaname = 'public'$$), 'app_u_snap_1',
    'its tables are the project role''s, as before');
SELECT dblink_disconnect('after');
SELECT matches(pg_temp.on('tenant', 'SELECT 1::text'), '^08006: |^XX000: |server closed the connection',
    'a session open before the restore was ended by it');
SELECT dblink_disconnect('tenant');

CREATE TEMP TABLE listed AS
    SELECT * FROM dblink('deploy', $$SELECT * FROM claudable_snapshots('snap-1', 'owner-snap')$$)
        AS t(snapshot_id text, project_id text, label text, size_bytes bigint, created_at timestamptz);
SELECT is((SELECT array_agg(label ORDER BY ordinality) FROM (SELECT label, row_number() OVER () AS ordinality FROM listed) l),
    ARRAY['before restore of ' || (SELECT snapshot_id FROM snap), 'before the migration'],
    'claudable_snapshots lists the state before the restore first (newest first), and keeps the snapshot');

-- Undo the restore: the state it replaced is a snapshot like any other.
SELECT is(pg_temp.on('deploy', format($$SELECT created::text FROM claudable_restore('snap-1', 'owner-snap', %L)$$,
                                      (SELECT snapshot_id FROM listed WHERE label LIKE 'before restore%'))), 'false',
    'restoring the state before the restore undoes it');
SELECT dblink_connect('undone', (SELECT database_url FROM first_row));
SELECT is(pg_temp.on('undone', $$SELECT (to_regclass('items') IS NULL) || ' ' || (to_regclass('wrong') IS NOT NULL)$$), 'true true',
    'and brings the state the first restore replaced back');
SELECT dblink_disconnect('undone');
SELECT is((SELECT count(*) FROM claudable.snapshots WHERE project_id = 'snap-1' AND state = 'ready'), 3::bigint,
    'each restore kept what it replaced: three snapshots');

-- Refusals change nothing.
CREATE TEMP TABLE before_refusals AS SELECT (SELECT count(*) FROM pg_database) AS databases,
                                            (SELECT count(*) FROM claudable.snapshots) AS snapshots;
SELECT throws_ok($$SELECT claudable_restore('snap-1', 'owner-snap', 'snap-000000000000')$$, 'P0002',
    'claudable: project "snap-1" has no snapshot "snap-000000000000"', 'an unknown snapshot_id is P0002');
SELECT throws_ok($$SELECT claudable_restore('snap-1', 'owner-snap', 'snap-1; DROP')$$, '22023', 'invalid snapshot_id',
    'a snapshot_id of another shape is 22023');
SELECT is(pg_temp.sqlstate_of($$SELECT * FROM dblink('deploy', 'SELECT snapshot_id FROM claudable_snapshot(''snap-1'', ''someone-else'')') AS t(x text)$$),
    '42501', 'another owner_id cannot take a snapshot');
SELECT is(pg_temp.sqlstate_of($$SELECT * FROM dblink('deploy', 'SELECT snapshot_id FROM claudable_snapshots(''snap-1'', ''someone-else'')') AS t(x text)$$),
    '42501', 'nor list them');
SELECT throws_ok($$SELECT claudable_snapshot('snap-1', 'owner-snap', repeat('x', 201))$$, '22023', 'claudable: invalid label',
    'a label over 200 characters is 22023');
SELECT throws_ok($$SELECT claudable_snapshot('snap-1', 'owner-snap', E'two\nlines')$$, '22023', 'claudable: invalid label',
    'a label with a control character is 22023');
SELECT throws_ok($$SELECT claudable_snapshot('snap-1', 'owner-snap', repeat('ä', 201))$$, '22023', 'claudable: invalid label',
    'the limit counts characters: 201 of two bytes each are refused');
SELECT throws_ok($$SELECT claudable_snapshot('snap-1', 'owner-snap', E'a\u0085b')$$, '22023', 'claudable: invalid label',
    'a C1 control character is refused');
SELECT throws_ok($$SELECT claudable_snapshot('snap-1', 'owner-snap', E'\u202Ereversed')$$, '22023', 'claudable: invalid label',
    'a bidirectional override is refused');
SELECT throws_ok($$SELECT claudable_snapshot('no-such-project', 'owner-snap')$$, 'P0002', NULL,
    'a snapshot of a project that does not exist is P0002');
CREATE TEMP TABLE other_project AS SELECT * FROM claudable_provision('snap-2', 'owner-snap');
SELECT throws_ok(format($$SELECT claudable_restore('snap-2', 'owner-snap', %L)$$, (SELECT snapshot_id FROM snap)), 'P0002', NULL,
    'another project''s snapshot cannot be restored');
SET claudable.max_snapshots_per_project = 3;
SELECT throws_ok($$SELECT claudable_snapshot('snap-1', 'owner-snap')$$, '53400', NULL,
    'past claudable.max_snapshots_per_project a snapshot is 53400');
SELECT throws_ok(format($$SELECT claudable_restore('snap-1', 'owner-snap', %L)$$, (SELECT snapshot_id FROM snap)), '53400', NULL,
    'and so is a restore, which needs room for the state it replaces');
RESET claudable.max_snapshots_per_project;
SELECT ok((SELECT b.databases = (SELECT count(*) FROM pg_database) - 1  -- snap-2's database
                  AND b.snapshots = (SELECT count(*) FROM claudable.snapshots) FROM before_refusals b),
    'no refusal created a database or a snapshot');

SELECT is((SELECT char_length(label) FROM claudable_snapshot('snap-1', 'owner-snap', repeat('ä', 200))), 200,
    'a label of 200 characters of two bytes each is taken');
SELECT ok(claudable_drop_snapshot('snap-1', 'owner-snap', (SELECT snapshot_id FROM claudable.snapshots WHERE label = repeat('ä', 200))),
    'and dropped again');
SELECT is(pg_temp.on('deploy', format($$SELECT claudable_drop_snapshot('snap-1', 'owner-snap', %L)::text$$, (SELECT snapshot_id FROM snap))),
    'true', 'the deploy service drops a snapshot');
SELECT is(pg_temp.on('deploy', format($$SELECT claudable_drop_snapshot('snap-1', 'owner-snap', %L)::text$$, (SELECT snapshot_id FROM snap))),
    'false', 'dropping it again answers false');
SELECT is((SELECT count(*) FROM pg_database WHERE datname = 'claudable_snap_' || (SELECT substr(snapshot_id, 6) FROM snap)), 0::bigint,
    'its database is gone');
SELECT is((SELECT string_agg(action, ',' ORDER BY id) FROM claudable.events
            WHERE project_id = 'snap-1' AND outcome = 'succeeded' AND action <> 'provision'),
    'snapshot,restore,restore,snapshot,drop_snapshot,drop_snapshot', 'each step is in the audit trail');
SELECT is((SELECT snapshots || ' ' || (snapshots_size_bytes > 0) FROM claudable.databases WHERE project_id = 'snap-1'), '2 true',
    'claudable.databases counts and measures the project''s snapshots');
SELECT is((SELECT count(*) FROM claudable_check()), 0::bigint, 'claudable_check() finds nothing to report');
SELECT ok(claudable_deprovision('snap-1', 'owner-snap'), 'the project is deprovisioned');
SELECT is((SELECT count(*) FROM pg_database WHERE datname LIKE 'claudable_snap_%') + (SELECT count(*) FROM claudable.snapshots),
    0::bigint, 'with its snapshots: databases and records');

SELECT * FROM finish();
SELECT claudable_deprovision('snap-2', 'owner-snap');
