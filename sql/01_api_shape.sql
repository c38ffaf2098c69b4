-- The SQL API that clients and tests rely on: names, columns, privileges, security.
\i sql/include/setup.psql

SELECT plan(30);

SELECT has_function('public', 'claudable_provision', ARRAY['text', 'text'],
    'claudable_provision(project_id text, owner_id text) is installed in the extension schema');
SELECT is(
    (SELECT proargnames FROM pg_proc WHERE oid = 'public.claudable_provision(text,text)'::regprocedure),
    ARRAY['project_id', 'owner_id'],
    'its arguments are named project_id and owner_id');
SELECT is(
    (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
      WHERE attrelid = 'claudable.provisioned_project'::regclass AND attnum > 0),
    ARRAY['project_id', 'owner_id', 'database_name', 'username', 'password', 'host', 'port',
          'database_url', 'created', 'created_at', 'pooled_database_url'],
    'it returns the ten pinned columns in the pinned order, then pooled_database_url');
SELECT is(
    (SELECT array_agg(format_type(atttypid, atttypmod) ORDER BY attnum) FROM pg_attribute
      WHERE attrelid = 'claudable.provisioned_project'::regclass AND attnum > 0),
    ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'integer', 'text', 'boolean',
          'timestamp with time zone', 'text'],
    'the returned columns have the pinned types');
SELECT is(
    (SELECT proretset FROM pg_proc WHERE oid = 'public.claudable_provision(text,text)'::regprocedure),
    false,
    'it returns exactly one row, not a set');
SELECT is_definer('public', 'claudable_provision', ARRAY['text', 'text'],
    'it is SECURITY DEFINER');
SELECT is(
    (SELECT proisstrict FROM pg_proc WHERE oid = 'public.claudable_provision(text,text)'::regprocedure),
    false,
    'it is not STRICT, so NULL arguments raise an error instead of returning NULL');
SELECT is(
    (SELECT proconfig FROM pg_proc WHERE oid = 'public.claudable_provision(text,text)'::regprocedure),
    ARRAY['search_path=pg_catalog, pg_temp'],
    'its search_path is pinned to pg_catalog, pg_temp');
SELECT ok(NOT has_function_privilege('public', 'public.claudable_provision(text,text)', 'EXECUTE'),
    'PUBLIC may not execute it');
SELECT has_schema('claudable', 'the metadata schema claudable exists');
SELECT columns_are('claudable', 'projects',
    ARRAY['project_id', 'owner_id', 'database_name', 'username', 'password_sealed', 'host', 'port',
          'status', 'created_at', 'updated_at', 'read_only_since', 'key_fingerprint', 'worker_pid',
          'parent_project_id', 'expires_at'],
    'claudable.projects has the documented columns');
SELECT col_is_pk('claudable', 'projects', 'project_id', 'project_id is the primary key');
SELECT ok(
    (SELECT count(*) = 2 FROM pg_index i
      WHERE i.indrelid = 'claudable.projects'::regclass AND i.indisunique AND NOT i.indisprimary
        AND i.indnatts = 1
        AND (SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0])
            IN ('database_name', 'username')),
    'database_name and username are each unique');
SELECT ok(
    'claudable.projects'::regclass = ANY (
        SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'claudable'),
    'claudable.projects is registered with pg_extension_config_dump, so pg_dump keeps its rows');
SELECT is(
    (SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid = 'claudable.projects'::regclass AND a.grantee <> c.relowner),
    0::bigint,
    'nobody but the owner holds a privilege on claudable.projects');
SELECT is(
    (SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a
      WHERE n.nspname = 'claudable' AND a.grantee <> n.nspowner),
    0::bigint,
    'nobody but the owner holds a privilege on schema claudable');

SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'claudable'), '0.8.0',
    'CREATE EXTENSION installs version 0.8.0');
SELECT has_function('public', 'claudable_deprovision', ARRAY['text', 'text'],
    'claudable_deprovision(project_id text, owner_id text) is installed');
SELECT is((SELECT prorettype::regtype::text FROM pg_proc WHERE oid = 'public.claudable_deprovision(text,text)'::regprocedure),
    'boolean', 'claudable_deprovision returns boolean');
SELECT has_function('public', 'claudable_rotate_password', ARRAY['text', 'text'],
    'claudable_rotate_password(project_id text, owner_id text) is installed');
SELECT is((SELECT prorettype FROM pg_proc WHERE oid = 'public.claudable_rotate_password(text,text)'::regprocedure),
    (SELECT prorettype FROM pg_proc WHERE oid = 'public.claudable_provision(text,text)'::regprocedure),
    'claudable_rotate_password returns the same row shape as claudable_provision');
SELECT has_function('public', 'claudable_enforce_quotas', 'claudable_enforce_quotas() is installed');
SELECT is(
    (SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
      WHERE p.oid IN (SELECT objid FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'claudable')
                                                   AND classid = 'pg_proc'::regclass AND deptype = 'e')
        AND (p.prosecdef IS FALSE OR p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp'])
        AND p.prosecdef),
    NULL, 'every SECURITY DEFINER function of the extension pins search_path to pg_catalog, pg_temp');
SELECT is(
    (SELECT count(*) FROM pg_proc p, aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) a
      WHERE p.oid IN (SELECT objid FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'claudable')
                                                   AND classid = 'pg_proc'::regclass AND deptype = 'e')
        AND a.grantee = 0),
    0::bigint, 'PUBLIC may execute no function of the extension');

SELECT has_function('public', 'claudable_rotate_key', 'claudable_rotate_key() is installed');
SELECT has_function('public', 'claudable_export_key', ARRAY['text'], 'claudable_export_key(path text) is installed');
SELECT has_function('public', 'claudable_import_key', ARRAY['text'], 'claudable_import_key(path text) is installed');
SELECT is(
    (SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_extension e, unnest(e.extconfig) AS t(oid)
       JOIN pg_class c ON c.oid = t.oid WHERE e.extname = 'claudable' AND c.relname LIKE 'key%'),
    ARRAY['key_ring'],
    'pg_dump keeps the key fingerprints (claudable.key_ring) but never the key (claudable.key_material)');
SELECT is(
    (SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid IN ('claudable.key_material'::regclass, 'claudable.key_ring'::regclass,
                      'claudable.provisioning_lock'::regclass)
        AND a.grantee <> c.relowner),
    0::bigint,
    'nobody but the owner holds a privilege on the key tables or the provisioning lock');
SELECT is((SELECT count(*) FROM pg_proc WHERE proname IN ('claudable_export_key', 'claudable_import_key') AND prosecdef),
    0::bigint, 'claudable_export_key and claudable_import_key run with the caller''s rights (superuser only), never as definer');

SELECT * FROM finish();
