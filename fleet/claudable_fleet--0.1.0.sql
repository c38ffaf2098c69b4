-- claudable_fleet 0.1.0: the directory of a fleet of claudable servers.
-- Installed in a directory database on a cluster of its own. Each server is a SQL/MED
-- server of PL/Proxy's foreign data wrapper (one partition: the server's claudable
-- database), reached as a role that holds EXECUTE on claudable's functions only. The
-- directory records which server holds each project (claudable_fleet.placements) and
-- PL/Proxy runs each call there; the directory itself creates nothing on any server.
\echo Use "CREATE EXTENSION claudable_fleet" to load this file. \quit

CREATE SCHEMA claudable_fleet;
REVOKE ALL ON SCHEMA claudable_fleet FROM PUBLIC;

-- ---- servers and placements ----------------------------------------------------------
CREATE TABLE claudable_fleet.server_registry (
    -- also names the SQL/MED server: claudable_fleet.cluster_name(name)
    name     text        PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    state    text        NOT NULL DEFAULT 'accepting' CHECK (state IN ('accepting', 'draining')),
    capacity integer     NOT NULL CHECK (capacity > 0),
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON TABLE claudable_fleet.server_registry FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('claudable_fleet.server_registry', '');

-- One row per project: the server that holds it. Never moved (README, "Fleet").
CREATE TABLE claudable_fleet.placements (
    project_id text        PRIMARY KEY,
    server     text        NOT NULL REFERENCES claudable_fleet.server_registry (name),
    placed_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX placements_server ON claudable_fleet.placements (server);
REVOKE ALL ON TABLE claudable_fleet.placements FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('claudable_fleet.placements', '');

CREATE VIEW claudable_fleet.servers AS
SELECT s.name, s.state,
       (SELECT pg_catalog.count(*) FROM claudable_fleet.placements AS p WHERE p.server = s.name)::integer AS projects,
       s.capacity
  FROM claudable_fleet.server_registry AS s;
REVOKE ALL ON TABLE claudable_fleet.servers FROM PUBLIC;

-- ---- the rows a server returns (column names as claudable defines them) ------------------
CREATE TYPE claudable_fleet.provisioned_project AS (
    project_id          text,
    owner_id            text,
    database_name       text,
    username            text,
    password            text,
    host                text,
    port                integer,
    database_url        text,
    created             boolean,
    created_at          timestamptz,
    pooled_database_url text
);
CREATE TYPE claudable_fleet.server_database AS (
    project_id    text,
    owner_id      text,
    database_name text,
    username      text,
    status        text,
    size_bytes    bigint,
    connections   integer,
    created_at    timestamptz,
    updated_at    timestamptz
);
CREATE TYPE claudable_fleet.server_finding AS (severity text, object text, problem text);
CREATE TYPE claudable_fleet.pooler_entry AS (
    database_name text, username text, host text, port integer, scram_verifier text);
-- What claudable_fleet_add_server checks before it accepts a server.
CREATE TYPE claudable_fleet.server_facts AS (
    is_superuser       boolean,
    has_role_rights    boolean,  -- CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS
    reads_metadata     boolean,  -- USAGE on the schema claudable
    claudable_version  text,
    claudable_schema   text,
    has_every_grant    boolean   -- EXECUTE on each function the directory calls there
);

-- ---- PL/Proxy: one call on one server --------------------------------------------------
-- The cluster of a server is the SQL/MED server of that name. Every remote call names
-- claudable's function in schema public (claudable_fleet_add_server checks it is there),
-- whatever the search_path of the role the directory logs in as.
CREATE FUNCTION claudable_fleet.cluster_name(server text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'claudable_fleet_' OPERATOR(pg_catalog.||) server $$;

-- client_min_messages: PL/Proxy's own NOTICE when it drops a connection after a remote
-- error is not for the caller.
CREATE FUNCTION claudable_fleet.remote_provision(server text, project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_provision(project_id, owner_id); $$;
CREATE FUNCTION claudable_fleet.remote_rotate_password(server text, project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_rotate_password(project_id, owner_id); $$;
CREATE FUNCTION claudable_fleet.remote_deprovision(server text, project_id text, owner_id text)
RETURNS boolean
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT public.claudable_deprovision(project_id, owner_id); $$;
CREATE FUNCTION claudable_fleet.remote_databases(server text)
RETURNS SETOF claudable_fleet.server_database
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_databases(); $$;
CREATE FUNCTION claudable_fleet.remote_lookup(server text, project_id text)
RETURNS SETOF claudable_fleet.server_database
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_databases(project_id); $$;
CREATE FUNCTION claudable_fleet.remote_check(server text)
RETURNS SETOF claudable_fleet.server_finding
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_check(); $$;
CREATE FUNCTION claudable_fleet.remote_pooler_entries(server text)
RETURNS SETOF claudable_fleet.pooler_entry
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_pooler_entries(); $$;
CREATE FUNCTION claudable_fleet.remote_facts(server text)
RETURNS claudable_fleet.server_facts
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT pg_catalog.current_setting('is_superuser')::boolean AS is_superuser,
             r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls AS has_role_rights,
             pg_catalog.has_schema_privilege('claudable', 'USAGE') AS reads_metadata,
             e.extversion AS claudable_version, n.nspname::text AS claudable_schema,
             coalesce((SELECT pg_catalog.bool_and(pg_catalog.has_function_privilege(pg_catalog.to_regprocedure(f), 'EXECUTE'))
                         FROM pg_catalog.unnest(ARRAY['public.claudable_provision(text, text)',
                                                      'public.claudable_deprovision(text, text)',
                                                      'public.claudable_rotate_password(text, text)',
                                                      'public.claudable_check()', 'public.claudable_databases()',
                                                      'public.claudable_databases(text)',
                                                      'public.claudable_pooler_entries()']) AS f), false) AS has_every_grant
        FROM pg_catalog.pg_roles AS r
        LEFT JOIN pg_catalog.pg_extension AS e ON e.extname = 'claudable'
        LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
       WHERE r.rolname = current_user; $$;

-- ---- errors --------------------------------------------------------------------------
-- PL/Proxy wraps a server's error ("<function>: [db] REMOTE ERROR: <message>", "Remote
-- detail: ...") and reports a failed connection as XX000. Callers get what a single server
-- would have said, with its SQLSTATE; a server that cannot be reached is 08001 and is named.
CREATE FUNCTION claudable_fleet.is_connect_failure(message text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT message ~ '(PQconnectPoll|PQconnectStart|PQconnectdb|connect failed|could not connect)'
             AND message !~ 'REMOTE ERROR: ' $$;

-- What libpq said, without PL/Proxy's "PL/Proxy function <name>: [<db>] " in front of it.
CREATE FUNCTION claudable_fleet.libpq_cause(message text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT rtrim(regexp_replace(message, '^PL/Proxy function [^:]+: (\[[^]]*\] )?', ''), E' \n') $$;

-- RAISE takes no NULL option: an absent detail or hint is left out, not shown empty.
CREATE FUNCTION claudable_fleet.raise_error(sqlstate text, message text, detail text, hint text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    detail := nullif(detail, '');
    hint := nullif(hint, '');
    IF detail IS NULL AND hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message;
    ELSIF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, DETAIL = detail;
    ELSIF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, HINT = hint;
    END IF;
    RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, DETAIL = detail, HINT = hint;
END
$$;

CREATE FUNCTION claudable_fleet.raise_from(server text, sqlstate text, message text, detail text, hint text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    remote_message text := substring(message FROM 'REMOTE ERROR: (.*)$');
    cause text := claudable_fleet.libpq_cause(message);
BEGIN
    IF remote_message IS NOT NULL THEN
        PERFORM claudable_fleet.raise_error(sqlstate, remote_message,
                                            regexp_replace(coalesce(detail, ''), '^Remote detail: ', ''),
                                            regexp_replace(coalesce(hint, ''), '^Remote hint: ', ''));
    ELSIF claudable_fleet.is_connect_failure(message) THEN
        RAISE EXCEPTION USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
            MESSAGE = format('claudable fleet: server "%s" cannot be reached', server),
            DETAIL = cause,
            HINT = format('Calls for the projects placed on server "%s" fail until it is back; new projects go to '
                          'the other servers. Check that server, or stop new placements there with '
                          'claudable_fleet_drain_server(%L).', server, server);
    ELSIF sqlstate LIKE '08%' OR sqlstate = 'XX000' AND message ~ '(PQconsumeInput|PQsendQuery|PQgetResult|query timeout|closed the connection|connection.*lost)' THEN
        RAISE EXCEPTION USING ERRCODE = 'connection_failure',
            MESSAGE = format('claudable fleet: the connection to server "%s" broke during the call', server),
            DETAIL = cause,
            HINT = 'The call may or may not have completed there. Calling again is safe: it returns what exists.';
    END IF;
    PERFORM claudable_fleet.raise_error(sqlstate, message, detail, hint);
END
$$;

-- NULL arguments are refused before anything is placed, as claudable refuses them.
CREATE FUNCTION claudable_fleet.require_arguments(project_id text, owner_id text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rule constant text := ' must be 1 to 128 characters of A-Z, a-z, 0-9, ''_'' and ''-'', starting with a letter or digit';
BEGIN
    IF project_id IS NULL THEN
        RAISE EXCEPTION 'project_id must not be NULL' USING ERRCODE = 'invalid_parameter_value', HINT = 'project_id' || rule;
    END IF;
    IF owner_id IS NULL THEN
        RAISE EXCEPTION 'owner_id must not be NULL' USING ERRCODE = 'invalid_parameter_value', HINT = 'owner_id' || rule;
    END IF;
END
$$;

-- ---- the calls the deploy service makes -----------------------------------------------
CREATE FUNCTION @extschema@.claudable_provision(project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted constant text := project_id;
    owner constant text := owner_id;
    placed text;
    holder text;
    candidate text;
    candidates text[];
    unreachable text[] := '{}';
    state text; message text; detail text; hint text;
BEGIN
    PERFORM claudable_fleet.require_arguments(wanted, owner);
    SELECT p.server INTO placed FROM claudable_fleet.placements AS p WHERE p.project_id = wanted;
    IF placed IS NOT NULL THEN
        BEGIN
            RETURN claudable_fleet.remote_provision(placed, wanted, owner);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
        END;
    END IF;
    -- Not placed: a server may hold it already (a server added with projects of its own,
    -- or a crash between a server's answer and this directory's commit). It is placed
    -- where it is; a server that cannot be reached now cannot be asked, and is passed over.
    FOR candidate IN SELECT s.name FROM claudable_fleet.server_registry AS s ORDER BY s.name LOOP
        BEGIN
            IF EXISTS (SELECT 1 FROM claudable_fleet.remote_lookup(candidate, wanted)) THEN
                holder := candidate;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            IF NOT claudable_fleet.is_connect_failure(message) THEN
                PERFORM claudable_fleet.raise_from(candidate, state, message, detail, hint);
            END IF;
        END;
        EXIT WHEN holder IS NOT NULL;
    END LOOP;
    -- Else the accepting servers, most free capacity first. The placement and the server's
    -- work are one transaction of the directory: an error on the server leaves no
    -- placement. A concurrent first call for the same project waits on the INSERT below
    -- until this one ends, then uses its server.
    IF holder IS NOT NULL THEN
        candidates := ARRAY[holder];
    ELSE
        candidates := ARRAY(
            SELECT s.name
              FROM claudable_fleet.server_registry AS s
              LEFT JOIN (SELECT p.server, pg_catalog.count(*) AS n FROM claudable_fleet.placements AS p
                          GROUP BY p.server) AS c ON c.server = s.name
             WHERE s.state = 'accepting' AND coalesce(c.n, 0) < s.capacity
             ORDER BY s.capacity - coalesce(c.n, 0) DESC, s.name);
    END IF;
    FOREACH candidate IN ARRAY candidates LOOP
        placed := NULL;
        BEGIN
            INSERT INTO claudable_fleet.placements AS p (project_id, server) VALUES (wanted, candidate)
                ON CONFLICT ON CONSTRAINT placements_pkey DO NOTHING
                RETURNING p.server INTO placed;
            IF placed IS NULL THEN
                SELECT p.server INTO STRICT placed FROM claudable_fleet.placements AS p WHERE p.project_id = wanted;
            END IF;
            RETURN claudable_fleet.remote_provision(placed, wanted, owner);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            -- Never reached, so nothing was created there: the next server is tried. (A
            -- connection that broke during the call is not retried: the call may have run.)
            IF placed = candidate AND claudable_fleet.is_connect_failure(message) THEN
                unreachable := unreachable || candidate;
                CONTINUE;
            END IF;
            PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
        END;
    END LOOP;
    IF cardinality(unreachable) > 0 THEN
        RAISE EXCEPTION 'claudable fleet: no server that could take the project can be reached'
            USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                  DETAIL = format('Tried: %s.', array_to_string(unreachable, ', ')),
                  HINT = 'Check those servers, or add one with claudable_fleet_add_server(name, conninfo, capacity).';
    END IF;
    RAISE EXCEPTION 'claudable fleet: no server accepts new projects'
        USING ERRCODE = 'configuration_limit_exceeded',
              DETAIL = 'Every server is draining or holds as many projects as its capacity.',
              HINT = 'Add a server with claudable_fleet_add_server(name, conninfo, capacity).';
END
$$;
COMMENT ON FUNCTION @extschema@.claudable_provision(text, text) IS
    'Places a new project on the accepting server with the most free capacity and provisions it there; later calls go to the same server.';
REVOKE ALL ON FUNCTION @extschema@.claudable_provision(text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_rotate_password(project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted constant text := project_id;
    placed text;
    state text; message text; detail text; hint text;
BEGIN
    PERFORM claudable_fleet.require_arguments(wanted, owner_id);
    SELECT p.server INTO placed FROM claudable_fleet.placements AS p WHERE p.project_id = wanted;
    IF placed IS NULL THEN
        RAISE EXCEPTION 'claudable: project "%" is not provisioned', wanted USING ERRCODE = 'no_data_found';
    END IF;
    RETURN claudable_fleet.remote_rotate_password(placed, wanted, owner_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_rotate_password(text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_deprovision(project_id text, owner_id text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted constant text := project_id;
    placed text;
    dropped boolean;
    state text; message text; detail text; hint text;
BEGIN
    PERFORM claudable_fleet.require_arguments(wanted, owner_id);
    SELECT p.server INTO placed FROM claudable_fleet.placements AS p WHERE p.project_id = wanted FOR UPDATE;
    IF placed IS NULL THEN
        RETURN false;
    END IF;
    BEGIN
        dropped := claudable_fleet.remote_deprovision(placed, wanted, owner_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
    END;
    -- false: the server holds no such project, so the placement pointed at nothing.
    DELETE FROM claudable_fleet.placements AS p WHERE p.project_id = wanted;
    RETURN dropped;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_deprovision(text, text) FROM PUBLIC;

-- ---- adding and draining servers --------------------------------------------------------
-- conninfo as libpq key=value pairs; values may be single-quoted with \' and \\ inside.
CREATE FUNCTION claudable_fleet.conninfo_pairs(conninfo text)
RETURNS TABLE (key text, value text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pair constant text := '([A-Za-z_]+)[[:space:]]*=[[:space:]]*(''(?:[^''\\]|\\.)*''|[^[:space:]'']+)';
BEGIN
    IF conninfo IS NULL OR conninfo ~ '^[[:space:]]*[a-z]+://' OR btrim(regexp_replace(conninfo, pair, '', 'g')) <> '' THEN
        RAISE EXCEPTION 'claudable fleet: conninfo must be libpq key=value pairs'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example: host=10.0.0.5 port=5432 dbname=meta user=claudable_fleet password=... '
                         '(a URL is not accepted, so that user and password can go into a user mapping).';
    END IF;
    RETURN QUERY
        SELECT m[1], CASE WHEN left(m[2], 1) = ''''
                          THEN regexp_replace(substr(m[2], 2, length(m[2]) - 2), '\\(.)', '\1', 'g')
                          ELSE m[2] END
          FROM regexp_matches(conninfo, pair, 'g') AS m;
END
$$;

CREATE FUNCTION @extschema@.claudable_fleet_add_server(name text, conninfo text, capacity integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    server constant text := name;
    options text[] := '{}';
    login_user text;
    login_password text;
    has_dbname boolean := false;
    has_timeout boolean := false;
    item record;
    facts claudable_fleet.server_facts;
    state text; message text; detail text; hint text;
BEGIN
    IF server IS NULL OR server !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'claudable fleet: invalid server name "%"', server
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A server name is 1 to 40 characters of a-z, 0-9 and _, starting with a letter.';
    END IF;
    IF capacity IS NULL OR capacity < 1 THEN
        RAISE EXCEPTION 'claudable fleet: capacity must be at least 1' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'capacity is how many projects the directory places on that server.';
    END IF;
    IF EXISTS (SELECT 1 FROM claudable_fleet.server_registry AS s WHERE s.name = server) THEN
        RAISE EXCEPTION 'claudable fleet: server "%" is already in the fleet', server USING ERRCODE = 'duplicate_object',
            HINT = 'Choose another name; claudable_fleet.servers lists the fleet.';
    END IF;
    FOR item IN SELECT * FROM claudable_fleet.conninfo_pairs(conninfo) LOOP
        CASE item.key
            WHEN 'user' THEN login_user := item.value;
            WHEN 'password' THEN login_password := item.value;
            ELSE
                options := array_append(options, format('%s=''%s''', item.key,
                                                        replace(replace(item.value, '\', '\\'), '''', '\''')));
                has_dbname := has_dbname OR item.key = 'dbname';
                has_timeout := has_timeout OR item.key = 'connect_timeout';
        END CASE;
    END LOOP;
    IF login_user IS NULL OR NOT has_dbname THEN
        RAISE EXCEPTION 'claudable fleet: conninfo must name the database (dbname=) and the role (user=) to log in as'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The role needs EXECUTE on claudable''s functions there and nothing more (README, "Fleet").';
    END IF;
    -- A dead host must not hold a call for libpq's default of forever.
    IF NOT has_timeout THEN
        options := array_append(options, 'connect_timeout=''5''');
    END IF;
    -- The password goes into the user mapping, which only its owner and superusers can
    -- read; the server's own options (p0) are readable by everyone.
    EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER plproxy OPTIONS (connection_lifetime %L, p0 %L)',
                   claudable_fleet.cluster_name(server), '1800', array_to_string(options, ' '));
    EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I OPTIONS (%s)',
                   claudable_fleet.cluster_name(server),
                   concat_ws(', ', format('user %L', login_user),
                             CASE WHEN login_password IS NOT NULL THEN format('password %L', login_password) END));
    INSERT INTO claudable_fleet.server_registry (name, capacity) VALUES (server, capacity);

    BEGIN
        facts := claudable_fleet.remote_facts(server);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        IF claudable_fleet.is_connect_failure(message) THEN
            RAISE EXCEPTION 'claudable fleet: server "%" cannot be reached, so it was not added', server
                USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                      DETAIL = claudable_fleet.libpq_cause(message),
                      HINT = 'Check conninfo (host, port, dbname, user, password) and that the server accepts '
                             'the directory''s connections (pg_hba.conf).';
        END IF;
        PERFORM claudable_fleet.raise_from(server, state, message, detail, hint);
    END;
    IF facts.is_superuser OR facts.has_role_rights OR facts.reads_metadata THEN
        RAISE EXCEPTION 'claudable fleet: role "%" on server "%" holds more than EXECUTE on claudable''s functions',
                        login_user, server
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The directory never logs in as a superuser, a role with CREATEDB, CREATEROLE, REPLICATION '
                           'or BYPASSRLS, or a role that can read the schema claudable.',
                  HINT = 'Log in as a plain role that holds EXECUTE on claudable''s functions there and nothing more '
                         '(README, "Fleet").';
    END IF;
    IF facts.claudable_version IS NULL OR facts.claudable_schema <> 'public'
       OR string_to_array(facts.claudable_version, '.')::integer[] < ARRAY[0, 5, 0] THEN
        RAISE EXCEPTION 'claudable fleet: server "%" has no claudable 0.5.0 or later in schema public', server
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Found: %s.', coalesce('version ' || facts.claudable_version || ' in schema '
                                                        || facts.claudable_schema, 'no claudable')),
                  HINT = 'In the database that conninfo names: CREATE EXTENSION claudable (or ALTER EXTENSION claudable UPDATE).';
    END IF;
    IF NOT facts.has_every_grant THEN
        RAISE EXCEPTION 'claudable fleet: role "%" may not call every claudable function the directory needs on server "%"',
                        login_user, server
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'There: GRANT EXECUTE ON FUNCTION claudable_provision(text, text), claudable_deprovision(text, text), '
                         'claudable_rotate_password(text, text), claudable_check(), claudable_databases(), '
                         'claudable_databases(text), claudable_pooler_entries() TO ' || quote_ident(login_user) || ';';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_add_server(text, text, integer) IS
    'Adds a claudable server to the fleet after checking that it is reachable as a role with EXECUTE only.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_add_server(text, text, integer) FROM PUBLIC;

CREATE FUNCTION claudable_fleet.set_server_state(server text, new_state text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE claudable_fleet.server_registry AS s SET state = new_state WHERE s.name = server;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'claudable fleet: no server "%" in the fleet', server USING ERRCODE = 'undefined_object',
            HINT = 'claudable_fleet.servers lists the fleet.';
    END IF;
END
$$;

CREATE FUNCTION @extschema@.claudable_fleet_drain_server(name text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT claudable_fleet.set_server_state(name, 'draining') $$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_drain_server(text) IS
    'No new project is placed on the server; its projects keep working there.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_drain_server(text) FROM PUBLIC;

CREATE FUNCTION @extschema@.claudable_fleet_resume_server(name text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT claudable_fleet.set_server_state(name, 'accepting') $$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_resume_server(text) IS
    'Undoes claudable_fleet_drain_server: the server accepts new projects again.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_resume_server(text) FROM PUBLIC;

-- ---- what the fleet holds ---------------------------------------------------------------
-- Every server is asked; one that cannot be reached makes the whole listing fail (08001,
-- naming it) rather than leave its projects out silently.
CREATE FUNCTION claudable_fleet.every_database()
RETURNS TABLE (server text, project_id text, owner_id text, database_name text, username text, status text,
               size_bytes bigint, connections integer, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    each_server text;
    state text; message text; detail text; hint text;
BEGIN
    FOR each_server IN SELECT s.name FROM claudable_fleet.server_registry AS s ORDER BY s.name LOOP
        BEGIN
            RETURN QUERY SELECT each_server, d.* FROM claudable_fleet.remote_databases(each_server) AS d;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            PERFORM claudable_fleet.raise_from(each_server, state, message, detail, hint);
        END;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION claudable_fleet.every_database() FROM PUBLIC;

CREATE VIEW claudable_fleet.databases AS SELECT * FROM claudable_fleet.every_database();
REVOKE ALL ON TABLE claudable_fleet.databases FROM PUBLIC;

-- What `claudable pgbouncer-config` writes for the whole fleet. All or nothing: a pooler
-- configuration without one server's projects would cut their apps off at the next RELOAD.
CREATE FUNCTION @extschema@.claudable_fleet_pooler_entries()
RETURNS TABLE (server text, database_name text, username text, host text, port integer, scram_verifier text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    each_server text;
    state text; message text; detail text; hint text;
BEGIN
    FOR each_server IN SELECT s.name FROM claudable_fleet.server_registry AS s ORDER BY s.name LOOP
        BEGIN
            RETURN QUERY SELECT each_server, e.* FROM claudable_fleet.remote_pooler_entries(each_server) AS e;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            PERFORM claudable_fleet.raise_from(each_server, state, message, detail, hint);
        END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_pooler_entries() IS
    'Every server''s claudable_pooler_entries(), with the server''s name; fails if a server cannot be reached.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_pooler_entries() FROM PUBLIC;

-- Every server's claudable_check() findings, then the directory's own: servers that cannot
-- be reached, placements whose server has no such project, projects no placement points at.
CREATE FUNCTION @extschema@.claudable_fleet_check()
RETURNS TABLE (server text, severity text, object text, problem text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    each_server text;
    held text[];
    message text;
BEGIN
    FOR each_server IN SELECT s.name FROM claudable_fleet.server_registry AS s ORDER BY s.name LOOP
        BEGIN
            SELECT coalesce(array_agg(d.project_id), '{}') INTO held FROM claudable_fleet.remote_databases(each_server) AS d;
            RETURN QUERY SELECT each_server, f.* FROM claudable_fleet.remote_check(each_server) AS f;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
            IF NOT claudable_fleet.is_connect_failure(message) AND message !~ 'PQ[a-zA-Z]+:' THEN
                RAISE;
            END IF;
            RETURN QUERY SELECT each_server, 'error'::text, 'server ' || each_server,
                'cannot be reached, so its projects cannot be checked: '
                || claudable_fleet.libpq_cause(message);
            CONTINUE;
        END;
        RETURN QUERY
            SELECT each_server, 'error'::text, 'project ' || p.project_id,
                   'placed on this server, which holds no such project: its next claudable_provision creates it '
                   || 'here again; claudable_deprovision removes the placement'
              FROM claudable_fleet.placements AS p
             WHERE p.server = each_server AND p.project_id <> ALL (held)
             ORDER BY p.project_id;
        RETURN QUERY
            SELECT each_server, CASE WHEN p.server IS NULL THEN 'warning' ELSE 'error' END, 'project ' || h.project_id,
                   CASE WHEN p.server IS NULL
                        THEN 'held by this server but not placed in the directory: its next call through the '
                             || 'directory places it here, unless this server cannot be reached then. To record it '
                             || 'now: INSERT INTO claudable_fleet.placements (project_id, server) VALUES ('
                             || quote_literal(h.project_id) || ', ' || quote_literal(each_server) || ')'
                        ELSE 'held by this server but placed on server ' || p.server END
              FROM unnest(held) AS h (project_id)
              LEFT JOIN claudable_fleet.placements AS p ON p.project_id = h.project_id
             WHERE p.server IS DISTINCT FROM each_server
             ORDER BY h.project_id;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_check() IS
    'Every server''s claudable_check() findings plus the directory''s: unreachable servers, placements without a project, projects without a placement.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_check() FROM PUBLIC;

-- The internal functions are reached only through the SECURITY DEFINER ones above: no
-- EXECUTE for PUBLIC, on top of the schema being closed to it.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA claudable_fleet FROM PUBLIC;
