-- Database and role names derive from project_id, stay within 63 bytes, and never collide silently.
\i sql/include/setup.psql

-- What README documents: the slug, and its cut-and-hash form for long ids.
CREATE FUNCTION pg_temp.expected_slug(project_id text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN length(s) <= 56 THEN s
                ELSE left(s, 47) || '_' || left(encode(sha256(convert_to(project_id, 'UTF8')), 'hex'), 8)
           END
      FROM (SELECT replace(lower(project_id), '-', '_') AS s) AS slug
$$;

SELECT plan(12);

CREATE TEMP TABLE shop AS SELECT * FROM claudable_provision('Names-Shop', 'owner-names');
SELECT is((SELECT database_name FROM shop), 'app_db_names_shop',
    'database_name is app_db_ + project_id lower-cased with - turned into _');
SELECT is((SELECT username FROM shop), 'app_u_names_shop',
    'username is app_u_ + the same slug');

CREATE TEMP TABLE longest_plain AS
    SELECT * FROM claudable_provision('n' || repeat('x', 55), 'owner-names');
SELECT is((SELECT database_name FROM longest_plain), 'app_db_n' || repeat('x', 55),
    'a slug of 56 characters is used as is (app_db_ + 56 = 63 bytes)');

CREATE TEMP TABLE long_id AS SELECT * FROM claudable_provision('L' || repeat('o', 127), 'owner-names');
SELECT is((SELECT database_name FROM long_id), 'app_db_' || pg_temp.expected_slug('L' || repeat('o', 127)),
    'a longer slug is cut and suffixed with _ and 8 hex characters of SHA-256(project_id)');
SELECT is((SELECT octet_length(database_name) FROM long_id), 63,
    'the cut database name is exactly 63 bytes');
SELECT is((SELECT username FROM long_id), 'app_u_' || pg_temp.expected_slug('L' || repeat('o', 127)),
    'the role name uses the same cut slug');
SELECT ok(EXISTS (SELECT 1 FROM pg_database WHERE datname = (SELECT database_name FROM long_id)),
    'the database with the cut name exists, so PostgreSQL did not truncate it');

CREATE TEMP TABLE long_id_2 AS SELECT * FROM claudable_provision('L' || repeat('o', 126) || 'p', 'owner-names');
SELECT isnt((SELECT database_name FROM long_id_2), (SELECT database_name FROM long_id),
    'two long ids with the same first 47 slug characters get different names');
SELECT is((SELECT database_name FROM claudable_provision('L' || repeat('o', 127), 'owner-names')),
    (SELECT database_name FROM long_id),
    'the names are deterministic: the same id gives the same names again');

SELECT throws_ok($$SELECT claudable_provision('names-shop', 'owner-names')$$, '42710',
    'project_id "names-shop" maps to database "app_db_names_shop" and role "app_u_names_shop", which another project already uses',
    'an id differing only in letter case is refused, not given the other project''s database');
SELECT throws_ok($$SELECT claudable_provision('Names_Shop', 'someone-else')$$, '42710',
    'project_id "Names_Shop" maps to database "app_db_names_shop" and role "app_u_names_shop", which another project already uses',
    'an id differing only in - versus _ is refused whoever asks');
SELECT is((SELECT count(*) FROM claudable.projects WHERE lower(project_id) IN ('names-shop', 'names_shop')),
    1::bigint, 'the refused ids left no metadata row');

SELECT * FROM finish();
