-- Everything an extension (claudable by default) consists of in this database, one line per object,
-- in a stable order: definitions, columns, constraints, indexes, privileges, comments,
-- what pg_dump keeps. Two databases with equal output have the same extension objects.
-- psql variable ext: the extension (claudable unless set, e.g. -v ext=claudable_fleet).
\pset format unaligned
\pset tuples_only true
\if :{?ext}
\else
\set ext claudable
\endif
WITH extension AS (
    SELECT e.oid, e.extconfig FROM pg_catalog.pg_extension AS e WHERE e.extname = :'ext'
), members AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_catalog.pg_depend AS d, extension AS x
     WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = x.oid AND d.deptype = 'e'
)
SELECT pg_catalog.pg_describe_object(m.classid, m.objid, m.objsubid) || ' | ' || COALESCE(CASE m.classid
    WHEN 'pg_catalog.pg_proc'::regclass THEN
        (SELECT pg_catalog.pg_get_functiondef(p.oid) || ' acl=' || COALESCE(p.proacl::text, '-')
                || ' comment=' || COALESCE(pg_catalog.obj_description(p.oid, 'pg_proc'), '-')
           FROM pg_catalog.pg_proc AS p WHERE p.oid = m.objid)
    WHEN 'pg_catalog.pg_class'::regclass THEN
        (SELECT c.relkind::text || ' acl=' || COALESCE(c.relacl::text, '-')
                || ' columns=' || COALESCE((SELECT pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                                                   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                                                   || COALESCE(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
                                                   || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END,
                                                   ', ' ORDER BY a.attnum)
                                              FROM pg_catalog.pg_attribute AS a
                                              LEFT JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '-')
                || ' constraints=' || COALESCE((SELECT pg_catalog.string_agg(k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid), '; ' ORDER BY k.conname)
                                                  FROM pg_catalog.pg_constraint AS k WHERE k.conrelid = c.oid), '-')
                || ' indexes=' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), '; ' ORDER BY 1)
                                              FROM pg_catalog.pg_index AS i WHERE i.indrelid = c.oid), '-')
                || ' view=' || COALESCE(pg_catalog.pg_get_viewdef(c.oid), '-')
                || ' comment=' || COALESCE(pg_catalog.obj_description(c.oid, 'pg_class'), '-')
                || ' dumped=' || EXISTS (SELECT 1 FROM extension AS x WHERE c.oid = ANY (x.extconfig))::text
           FROM pg_catalog.pg_class AS c WHERE c.oid = m.objid)
    WHEN 'pg_catalog.pg_namespace'::regclass THEN
        (SELECT 'acl=' || COALESCE(n.nspacl::text, '-') FROM pg_catalog.pg_namespace AS n WHERE n.oid = m.objid)
    ELSE '' END, '')
  FROM members AS m
 ORDER BY 1;
SELECT 'rows in claudable.provisioning_lock: ' || pg_catalog.count(*) FROM claudable.provisioning_lock;
