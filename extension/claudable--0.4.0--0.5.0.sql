-- claudable 0.4.0 -> 0.5.0: the row of claudable_provision gains a last column,
-- pooled_database_url (claudable.pooler_host); two functions give a fleet directory and a
-- connection pooler what they need without any access to the schema claudable.
-- The Makefile builds claudable--0.4.0--0.5.0.sql from this file: each "include" line
-- becomes the section of claudable.sql it names, so every definition is written once.
\echo Use "ALTER EXTENSION claudable UPDATE TO '0.5.0'" to load this file. \quit

-- Added at the end, so the ten pinned columns keep their names and order, and the
-- functions returning this type (and the grants on them) stay as they are.
ALTER TYPE claudable.provisioned_project ADD ATTRIBUTE pooled_database_url text;

-- ---- a fleet's view of this server ---------------------------------------------------
-- What the fleet directory (extension claudable_fleet) and `claudable pgbouncer-config`
-- read. They reach this server as a role holding EXECUTE on claudable's functions only,
-- never SELECT on its tables: these two functions are that role's whole view.
CREATE FUNCTION @extschema@.claudable_databases()
RETURNS SETOF claudable.databases
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT d.* FROM claudable.databases AS d ORDER BY d.project_id $$;
COMMENT ON FUNCTION @extschema@.claudable_databases() IS
    'The rows of claudable.databases, for a caller that holds EXECUTE but no access to the schema claudable.';
REVOKE ALL ON FUNCTION @extschema@.claudable_databases() FROM PUBLIC;

-- One project's row (none if this server does not hold it), without measuring every other
-- database: a fleet directory asks each server this before it places a project.
CREATE FUNCTION @extschema@.claudable_databases(project_id text)
RETURNS SETOF claudable.databases
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT d.* FROM claudable.databases AS d WHERE d.project_id OPERATOR(pg_catalog.=) $1 $$;
COMMENT ON FUNCTION @extschema@.claudable_databases(text) IS
    'The row of claudable.databases for one project, if this server holds it.';
REVOKE ALL ON FUNCTION @extschema@.claudable_databases(text) FROM PUBLIC;

-- A connection pooler in front of this server needs each ready project's database, role
-- and SCRAM verifier (never a password): with the verifier the pooler checks a client's
-- proof, and SCRAM pass-through logs it in to this server.
CREATE FUNCTION @extschema@.claudable_pooler_entries()
RETURNS TABLE (database_name text, username text, host text, port integer, scram_verifier text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p.database_name, p.username, p.host, p.port, a.rolpassword
  FROM claudable.projects AS p
  JOIN pg_catalog.pg_authid AS a ON a.rolname OPERATOR(pg_catalog.=) p.username
 WHERE p.status OPERATOR(pg_catalog.=) 'ready' AND a.rolcanlogin
   AND a.rolpassword OPERATOR(pg_catalog.~) '^SCRAM-SHA-256\$'
 ORDER BY p.database_name
$$;
COMMENT ON FUNCTION @extschema@.claudable_pooler_entries() IS
    'Each ready project''s database, role, host, port and SCRAM verifier, for a connection pooler''s configuration.';
REVOKE ALL ON FUNCTION @extschema@.claudable_pooler_entries() FROM PUBLIC;
