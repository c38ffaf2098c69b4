-- Objects a caller plants on the search path never run with the definer's rights.
\i sql/include/setup.psql

CREATE TABLE public.hijack_log (what text);
-- A text = text operator and functions named like the ones the extension calls, planted
-- ahead of pg_catalog: if any ever ran, it would leave a row in hijack_log.
CREATE FUNCTION public.hijacked_texteq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hijack_log VALUES ('operator ='); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijacked_texteq);
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hijack_log VALUES ('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.shobj_description(oid, name) RETURNS text LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hijack_log VALUES ('shobj_description'); RETURN NULL; END $$;
CREATE FUNCTION public.pg_advisory_lock(integer, integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hijack_log VALUES ('pg_advisory_lock'); END $$;
-- A schema named after the superuser is first on the default search path.
CREATE SCHEMA postgres;
CREATE TABLE postgres.projects (project_id text);
-- The worker connects to this database: a database-level search_path must not reach it.
SELECT format('ALTER DATABASE %I SET search_path = public, pg_catalog', current_database()) \gexec

-- Only the calls run under the hostile path: pgTAP's own functions would use the planted operator.
SET search_path = public, pg_catalog;
SELECT created AS first_created FROM claudable_provision('hijack-1', 'owner-h') \gset
SELECT created AS second_created FROM claudable_provision('hijack-1', 'owner-h') \gset
RESET search_path;

SELECT plan(4);
SELECT is(:'first_created'::boolean, true,
    'provisioning works with hostile objects ahead of pg_catalog on the caller''s path');
SELECT is(:'second_created'::boolean, false,
    'and so does the lookup path');
SELECT is((SELECT count(*) FROM public.hijack_log), 0::bigint,
    'none of the planted operators or functions ran, in the caller or in the worker');
SELECT is((SELECT count(*) FROM postgres.projects), 0::bigint,
    'a table named like the metadata in a schema named after the superuser was not used');

SELECT * FROM finish();

SELECT format('ALTER DATABASE %I RESET search_path', current_database()) \gexec
DROP SCHEMA postgres CASCADE;
DROP OPERATOR public.= (text, text);
DROP FUNCTION public.hijacked_texteq(text, text);
DROP FUNCTION public.now();
DROP FUNCTION public.shobj_description(oid, name);
DROP FUNCTION public.pg_advisory_lock(integer, integer);
DROP TABLE public.hijack_log;
