-- Older versions upgrade in place. 0.1.0 -> 0.2.0 -> 0.3.0 -> 0.4.0 -> 0.5.0 -> 0.6.0 -> 0.6.1 -> 0.7.0 -> 0.8.0 keeps every project returning
-- its password: the 0.2.0 key file (claudable.key in the data directory) is adopted into
-- claudable.key_material. Runs in databases of their own, through dblink.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT current_setting('data_directory') || '/claudable.key' AS legacy_key_file \gset
CREATE FUNCTION pg_temp.connect(name text, db text) RETURNS text LANGUAGE sql AS $$
    SELECT dblink_connect(name, format('host=%s port=%s dbname=%s user=postgres',
                                       current_setting('unix_socket_directories'), current_setting('port'), db))
$$;

-- What a 0.2.0 installation left: projects sealed under the key file in the data
-- directory. Made here by 0.3.0 itself with claudable.key_file pointing at that file
-- (0.2.0's format and place), in a helper database whose rows then move into a 0.2.0 schema.
CREATE DATABASE claudable_upgrade_helper;
SELECT pg_temp.connect('helper', 'claudable_upgrade_helper') AS helper \gset
SELECT dblink_exec('helper', 'CREATE EXTENSION claudable') AS installed \gset
SELECT dblink_exec('helper', format('SET claudable.key_file = %L', :'legacy_key_file')) AS set_key \gset
SELECT count(*) AS provisioned
  FROM dblink('helper', $$SELECT database_name FROM claudable_provision('upg-1', 'owner-u')
                          UNION ALL SELECT database_name FROM claudable_provision('upg-2', 'owner-u')$$) AS t(d text) \gset
CREATE TEMP TABLE legacy AS
    SELECT * FROM dblink('helper', $$
        SELECT p.project_id, p.owner_id, p.database_name, p.username, p.password_sealed, p.host, p.port,
               p.created_at, r.password, r.database_url, i.id
          FROM claudable.projects AS p, claudable.installation AS i,
               LATERAL claudable_provision(p.project_id, p.owner_id) AS r$$)
        AS t(project_id text, owner_id text, database_name text, username text, password_sealed bytea, host text,
             port integer, created_at timestamptz, password text, database_url text, installation uuid);
SELECT dblink_disconnect('helper') AS helper_gone \gset
DROP DATABASE claudable_upgrade_helper;

CREATE DATABASE claudable_upgrade;
SELECT pg_temp.connect('old', 'claudable_upgrade') AS connected \gset
SELECT dblink_exec('old', $$CREATE EXTENSION claudable VERSION '0.1.0'$$) AS installed \gset
SELECT dblink_exec('old', 'REVOKE CONNECT, TEMPORARY ON DATABASE claudable_upgrade FROM PUBLIC') AS hardened \gset
CREATE TEMP TABLE version_0_1_0 AS
    SELECT * FROM dblink('old', $$SELECT extversion FROM pg_extension WHERE extname = 'claudable'$$) AS t(v text);
SELECT dblink_exec('old', $$ALTER EXTENSION claudable UPDATE TO '0.2.0'$$) AS updated \gset
SELECT dblink_exec('old', format('INSERT INTO claudable.installation (id) VALUES (%L)',
                                 (SELECT installation FROM legacy LIMIT 1))) AS installation \gset
SELECT dblink_exec('old', format(
    'INSERT INTO claudable.projects (project_id, owner_id, database_name, username, password_sealed, host, port, status, created_at)'
    ' VALUES (%L, %L, %L, %L, %L, %L, %s, ''ready'', %L)',
    project_id, owner_id, database_name, username, password_sealed, host, port, created_at)) AS inserted
  FROM legacy;
CREATE TEMP TABLE before_update AS
    SELECT pg_temp.sqlstate_of($$SELECT * FROM dblink('old', 'SELECT created FROM claudable_provision(''upg-1'', ''owner-u'')') AS t(c boolean)$$) AS state,
           pg_temp.error_text($$SELECT * FROM dblink('old', 'SELECT created FROM claudable_provision(''upg-1'', ''owner-u'')') AS t(c boolean)$$) AS text;

SELECT dblink_exec('old', 'ALTER EXTENSION claudable UPDATE') AS updated \gset
CREATE TEMP TABLE after_update AS
    SELECT * FROM dblink('old', $$SELECT project_id, password, created FROM claudable_provision('upg-1', 'owner-u')
                                  UNION ALL
                                  SELECT project_id, password, created FROM claudable_provision('upg-2', 'owner-u')$$)
        AS t(project_id text, password text, created boolean);

SELECT plan(13);

SELECT is((SELECT v FROM version_0_1_0), '0.1.0', 'CREATE EXTENSION ... VERSION ''0.1.0'' installs 0.1.0');
SELECT is((SELECT v FROM dblink('old', $$SELECT extversion FROM pg_extension WHERE extname = 'claudable'$$) AS t(v text)),
    '0.8.0', 'ALTER EXTENSION claudable UPDATE brings 0.2.0 to 0.8.0');
SELECT is((SELECT state FROM before_update), '55000',
    'before the update, the new library refuses the old SQL objects (55000)');
SELECT matches((SELECT text FROM before_update), 'version 0\.8\.0 but .* version 0\.2\.0.*Run ALTER EXTENSION claudable UPDATE',
    'and says what to run');
SELECT is((SELECT n FROM dblink('old', $$SELECT count(*) FROM claudable.key_ring WHERE state = 'active'$$) AS t(n bigint)
             JOIN dblink('old', $$SELECT count(*) FROM claudable.key_material$$) AS m(k bigint) ON true
           WHERE k = 1), 1::bigint,
    'the update adopts the 0.2.0 key file: its fingerprint is recorded and the key moves into claudable.key_material');
SELECT is((SELECT count(*) FROM legacy b JOIN after_update a USING (project_id)
            WHERE a.password = b.password AND NOT a.created),
    2::bigint, 'every project sealed under the 0.2.0 key file still returns its password');
SELECT is(dblink_connect('app', (SELECT database_url FROM legacy WHERE project_id = 'upg-1')), 'OK',
    'and its DATABASE_URL still logs in');
SELECT dblink_disconnect('app') AS app_disconnected \gset
DO $$ BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'rm ' || current_setting('data_directory') || '/claudable.key');
END $$;
-- A session keeps a key it read for its life: the checks below come from a new one.
SELECT dblink_disconnect('old') AS reconnect \gset
SELECT pg_temp.connect('old', 'claudable_upgrade') AS connected \gset
SELECT is((SELECT count(*) FROM legacy b JOIN dblink('old', $$SELECT project_id, password FROM claudable_provision('upg-1', 'owner-u')$$)
                                          AS a(project_id text, password text) USING (project_id, password)),
    1::bigint, 'once the old key file is removed the passwords still decrypt, from claudable.key_material');
