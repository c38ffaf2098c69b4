-- claudable.* settings shape the connection details and are superuser-only.
\i sql/include/setup.psql
CREATE ROLE settings_probe NOLOGIN;

SELECT plan(20);

SET claudable.host = 'db.internal.example';
SET claudable.port = 6543;
SET claudable.sslmode = 'require';
CREATE TEMP TABLE configured AS SELECT * FROM claudable_provision('settings-1', 'owner-s');
SELECT is((SELECT host FROM configured), 'db.internal.example', 'host comes from claudable.host');
SELECT is((SELECT port FROM configured), 6543, 'port comes from claudable.port');
SELECT ok((SELECT database_url = format('postgresql://%s:%s@db.internal.example:6543/%s?sslmode=require',
                                        username, password, database_name) FROM configured),
    'claudable.sslmode is appended to database_url as ?sslmode=');
RESET claudable.host;
RESET claudable.port;
RESET claudable.sslmode;
SELECT ok((SELECT database_url LIKE '%@db.internal.example:6543/app_db_settings_1'
             FROM claudable_provision('settings-1', 'owner-s')),
    'a provisioned project keeps the host and port it was created with; sslmode follows the current setting');

-- allow and prefer leave TLS to the client's default: node-postgres reads either one, written
-- out, as verify-full (README, "sslmode in each client").
SET claudable.sslmode = 'prefer';
SELECT ok((SELECT database_url NOT LIKE '%?%' FROM claudable_provision('settings-1', 'owner-s')),
    'claudable.sslmode = prefer puts no sslmode into database_url');
SET claudable.sslmode = 'allow';
SELECT ok((SELECT database_url NOT LIKE '%?%' FROM claudable_provision('settings-1', 'owner-s')),
    'claudable.sslmode = allow puts no sslmode into database_url');
SET claudable.sslmode = 'disable';
SELECT ok((SELECT database_url LIKE '%/app_db_settings_1?sslmode=disable' FROM claudable_provision('settings-1', 'owner-s')),
    'claudable.sslmode = disable is written out');
RESET claudable.sslmode;

SET claudable.host = '::1';
SELECT ok((SELECT database_url LIKE '%@[::1]:%' FROM claudable_provision('settings-2', 'owner-s')),
    'an IPv6 host is bracketed in database_url');
RESET claudable.host;

SELECT throws_ok($$SET claudable.sslmode = 'sometimes'$$, '22023', NULL,
    'an sslmode libpq does not know is refused');
SELECT throws_ok($$SET claudable.host = ''$$, '22023', 'invalid value for parameter "claudable.host": ""',
    'an empty host is refused');
SELECT throws_ok($$SET claudable.host = '/var/run/postgresql'$$, '22023',
    'invalid value for parameter "claudable.host": "/var/run/postgresql"',
    'a socket directory is refused as a host: no URL could carry it');
SELECT throws_ok($$SET claudable.host = 'db.example.com:5432'$$, '22023',
    'invalid value for parameter "claudable.host": "db.example.com:5432"', 'a host with a port is refused');
SELECT throws_ok($$SET claudable.host = 'user@db.example.com'$$, '22023',
    'invalid value for parameter "claudable.host": "user@db.example.com"', 'a host with an @ is refused');
SELECT throws_ok($$SET claudable.pooler_host = 'pool er'$$, '22023',
    'invalid value for parameter "claudable.pooler_host": "pool er"', 'so is a pooler host with a space');
SELECT is(current_setting('claudable.host'), 'localhost', 'and a refused value leaves the setting as it was');

SET ROLE settings_probe;
SELECT throws_ok($$SET claudable.host = 'evil.example'$$, '42501', 'permission denied to set parameter "claudable.host"',
    'a non-superuser cannot set claudable.host');
SELECT throws_ok($$SET claudable.template = 'template1'$$, '42501', 'permission denied to set parameter "claudable.template"',
    'a non-superuser cannot set claudable.template');
SELECT throws_ok($$SET claudable.key_file = '/tmp/key'$$, '42501', 'permission denied to set parameter "claudable.key_file"',
    'a non-superuser cannot set claudable.key_file');
SELECT throws_ok($$SET claudable.port = 1$$, '42501', 'permission denied to set parameter "claudable.port"',
    'a non-superuser cannot set claudable.port');
SELECT throws_ok($$SET claudable.sslmode = 'disable'$$, '42501', 'permission denied to set parameter "claudable.sslmode"',
    'a non-superuser cannot set claudable.sslmode');
RESET ROLE;

SELECT * FROM finish();
DROP ROLE settings_probe;
