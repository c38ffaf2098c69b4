-- A first call creates a locked-down role and database; later calls return the same row.
\i sql/include/setup.psql

SELECT plan(26);

CREATE TEMP TABLE first_call AS SELECT * FROM claudable_provision('shop-1', 'owner-1');
CREATE TEMP TABLE second_call AS SELECT * FROM claudable_provision('shop-1', 'owner-1');

SELECT is((SELECT count(*) FROM first_call), 1::bigint, 'the call returns exactly one row');
SELECT is((SELECT created FROM first_call), true, 'created is true on the call that created the database');
SELECT is((SELECT created FROM second_call), false, 'created is false on a repeated call');
SELECT ok((SELECT f.password = s.password FROM first_call f, second_call s),
    'a repeated call returns the same password');
SELECT ok((SELECT (f.project_id, f.owner_id, f.database_name, f.username, f.host, f.port, f.database_url, f.created_at)
                = (s.project_id, s.owner_id, s.database_name, s.username, s.host, s.port, s.database_url, s.created_at)
             FROM first_call f, second_call s),
    'a repeated call returns the same row apart from created');
SELECT is((SELECT project_id || '/' || owner_id FROM first_call), 'shop-1/owner-1',
    'the row echoes project_id and owner_id');

-- The password
SELECT ok((SELECT password ~ '^[A-Za-z0-9_-]{32}$' FROM first_call),
    'the password is 32 URL-safe characters (192 random bits)');
CREATE TEMP TABLE other_project AS SELECT * FROM claudable_provision('shop-2', 'owner-1');
SELECT ok((SELECT f.password <> o.password FROM first_call f, other_project o),
    'two projects get different passwords');

-- The role
SELECT ok(EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_u_shop_1'), 'the role exists');
SELECT is((SELECT ARRAY[rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls]
             FROM pg_roles WHERE rolname = 'app_u_shop_1'),
    ARRAY[true, false, false, false, false, false],
    'the role is LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS');
SELECT ok((SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname = 'app_u_shop_1'),
    'the role''s password is stored as a SCRAM-SHA-256 verifier');
SELECT is((SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
            WHERE r.rolname = 'app_u_shop_1'),
    0::bigint, 'the role is a member of no other role');
SELECT is(shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'app_u_shop_1'), 'pg_authid'),
    'managed by claudable: project shop-1, installation ' || (SELECT id FROM claudable.installation),
    'the role carries the claudable marker comment');

-- The database
SELECT is((SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app_db_shop_1'), 'app_u_shop_1',
    'the database is owned by the project''s role');
SELECT ok(NOT has_database_privilege('public', 'app_db_shop_1', 'CONNECT')
          AND NOT has_database_privilege('public', 'app_db_shop_1', 'TEMPORARY')
          AND NOT has_database_privilege('public', 'app_db_shop_1', 'CREATE'),
    'PUBLIC holds no privilege (no CONNECT, no TEMPORARY) on the database');
SELECT ok(has_database_privilege('app_u_shop_1', 'app_db_shop_1', 'CONNECT'),
    'the project''s role may connect to its database');
SELECT ok(NOT has_database_privilege('app_u_shop_2', 'app_db_shop_1', 'CONNECT'),
    'another project''s role may not connect to it');
SELECT ok(NOT has_database_privilege('app_u_shop_2', 'app_db_shop_1', 'TEMPORARY'),
    'another project''s role may not create temporary tables in it');
SELECT is(shobj_description((SELECT oid FROM pg_database WHERE datname = 'app_db_shop_1'), 'pg_database'),
    shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'app_u_shop_1'), 'pg_authid'),
    'the database carries the same marker comment');

-- Connection details
SELECT is((SELECT host FROM first_call), 'localhost', 'host defaults to localhost');
SELECT is((SELECT port FROM first_call), current_setting('port')::integer, 'port defaults to this server''s port');
SELECT ok((SELECT database_url = format('postgresql://%s:%s@%s:%s/%s', username, password, host, port, database_name)
             FROM first_call),
    'database_url is postgresql://username:password@host:port/database_name');

-- The metadata row
SELECT is((SELECT status FROM claudable.projects WHERE project_id = 'shop-1'), 'ready',
    'the metadata row is ready');
SELECT ok((SELECT position(convert_to(f.password, 'UTF8') IN p.password_sealed) = 0
                  AND octet_length(p.password_sealed) = 1 + 12 + 32 + 16
             FROM first_call f JOIN claudable.projects p USING (project_id)),
    'the metadata row holds only the AES-256-GCM box, never the password');

-- Another owner
CREATE TEMP TABLE before_refusal AS
    SELECT a.rolpassword, p.owner_id, p.password_sealed FROM pg_authid a, claudable.projects p
     WHERE a.rolname = 'app_u_shop_1' AND p.project_id = 'shop-1';
SELECT throws_ok($$SELECT claudable_provision('shop-1', 'intruder')$$, '42501',
    'permission denied for project "shop-1"', 'a call with another owner_id is refused with 42501');
SELECT ok((SELECT p.password = f.password AND p.owner_id = 'owner-1'
             FROM claudable_provision('shop-1', 'owner-1') AS p, first_call AS f)
          AND (SELECT b.rolpassword = a.rolpassword AND b.owner_id = p.owner_id AND b.password_sealed = p.password_sealed
                 FROM before_refusal AS b, pg_authid AS a, claudable.projects AS p
                WHERE a.rolname = 'app_u_shop_1' AND p.project_id = 'shop-1'),
    'the refused call changed nothing: same owner, same password, same verifier, same sealed row');

SELECT * FROM finish();
