-- Version 0.1.0 upgrades to 0.2.0 in place: every project keeps returning its password
-- and keeps working. Runs in a database of its own, through dblink.
\i sql/include/setup.psql
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE DATABASE claudable_upgrade;
SELECT dblink_connect('old', format('host=%s port=%s dbname=claudable_upgrade user=postgres',
                                    current_setting('unix_socket_directories'), current_setting('port'))) AS connected \gset
SELECT dblink_exec('old', $$CREATE EXTENSION claudable VERSION '0.1.0'$$) AS installed \gset

CREATE TEMP TABLE version_before AS
    SELECT * FROM dblink('old', $$SELECT extversion FROM pg_extension WHERE extname = 'claudable'$$) AS t(v text);
CREATE TEMP TABLE before_upgrade AS
    SELECT * FROM dblink('old', $$SELECT project_id, password, database_url FROM claudable_provision('upg-1', 'owner-u')
                                  UNION ALL
                                  SELECT project_id, password, database_url FROM claudable_provision('upg-2', 'owner-u')$$)
        AS t(project_id text, password text, database_url text);
SELECT dblink_exec('old', 'ALTER EXTENSION claudable UPDATE') AS updated \gset
CREATE TEMP TABLE after_upgrade AS
    SELECT * FROM dblink('old', $$SELECT project_id, password, created FROM claudable_provision('upg-1', 'owner-u')
                                  UNION ALL
                                  SELECT project_id, password, created FROM claudable_provision('upg-2', 'owner-u')$$)
        AS t(project_id text, password text, created boolean);

SELECT plan(8);

SELECT is((SELECT v FROM version_before), '0.1.0', 'CREATE EXTENSION ... VERSION ''0.1.0'' installs 0.1.0');
SELECT is((SELECT v FROM dblink('old', $$SELECT extversion FROM pg_extension WHERE extname = 'claudable'$$) AS t(v text)),
    '0.2.0', 'ALTER EXTENSION claudable UPDATE brings it to 0.2.0');
SELECT is((SELECT count(*) FROM before_upgrade b JOIN after_upgrade a USING (project_id)
            WHERE a.password = b.password AND NOT a.created),
    2::bigint, 'every project provisioned under 0.1.0 still returns its password');
SELECT is(dblink_connect('app', (SELECT database_url FROM before_upgrade WHERE project_id = 'upg-1')), 'OK',
    'and its DATABASE_URL still logs in');
SELECT dblink_disconnect('app') AS app_disconnected \gset
SELECT is((SELECT n FROM dblink('old', 'SELECT count(*) FROM claudable.databases') AS t(n bigint)), 2::bigint,
    'the upgraded metadata has the monitoring view over the old projects');
SELECT is((SELECT d FROM dblink('old', $$SELECT claudable_deprovision('upg-2', 'owner-u')$$) AS t(d boolean)), true,
    'the new functions work on projects made by 0.1.0');
SELECT is((SELECT a FROM dblink('old', $$SELECT action FROM claudable.events WHERE project_id = 'upg-2'$$) AS t(a text)),
    'deprovision', 'and are audited');
SELECT ok((SELECT r.password <> b.password
             FROM dblink('old', $$SELECT password FROM claudable_rotate_password('upg-1', 'owner-u')$$) AS r(password text),
                  before_upgrade b WHERE b.project_id = 'upg-1'),
    'a project made by 0.1.0 can have its password rotated');

SELECT * FROM finish();
SELECT d AS removed FROM dblink('old', $$SELECT claudable_deprovision('upg-1', 'owner-u')$$) AS t(d boolean) \gset
SELECT dblink_disconnect('old') AS disconnected \gset
DROP DATABASE claudable_upgrade;
