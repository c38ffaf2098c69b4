-- The key: created only by the first provisioning, never by a lookup or while sealed rows
-- exist; a missing or wrong key is refused with its own error; claudable_rotate_key()
-- re-seals everything and the old key is refused afterwards; claudable.key_file keeps the
-- key outside the database. Runs in databases of its own, through dblink.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE FUNCTION pg_temp.connect(name text, db text) RETURNS text LANGUAGE sql AS $$
    SELECT dblink_connect(name, format('host=%s port=%s dbname=%s user=postgres',
                                       current_setting('unix_socket_directories'), current_setting('port'), db))
$$;
-- 'SQLSTATE: message | detail | hint' of the error `sql` raises in database `conn` (NULL if none).
CREATE FUNCTION pg_temp.error_on(conn text, sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; d text; h text;
BEGIN
    PERFORM * FROM dblink(conn, sql) AS t(v text);
    RETURN NULL;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || concat_ws(' | ', m, nullif(d, ''), nullif(h, ''));
END $$;
-- The permission bits of a file in the data directory, as stat prints them ('600').
CREATE FUNCTION pg_temp.file_mode(path text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE mode text;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS file_mode_out (m text);
    TRUNCATE file_mode_out;
    EXECUTE format('COPY file_mode_out FROM PROGRAM %L', 'stat -c %a ' || quote_literal(path));
    SELECT m INTO mode FROM file_mode_out;
    RETURN mode;
END $$;
SELECT current_setting('data_directory') AS data_dir,
       current_setting('data_directory') || '/claudable_test_wrong.key' AS wrong_key \gset

CREATE DATABASE claudable_keys;
SELECT pg_temp.connect('k', 'claudable_keys') AS connected \gset
SELECT dblink_exec('k', 'CREATE EXTENSION claudable') AS installed \gset

SELECT plan(37);

SELECT is(pg_temp.on('k', 'SELECT count(*)::text FROM claudable.key_ring'), '0', 'installing the extension creates no key');
SELECT is(pg_temp.on('k', $$SELECT created::text FROM claudable_provision('key-1', 'owner-k')$$), 'true',
    'the first provisioning succeeds');
SELECT is(pg_temp.on('k', $$SELECT count(*)::text FROM claudable.key_ring k JOIN claudable.key_material m USING (fingerprint)
                            WHERE k.state = 'active'$$), '1',
    'and creates one active key, kept in claudable.key_material');
SELECT is(pg_temp.on('k', $$SELECT count(*)::text FROM claudable.projects p, claudable.key_ring k
                            WHERE k.state = 'active' AND p.key_fingerprint = k.fingerprint$$), '1',
    'each row records the fingerprint of the key that sealed it');
CREATE TEMP TABLE original AS
    SELECT * FROM dblink('k', $$SELECT p.password, m.material FROM claudable_provision('key-1', 'owner-k') AS p,
                                       claudable.key_material AS m$$) AS t(password text, material bytea);

-- The key disappears (a standby cloned without it, a restore that lost it). A session that
-- already read the key keeps it in memory, so the calls below come from a new session.
SELECT dblink_exec('k', 'DELETE FROM claudable.key_material') AS deleted \gset
SELECT dblink_disconnect('k') AS reconnect \gset
SELECT pg_temp.connect('k', 'claudable_keys') AS connected \gset
SELECT matches(pg_temp.on('k', $$SELECT password FROM claudable_provision('key-1', 'owner-k')$$),
    '^58P01: claudable: the key that sealed the stored passwords is missing',
    'a lookup whose key is missing is refused at once with 58P01');
SELECT matches(pg_temp.on('k', $$SELECT password FROM claudable_provision('key-new', 'owner-k')$$),
    '^58P01: claudable: no key is recorded|^58P01: claudable: the key that sealed',
    'a new project is refused too: no new key is made while sealed rows exist');
SELECT is(pg_temp.on('k', $$SELECT (SELECT count(*) FROM claudable.key_ring)::text || '/' ||
                                   (SELECT count(*) FROM claudable.key_material) || '/' ||
                                   (SELECT count(*) FROM claudable.projects WHERE project_id = 'key-new') || '/' ||
                                   (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_key_new')$$), '1/0/0/0',
    'and nothing was created: no key, no row, no role');
SELECT is(pg_temp.on('k', $$SELECT count(*)::text FROM claudable_check() WHERE object = 'key'
                                AND problem LIKE 'claudable: the key that sealed the stored passwords is missing%'$$), '1',
    'claudable_check() reports the missing key');
SELECT matches(pg_temp.error_on('k', $$SELECT password FROM claudable_provision('key-1', 'owner-k')$$),
    '^58P01: .*\| [^|]*Restore the key with the recorded fingerprint[^|]*claudable_import_key',
    'the refusal (58P01) has a hint that says how to restore the key');
-- The statement carries the key: that session does not log it.
SELECT dblink_exec('k', 'SET log_statement = none') AS unlogged \gset
SELECT dblink_exec('k', format('INSERT INTO claudable.key_material SELECT fingerprint, %L FROM claudable.key_ring',
                               (SELECT material FROM original))) AS restored \gset
SELECT dblink_exec('k', 'RESET log_statement') AS logged \gset
SELECT ok(pg_temp.on('k', $$SELECT password FROM claudable_provision('key-1', 'owner-k')$$) = (SELECT password FROM original),
    'with the key restored the same password comes back');

-- Another key in claudable.key_file.
COPY (SELECT repeat('ab', 32)) TO :'wrong_key';
DO $$ BEGIN  -- COPY leaves it readable by all, which a key file must not be
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'chmod 600 ' || current_setting('data_directory') || '/claudable_test_wrong.key');
END $$;
SELECT dblink_exec('k', format('SET claudable.key_file = %L', :'data_dir' || '/claudable_test_wrong.key')) AS set \gset
SELECT matches(pg_temp.on('k', $$SELECT password FROM claudable_provision('key-1', 'owner-k')$$),
    '^F0000: claudable: the key in key file ".*claudable_test_wrong.key" is not the key that sealed the stored passwords',
    'a wrong key is refused with F0000 before anything is sealed with it');
SELECT is(pg_temp.on('k', $$SELECT count(*)::text FROM claudable_check() WHERE object = 'key' AND problem LIKE '%is not the key%'$$),
    '1', 'claudable_check() reports a key that does not match the fingerprint');
SELECT dblink_exec('k', 'RESET claudable.key_file') AS reset \gset

-- Rotation.
SELECT pg_temp.on('k', $$SELECT fingerprint FROM claudable.key_ring WHERE state = 'active'$$) AS old_fingerprint \gset
SELECT is(pg_temp.on('k', format('SELECT claudable_export_key(%L)', :'data_dir' || '/claudable_test_old.key')), :'old_fingerprint',
    'claudable_export_key() writes the active key and returns its fingerprint');
SELECT is(pg_temp.file_mode(:'data_dir' || '/claudable_test_old.key'), '600', 'the exported key file has mode 0600');
SELECT pg_temp.on('k', 'SELECT claudable_rotate_key()') AS new_fingerprint \gset
SELECT matches(:'new_fingerprint'::text, '^[0-9a-f]{32}$', 'claudable_rotate_key() succeeds and returns a fingerprint');
SELECT isnt(:'new_fingerprint'::text, :'old_fingerprint'::text, 'a new one');
SELECT is(pg_temp.on('k', $$SELECT string_agg(state, ',' ORDER BY state) || ' ' || count(*) FILTER (WHERE fingerprint = '$$ || :'new_fingerprint' || $$' AND state = 'active')
                            FROM claudable.key_ring$$), 'active,retired 1',
    'the new key is active and the old one retired');
SELECT ok(pg_temp.on('k', $$SELECT password FROM claudable_provision('key-1', 'owner-k')$$) = (SELECT password FROM original),
    'every password is the same after the rotation');
SELECT is(pg_temp.on('k', $$SELECT string_agg(DISTINCT key_fingerprint, ',') FROM claudable.projects$$), :'new_fingerprint',
    'every row is sealed with the new key');
SELECT is(pg_temp.on('k', $$SELECT string_agg(fingerprint, ',') FROM claudable.key_material$$), :'new_fingerprint',
    'the old key is gone from the database');
SELECT matches(pg_temp.on('k', $$SELECT detail FROM claudable.events WHERE action = 'rotate_key' AND outcome = 'succeeded'$$),
    '^1 passwords re-sealed; key ' || :'old_fingerprint' || ' retired, key ' || :'new_fingerprint' || ' active$',
    'the rotation is audited');
SELECT matches(pg_temp.on('k', format('SELECT claudable_import_key(%L)', :'data_dir' || '/claudable_test_old.key')),
    '^F0000: .*is not the key that sealed',
    'the old key is refused afterwards by claudable_import_key');
SELECT dblink_exec('k', format('SET claudable.key_file = %L', :'data_dir' || '/claudable_test_old.key')) AS set \gset
SELECT matches(pg_temp.error_on('k', $$SELECT password FROM claudable_provision('key-1', 'owner-k')$$),
    '^F0000: claudable: the key in key file "[^"]*claudable_test_old.key" is not the key that sealed the stored passwords \| [^|]*which claudable_rotate_key\(\) retired',
    'and as claudable.key_file (F0000), with a detail that says it was retired');
SELECT dblink_exec('k', 'RESET claudable.key_file') AS reset \gset

-- A row that does not decrypt.
SELECT pg_temp.on('k', $$SELECT created::text FROM claudable_provision('key-2', 'owner-k')$$) AS second \gset
SELECT dblink_exec('k', $$UPDATE claudable.projects SET password_sealed = overlay(password_sealed PLACING '\xff'::bytea FROM 20)
                          WHERE project_id = 'key-2'$$) AS damaged \gset
SELECT is(pg_temp.on('k', $$SELECT problem FROM claudable_check() WHERE object = 'project key-2'$$),
    'stored password does not decrypt: claudable: stored password could not be decrypted',
    'claudable_check() reports a row that does not decrypt');
SELECT matches(pg_temp.on('k', 'SELECT claudable_rotate_key()'), '^XX001: claudable: the stored password of project "key-2" does not decrypt',
    'claudable_rotate_key() refuses while a row does not decrypt');
SELECT ok(pg_temp.on('k', $$SELECT fingerprint FROM claudable.key_ring WHERE state = 'active'$$) = :'new_fingerprint'
          AND pg_temp.on('k', $$SELECT string_agg(fingerprint, ',') FROM claudable.key_material$$) = :'new_fingerprint'
          AND pg_temp.on('k', $$SELECT password FROM claudable_provision('key-1', 'owner-k')$$) = (SELECT password FROM original),
    'and changes nothing: the same active key, the same key material, every password as it was');

-- Moving keys is for superusers only, even with EXECUTE granted: a role that logs in
-- with EXECUTE on both and CONNECT on the database.
CREATE ROLE key_operator LOGIN;
GRANT CONNECT ON DATABASE claudable_keys TO key_operator;
GRANT EXECUTE ON FUNCTION claudable_export_key(text), claudable_import_key(text) TO key_operator;
SELECT dblink_connect('operator', format('host=%s port=%s dbname=claudable_keys user=key_operator',
                                         current_setting('unix_socket_directories'), current_setting('port'))) AS connected \gset
SELECT matches(pg_temp.on('operator', format('SELECT claudable_export_key(%L)', :'data_dir' || '/stolen.key')),
    '^42501: ', 'claudable_export_key refuses a role that is not superuser (42501)');
SELECT is((pg_stat_file(:'data_dir' || '/stolen.key', true)).size, NULL, 'and writes no file');
SELECT matches(pg_temp.on('operator', format('SELECT claudable_import_key(%L)', :'data_dir' || '/claudable_test_old.key')),
    '^42501: ', 'claudable_import_key refuses a role that is not superuser (42501)');
SELECT dblink_disconnect('operator') AS disconnected \gset

-- claudable.key_file: the key lives outside the database.
CREATE DATABASE claudable_keys_external;
SELECT pg_temp.connect('x', 'claudable_keys_external') AS connected \gset
SELECT dblink_exec('x', 'CREATE EXTENSION claudable') AS installed \gset
SELECT dblink_exec('x', format('SET claudable.key_file = %L', :'data_dir' || '/claudable_test_external.key')) AS set \gset
SELECT pg_temp.on('x', $$SELECT password FROM claudable_provision('key-x', 'owner-k')$$) AS external_password \gset
SELECT ok(:'external_password' ~ '^[A-Za-z0-9_-]{32}$', 'with claudable.key_file a project is provisioned');
SELECT is(pg_temp.on('x', $$SELECT (SELECT count(*) FROM claudable.key_ring)::text || '/' || (SELECT count(*) FROM claudable.key_material)$$),
    '1/0', 'with claudable.key_file the first provisioning records the key''s fingerprint and keeps no key in the database');
SELECT is((pg_stat_file(:'data_dir' || '/claudable_test_external.key')).size, 65::bigint,
    'the key file is written at that path');
SELECT is(pg_temp.file_mode(:'data_dir' || '/claudable_test_external.key'), '600', 'with mode 0600');
CREATE TEMP TABLE external_key_before AS SELECT pg_read_file(:'data_dir' || '/claudable_test_external.key') AS k;
SELECT matches(pg_temp.on('x', 'SELECT claudable_rotate_key()'), '^[0-9a-f]{32}$',
    'claudable_rotate_key() succeeds with claudable.key_file');
SELECT ok((SELECT k <> pg_read_file(:'data_dir' || '/claudable_test_external.key') FROM external_key_before)
          AND pg_temp.on('x', $$SELECT string_agg(state, ',' ORDER BY state) FROM claudable.key_ring$$) = 'active,retired',
    'the key file holds a new key, and the old one is retired');
SELECT ok(pg_temp.on('x', $$SELECT password FROM claudable_provision('key-x', 'owner-k')$$) = :'external_password'
          AND (pg_stat_file(:'data_dir' || '/claudable_test_external.key.next', true)).size IS NULL,
    'claudable_rotate_key() renames the new key file into place and the password still decrypts');
SELECT is(pg_temp.file_mode(:'data_dir' || '/claudable_test_external.key'), '600', 'the rotated key file has mode 0600');

SELECT * FROM finish();
REVOKE EXECUTE ON FUNCTION claudable_export_key(text), claudable_import_key(text) FROM key_operator;
REVOKE CONNECT ON DATABASE claudable_keys FROM key_operator;
DROP ROLE key_operator;
SELECT dblink_disconnect('x') AS disconnected \gset
SELECT dblink_disconnect('k') AS disconnected \gset
DROP DATABASE claudable_keys_external;
DROP DATABASE claudable_keys;
DO $$ BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'rm -f ' || current_setting('data_directory') || '/claudable_test_*');
END $$;