SELECT is((SELECT n FROM dblink('old', $$SELECT count(*) FROM claudable_check()
                                         WHERE object LIKE '%upg%' OR object = 'key'$$) AS t(n bigint)), 0::bigint,
    'claudable_check() finds nothing wrong with the upgraded projects');
SELECT ok((SELECT r.password <> b.password
             FROM dblink('old', $$SELECT password FROM claudable_rotate_password('upg-1', 'owner-u')$$) AS r(password text),
                  legacy b WHERE b.project_id = 'upg-1'),
    'a project made before the update can have its password rotated');
SELECT is((SELECT d FROM dblink('old', $$SELECT claudable_deprovision('upg-2', 'owner-u')$$) AS t(d boolean)), true,
    'and deprovisioned');

-- 0.1.0 straight to the current version.
CREATE DATABASE claudable_upgrade_direct;
SELECT pg_temp.connect('direct', 'claudable_upgrade_direct') AS direct \gset
SELECT dblink_exec('direct', $$CREATE EXTENSION claudable VERSION '0.1.0'$$) AS installed \gset
SELECT dblink_exec('direct', 'ALTER EXTENSION claudable UPDATE') AS updated \gset
SELECT is((SELECT v FROM dblink('direct', $$SELECT extversion FROM pg_extension WHERE extname = 'claudable'$$) AS t(v text)),
    '0.8.0', '0.1.0 updates to 0.8.0 in one ALTER EXTENSION');
SELECT is((SELECT c FROM dblink('direct', $$SELECT created FROM claudable_provision('upg-direct', 'owner-u')$$) AS t(c boolean)),
    true, 'and provisions a new project');

SELECT * FROM finish();
SELECT d AS removed FROM dblink('direct', $$SELECT claudable_deprovision('upg-direct', 'owner-u')$$) AS t(d boolean) \gset
SELECT dblink_disconnect('direct') AS disconnected \gset
DROP DATABASE claudable_upgrade_direct;
SELECT d AS removed FROM dblink('old', $$SELECT claudable_deprovision('upg-1', 'owner-u')$$) AS t(d boolean) \gset
SELECT dblink_disconnect('old') AS disconnected \gset
DROP DATABASE claudable_upgrade;
