-- Bad input is refused with SQLSTATE 22023, a message naming the argument, and nothing created.
\i sql/include/setup.psql

CREATE TEMP TABLE before AS
    SELECT (SELECT count(*) FROM claudable.projects) AS projects,
           (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'app\_u\_%') AS roles,
           (SELECT count(*) FROM pg_database WHERE datname LIKE 'app\_db\_%') AS databases;

SELECT plan(23);

SELECT throws_ok($$SELECT claudable_provision(NULL, 'owner')$$, '22023',
    'project_id must not be NULL', 'a NULL project_id is an error, not a NULL row');
SELECT throws_ok($$SELECT claudable_provision('valid-project', NULL)$$, '22023',
    'owner_id must not be NULL', 'a NULL owner_id is an error, not a NULL row');
SELECT throws_ok($$SELECT claudable_provision('', 'owner')$$, '22023',
    'invalid project_id: length must be 1 to 128 characters', 'an empty project_id is refused');
SELECT throws_ok($$SELECT claudable_provision('p', '')$$, '22023',
    'invalid owner_id: length must be 1 to 128 characters', 'an empty owner_id is refused');
SELECT throws_ok(format('SELECT claudable_provision(%L, %L)', repeat('a', 129), 'owner'), '22023',
    'invalid project_id: length must be 1 to 128 characters', 'a project_id of 129 characters is refused');
SELECT throws_ok(format('SELECT claudable_provision(%L, %L)', 'p', repeat('o', 129)), '22023',
    'invalid owner_id: length must be 1 to 128 characters', 'an owner_id of 129 characters is refused');
SELECT throws_ok($$SELECT claudable_provision('my project', 'owner')$$, '22023',
    'invalid project_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'a space is refused');
SELECT throws_ok($$SELECT claudable_provision('p''; DROP TABLE x; --', 'owner')$$, '22023',
    'invalid project_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'a single quote is refused');
SELECT throws_ok($$SELECT claudable_provision('p"q', 'owner')$$, '22023',
    'invalid project_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'a double quote is refused');
SELECT throws_ok($$SELECT claudable_provision('caf' || chr(233), 'owner')$$, '22023',
    'invalid project_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'a non-ASCII letter is refused');
SELECT throws_ok($$SELECT claudable_provision('p' || chr(10) || 'q', 'owner')$$, '22023',
    'invalid project_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'a newline is refused');
SELECT throws_ok($$SELECT claudable_provision('p' || chr(9), 'owner')$$, '22023',
    'invalid project_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'a tab is refused');
SELECT throws_ok($$SELECT claudable_provision('p.q', 'owner')$$, '22023',
    'invalid project_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'a dot is refused');
SELECT throws_ok($$SELECT claudable_provision('-p', 'owner')$$, '22023',
    'invalid project_id: must start with a letter or digit', 'a leading dash is refused');
SELECT throws_ok($$SELECT claudable_provision('_p', 'owner')$$, '22023',
    'invalid project_id: must start with a letter or digit', 'a leading underscore is refused');
SELECT throws_ok($$SELECT claudable_provision('p', 'own er')$$, '22023',
    'invalid owner_id: only A-Z, a-z, 0-9, ''_'' and ''-'' are allowed', 'owner_id follows the same rules');
SELECT throws_ok($$SELECT claudable_provision('p', '-owner')$$, '22023',
    'invalid owner_id: must start with a letter or digit', 'owner_id must start with a letter or digit');
SELECT throws_ok($$SELECT claudable_provision(NULL, NULL)$$, '22023',
    'project_id must not be NULL', 'project_id is checked before owner_id');

-- The message never echoes the rejected value.
SELECT is(pg_temp.sqlstate_of($$SELECT claudable_provision('s3cr3t value', 'o')$$), '22023',
    'an id with a space is refused with 22023');
SELECT ok(pg_temp.error_text($$SELECT claudable_provision('s3cr3t value', 'o')$$) LIKE 'invalid project_id: only A-Z%'
          AND position('s3cr3t' IN pg_temp.error_text($$SELECT claudable_provision('s3cr3t value', 'o')$$)) = 0,
    'the error names the rule and does not repeat the rejected input');
SELECT ok(pg_temp.error_text($$SELECT claudable_provision('bad id', 'o')$$) LIKE '%starting with a letter or digit%',
    'the error hint states the rule');

SELECT is((SELECT count(*) FROM claudable.projects), (SELECT projects FROM before),
    'no metadata row was created by refused calls');
SELECT ok((SELECT count(*) FROM pg_roles WHERE rolname LIKE 'app\_u\_%') = (SELECT roles FROM before)
      AND (SELECT count(*) FROM pg_database WHERE datname LIKE 'app\_db\_%') = (SELECT databases FROM before),
    'no role and no database was created by refused calls');

SELECT * FROM finish();
