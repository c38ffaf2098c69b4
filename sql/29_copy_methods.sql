-- How snapshots, restores and branches copy a database (0.8.0): WAL_LOG below
-- claudable.file_copy_threshold, FILE_COPY from it on; on PostgreSQL 18 and later FILE_COPY
-- copies each file as claudable.file_copy_method says (clone, copy, or auto: clone where the
-- data directory's file system shares blocks). The audit trail names what each copy used.
-- One expected output for every major: where the majors differ, each test asserts each one's
-- own answer.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
LOAD 'claudable';  -- its settings are defined when the library loads
CREATE ROLE copy_probe NOLOGIN;
-- pg_temp.eighteen: the server has file_copy_method.
CREATE FUNCTION pg_temp.eighteen() RETURNS boolean LANGUAGE sql AS $$
    SELECT current_setting('server_version_num')::int >= 180000
$$;
-- pg_temp.last_copy(project): how the project's last snapshot, restore or branch copied.
CREATE FUNCTION pg_temp.last_copy(project text) RETURNS text LANGUAGE sql AS $$
    SELECT substring(detail FROM '\(((?:WAL_LOG|FILE_COPY)[^)]*)\)')
      FROM claudable.events WHERE project_id = project AND outcome = 'succeeded'
                              AND action IN ('snapshot', 'restore', 'branch')
     ORDER BY id DESC LIMIT 1
$$;

SELECT plan(13);

SELECT is(current_setting('claudable.file_copy_method') || ' '
          || (SELECT context FROM pg_settings WHERE name = 'claudable.file_copy_method'), 'auto superuser',
    'claudable.file_copy_method is auto by default and superuser-only');
SET ROLE copy_probe;
SELECT is(pg_temp.sqlstate_of('SET claudable.file_copy_method = copy'), '42501',
    'a role without superuser cannot set it');
RESET ROLE;
SELECT is(pg_temp.error_text('SET claudable.file_copy_method = reflink'),
    'invalid value for parameter "claudable.file_copy_method": "reflink" | Available values: auto, copy, clone.',
    'a value other than auto, copy and clone is refused with the ones there are');
SELECT is(pg_temp.error_text('SET claudable.file_copy_method = clone'),
    CASE WHEN pg_temp.eighteen() THEN NULL
         ELSE 'invalid value for parameter "claudable.file_copy_method": "clone" | '
              || 'claudable.file_copy_method = clone needs PostgreSQL 18 or later (file_copy_method); this server is '
              || current_setting('server_version') || '. | Use auto or copy on this server.' END,
    'clone is accepted from PostgreSQL 18 on, and refused before with what to set instead');
RESET claudable.file_copy_method;

CREATE TEMP TABLE project AS SELECT * FROM claudable_provision('copies-1', 'owner-copies');
SELECT dblink_connect('tenant', (SELECT database_url FROM project));
SELECT dblink_exec('tenant', 'CREATE TABLE items AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 5000) g');
SELECT dblink_disconnect('tenant');
CREATE FUNCTION pg_temp.items_digest(url text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE digest text;
BEGIN
    PERFORM dblink_connect('reader', url);
    SELECT d INTO digest FROM dblink('reader', 'SELECT md5(string_agg(id || name, '','' ORDER BY id)) FROM items') AS t(d text);
    PERFORM dblink_disconnect('reader');
    RETURN digest;
END $$;
SELECT pg_temp.items_digest((SELECT database_url FROM project)) AS before_digest \gset

SELECT ok((SELECT snapshot_id FROM claudable_snapshot('copies-1', 'owner-copies', 'small')) IS NOT NULL
          AND pg_temp.last_copy('copies-1') = 'WAL_LOG',
    'below claudable.file_copy_threshold a snapshot copies with WAL_LOG');

SET claudable.file_copy_threshold = 0;
SELECT ok((SELECT snapshot_id FROM claudable_snapshot('copies-1', 'owner-copies', 'auto')) IS NOT NULL
          AND pg_temp.last_copy('copies-1') ~ CASE WHEN pg_temp.eighteen() THEN '^FILE_COPY, (copy|clone)$' ELSE '^FILE_COPY$' END,
    'from it on with FILE_COPY; on 18 auto names the file copy method it chose');

SET claudable.file_copy_method = copy;
SELECT ok((SELECT snapshot_id FROM claudable_snapshot('copies-1', 'owner-copies', 'copied')) IS NOT NULL
          AND pg_temp.last_copy('copies-1') = CASE WHEN pg_temp.eighteen() THEN 'FILE_COPY, copy' ELSE 'FILE_COPY' END,
    'claudable.file_copy_method = copy copies the files (on 18 file_copy_method = copy)');

-- Before 18 clone cannot be set (above): the same snapshot copies the files.
SELECT set_config('claudable.file_copy_method', CASE WHEN pg_temp.eighteen() THEN 'clone' ELSE 'copy' END, false) AS method \gset
SELECT ok((SELECT snapshot_id FROM claudable_snapshot('copies-1', 'owner-copies', 'cloned')) IS NOT NULL
          AND pg_temp.last_copy('copies-1') = CASE WHEN pg_temp.eighteen() THEN 'FILE_COPY, clone' ELSE 'FILE_COPY' END,
    'on 18 claudable.file_copy_method = clone clones the files');

-- The tenant changes its data; restoring the cloned snapshot brings back what it held.
SELECT dblink_connect('tenant', (SELECT database_url FROM project));
SELECT dblink_exec('tenant', 'DELETE FROM items WHERE id > 10');
SELECT dblink_disconnect('tenant');
SELECT ok((SELECT created FROM claudable_restore('copies-1', 'owner-copies',
                                                  (SELECT snapshot_id FROM claudable.snapshots
                                                    WHERE project_id = 'copies-1' AND label = 'cloned'))) IS NOT NULL
          AND pg_temp.last_copy('copies-1') = CASE WHEN pg_temp.eighteen() THEN 'FILE_COPY, clone' ELSE 'FILE_COPY' END,
    'a restore copies with the same method');
SELECT is(pg_temp.items_digest((SELECT database_url FROM project)), :'before_digest',
    'and the restored database holds exactly the rows the snapshot was taken with');

CREATE TEMP TABLE branch AS SELECT * FROM claudable_branch('copies-1', 'owner-copies', 'preview', 'current');
SELECT ok((SELECT created FROM branch) AND pg_temp.last_copy('copies-1~preview') = CASE WHEN pg_temp.eighteen() THEN 'FILE_COPY, clone' ELSE 'FILE_COPY' END,
    'a branch from current copies with it too');
SELECT is(pg_temp.items_digest((SELECT database_url FROM branch)), :'before_digest',
    'and holds the parent''s rows');

RESET claudable.file_copy_method;
RESET claudable.file_copy_threshold;
SELECT is((SELECT count(*) FROM claudable_check()), 0::bigint, 'claudable_check() finds nothing to report');

SELECT * FROM finish();
SELECT claudable_deprovision('copies-1~preview', 'owner-copies') AND claudable_deprovision('copies-1', 'owner-copies')
       AS cleaned_up \gset
