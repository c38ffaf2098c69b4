-- claudable_fleet 0.2.0 -> 0.3.0: claudable_provision and claudable_deprovision tell
-- `claudable pooler-sync` (NOTIFY claudable_pooler, at the caller's commit) when a call
-- created or placed a project or removed a placement, so that PgBouncer's [databases] entry
-- of a new project is written and reloaded before its pooled URL is first used.
-- The Makefile builds claudable_fleet--0.2.0--0.3.0.sql from this file with the section of
-- claudable_fleet.sql it names, so every definition is written once.
\echo Use "ALTER EXTENSION claudable_fleet UPDATE TO '0.3.0'" to load this file. \quit

-- Everything below is functions and one view, each CREATE OR REPLACE: the upgrade from
-- 0.2.0 runs this section as it is (0.1.0 and 0.2.0 had the same schema, tables and types).
-- ---- PL/Proxy: one call on one server --------------------------------------------------
-- The cluster of a server is the SQL/MED server of that name. Every remote call names
-- claudable's function in schema public (claudable_fleet_add_server checks it is there),
-- whatever the search_path of the role the directory logs in as.
CREATE OR REPLACE FUNCTION claudable_fleet.cluster_name(server text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'claudable_fleet_' OPERATOR(pg_catalog.||) server $$;

-- client_min_messages: PL/Proxy's own NOTICE when it drops a connection after a remote
-- error is not for the caller.
CREATE OR REPLACE FUNCTION claudable_fleet.remote_provision(server text, project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_provision(project_id, owner_id); $$;
CREATE OR REPLACE FUNCTION claudable_fleet.remote_rotate_password(server text, project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_rotate_password(project_id, owner_id); $$;
CREATE OR REPLACE FUNCTION claudable_fleet.remote_deprovision(server text, project_id text, owner_id text)
RETURNS boolean
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT public.claudable_deprovision(project_id, owner_id); $$;
CREATE OR REPLACE FUNCTION claudable_fleet.remote_databases(server text)
RETURNS SETOF claudable_fleet.server_database
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_databases(); $$;
CREATE OR REPLACE FUNCTION claudable_fleet.remote_lookup(server text, project_id text)
RETURNS SETOF claudable_fleet.server_database
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_databases(project_id); $$;
CREATE OR REPLACE FUNCTION claudable_fleet.remote_check(server text)
RETURNS SETOF claudable_fleet.server_finding
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_check(); $$;
CREATE OR REPLACE FUNCTION claudable_fleet.remote_pooler_entries(server text)
RETURNS SETOF claudable_fleet.pooler_entry
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT * FROM public.claudable_pooler_entries(); $$;
-- One round trip that changes nothing: claudable_fleet.reach() sends it before a call that
-- is not repeated, so that such a call is never written on a connection the server ended.
CREATE OR REPLACE FUNCTION claudable_fleet.remote_ping(server text)
RETURNS integer
LANGUAGE plproxy SET client_min_messages = warning
AS $$ CLUSTER claudable_fleet.cluster_name(server); RUN ON 0;
      SELECT 1; $$;
CREATE OR REPLACE FUNCTION claudable_fleet.remote_facts(server text)
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
CREATE OR REPLACE FUNCTION claudable_fleet.is_connect_failure(message text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT message ~ '(PQconnectPoll|PQconnectStart|PQconnectdb|connect failed|could not connect)'
             AND message !~ 'REMOTE ERROR: ' $$;

-- A connection PL/Proxy had, lost during a call: the server ended the session (57P01 at a
-- fast or smart shutdown and at pg_terminate_backend, 57P02 when another backend crashed,
-- 57P05 at idle_session_timeout; PL/Proxy forwards the server's FATAL as an ERROR with its
-- SQLSTATE) or the connection closed under libpq (an immediate shutdown, a crash: XX000 from
-- PQconsumeInput and the like). Not a failure to connect, and not an error the server raised.
CREATE OR REPLACE FUNCTION claudable_fleet.connection_lost(sqlstate text, message text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT NOT claudable_fleet.is_connect_failure(message) AND message !~ 'REMOTE ERROR: '
             AND (sqlstate IN ('57P01', '57P02', '57P05') OR sqlstate LIKE '08%'
                  OR sqlstate = 'XX000' AND message ~ '(PQconsumeInput|PQsendQuery|PQgetResult|PQflush|query timeout|closed the connection|connection.*lost)') $$;

-- What libpq said, without PL/Proxy's "PL/Proxy function <name>: [<db>] " in front of it.
CREATE OR REPLACE FUNCTION claudable_fleet.libpq_cause(message text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT rtrim(regexp_replace(message, '^PL/Proxy function [^:]+: (\[[^]]*\] )?', ''), E' \n') $$;

-- Why a call failed, in one line for a DETAIL: the server's own message with its SQLSTATE,
-- or what libpq said.
CREATE OR REPLACE FUNCTION claudable_fleet.cause_of(sqlstate text, message text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT regexp_replace(CASE WHEN message ~ '\] REMOTE [A-Z]+: '
                                 THEN sqlstate || ': ' || substring(message FROM '\] REMOTE [A-Z]+: (.*)$')
                                 ELSE claudable_fleet.libpq_cause(message) END,
                            '[[:space:]]+', ' ', 'g') $$;

-- RAISE takes no NULL option: an absent detail or hint is left out, not shown empty.
CREATE OR REPLACE FUNCTION claudable_fleet.raise_error(sqlstate text, message text, detail text, hint text) RETURNS void
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

CREATE OR REPLACE FUNCTION claudable_fleet.raise_from(server text, sqlstate text, message text, detail text, hint text)
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
    ELSIF claudable_fleet.connection_lost(sqlstate, message) THEN
        -- 08006 is what the clients take for "sent, outcome unknown": they do not send a
        -- deprovision or a rotation again after it (README, "Fleet").
        RAISE EXCEPTION USING ERRCODE = 'connection_failure',
            MESSAGE = format('claudable fleet: the connection to server "%s" broke during the call', server),
            DETAIL = claudable_fleet.cause_of(sqlstate, message),
            HINT = 'The call may or may not have completed there. Calling again is safe: a provision returns what '
                   'exists, a deprovision finishes or finds nothing, a rotation returns a new password.';
    END IF;
    PERFORM claudable_fleet.raise_error(sqlstate, message, detail, hint);
END
$$;

-- NULL arguments are refused before anything is placed, as claudable refuses them.
CREATE OR REPLACE FUNCTION claudable_fleet.require_arguments(project_id text, owner_id text) RETURNS void
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

-- ---- a connection the server ended: once more, when the call is safe to repeat ----------
-- PL/Proxy keeps each server's connection for the session (connection_lifetime). Before it
-- writes a call on one that sat idle for 2 s or more it looks whether the server ended it,
-- and connects anew; one used less than 2 s ago is written on as it is. So after a server's
-- restart (or a pg_terminate_backend of the directory's session there), the next call of a
-- session that used that server just before fails once, with the server's 57P01 (57P02 after
-- a crash, or a closed connection after an immediate shutdown). PL/Proxy drops a connection
-- after such an error, so a second attempt connects anew.
--
-- A call that is safe to repeat is made once more, at once: the lookups of a first call
-- (claudable_databases(project_id)), the listings (claudable_databases(),
-- claudable_check(), claudable_pooler_entries()), and claudable_provision, which returns what
-- exists whether or not the first attempt ran (if it did and created the project, the second
-- returns created = false). A deprovision or a rotation is never made twice: whether the
-- first attempt ran cannot be told from the error, as the server ends the session in the
-- same way while it runs the call; claudable_fleet.reach() proves the connection alive first
-- instead, and a call lost after that is reported as such (08006, outcome unknown).

-- After a first attempt failed: raises its error unless it lost its connection; else notes,
-- in the server log only, that the call is made once more.
CREATE OR REPLACE FUNCTION claudable_fleet.retry_or_raise(server text, call text, sqlstate text, message text, detail text,
                                               hint text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT claudable_fleet.connection_lost(sqlstate, message) THEN
        PERFORM claudable_fleet.raise_error(sqlstate, message, detail, hint);
    END IF;
    RAISE LOG 'claudable fleet: the connection to server "%" was lost (%) during %; it is made once more on a new connection',
              server, sqlstate, call;
END
$$;

-- After the second attempt failed too. A failure to connect says the server is gone again,
-- nothing about the first attempt, which may have run there: the first error is raised, so
-- the caller learns that the call may have run (and a first call does not move on to
-- another server as if nothing had been sent).
CREATE OR REPLACE FUNCTION claudable_fleet.raise_second(first_sqlstate text, first_message text, first_detail text,
                                             first_hint text, sqlstate text, message text, detail text, hint text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF claudable_fleet.is_connect_failure(message) THEN
        PERFORM claudable_fleet.raise_error(first_sqlstate, first_message, first_detail, first_hint);
    END IF;
    PERFORM claudable_fleet.raise_error(sqlstate, message, detail, hint);
END
$$;

CREATE OR REPLACE FUNCTION claudable_fleet.provision_on(server text, project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s1 text; m1 text; d1 text; h1 text;
    s2 text; m2 text; d2 text; h2 text;
BEGIN
    BEGIN
        RETURN claudable_fleet.remote_provision(server, project_id, owner_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s1 = RETURNED_SQLSTATE, m1 = MESSAGE_TEXT, d1 = PG_EXCEPTION_DETAIL, h1 = PG_EXCEPTION_HINT;
        PERFORM claudable_fleet.retry_or_raise(server, 'claudable_provision', s1, m1, d1, h1);
    END;
    BEGIN
        RETURN claudable_fleet.remote_provision(server, project_id, owner_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s2 = RETURNED_SQLSTATE, m2 = MESSAGE_TEXT, d2 = PG_EXCEPTION_DETAIL, h2 = PG_EXCEPTION_HINT;
        PERFORM claudable_fleet.raise_second(s1, m1, d1, h1, s2, m2, d2, h2);
    END;
    RETURN NULL;  -- not reached: raise_second raises
END
$$;

-- The set-returning calls: PL/Proxy returns rows only once the server's whole answer is in,
-- so a failed attempt has returned none. `query` reads $1 (the server) and $2 (a project id,
-- or NULL); `call` names the server's function in messages; `shape` (a NULL of the row
-- type) gives the rows their type. Made once more on a lost connection (retry_or_raise).
CREATE OR REPLACE FUNCTION claudable_fleet.rows_from(server text, project_id text, call text, query text,
                                                     shape anyelement)
RETURNS SETOF anyelement
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s1 text; m1 text; d1 text; h1 text;
    s2 text; m2 text; d2 text; h2 text;
BEGIN
    BEGIN
        RETURN QUERY EXECUTE query USING server, project_id;
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s1 = RETURNED_SQLSTATE, m1 = MESSAGE_TEXT, d1 = PG_EXCEPTION_DETAIL, h1 = PG_EXCEPTION_HINT;
        PERFORM claudable_fleet.retry_or_raise(server, call, s1, m1, d1, h1);
    END;
    BEGIN
        RETURN QUERY EXECUTE query USING server, project_id;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s2 = RETURNED_SQLSTATE, m2 = MESSAGE_TEXT, d2 = PG_EXCEPTION_DETAIL, h2 = PG_EXCEPTION_HINT;
        PERFORM claudable_fleet.raise_second(s1, m1, d1, h1, s2, m2, d2, h2);
    END;
END
$$;

CREATE OR REPLACE FUNCTION claudable_fleet.lookup_on(server text, project_id text)
RETURNS SETOF claudable_fleet.server_database
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT * FROM claudable_fleet.rows_from($1, $2, 'claudable_databases(project_id)',
    'SELECT * FROM claudable_fleet.remote_lookup($1, $2)', NULL::claudable_fleet.server_database)
$$;

CREATE OR REPLACE FUNCTION claudable_fleet.databases_on(server text)
RETURNS SETOF claudable_fleet.server_database
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT * FROM claudable_fleet.rows_from($1, NULL, 'claudable_databases()',
    'SELECT * FROM claudable_fleet.remote_databases($1)', NULL::claudable_fleet.server_database)
$$;

CREATE OR REPLACE FUNCTION claudable_fleet.check_on(server text)
RETURNS SETOF claudable_fleet.server_finding
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT * FROM claudable_fleet.rows_from($1, NULL, 'claudable_check()',
    'SELECT * FROM claudable_fleet.remote_check($1)', NULL::claudable_fleet.server_finding)
$$;

CREATE OR REPLACE FUNCTION claudable_fleet.pooler_entries_on(server text)
RETURNS SETOF claudable_fleet.pooler_entry
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT * FROM claudable_fleet.rows_from($1, NULL, 'claudable_pooler_entries()',
    'SELECT * FROM claudable_fleet.remote_pooler_entries($1)', NULL::claudable_fleet.pooler_entry)
$$;

-- Before a deprovision or a rotation: a round trip on the server's connection, made once
-- more if the connection turns out lost. The call is then written on a connection that has
-- just answered: one the server ended while it sat in this session is found here, where
-- nothing is lost by it, never under the call. Costs one round trip per such call.
CREATE OR REPLACE FUNCTION claudable_fleet.reach(server text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s1 text; m1 text; d1 text; h1 text;
    s2 text; m2 text; d2 text; h2 text;
BEGIN
    BEGIN
        PERFORM claudable_fleet.remote_ping(server);
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s1 = RETURNED_SQLSTATE, m1 = MESSAGE_TEXT, d1 = PG_EXCEPTION_DETAIL, h1 = PG_EXCEPTION_HINT;
        PERFORM claudable_fleet.retry_or_raise(server, 'a check of its connection', s1, m1, d1, h1);
    END;
    BEGIN
        PERFORM claudable_fleet.remote_ping(server);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s2 = RETURNED_SQLSTATE, m2 = MESSAGE_TEXT, d2 = PG_EXCEPTION_DETAIL, h2 = PG_EXCEPTION_HINT;
        -- Nothing was sent but the ping: the second error, even a failure to connect, is the
        -- true one (08001, and nothing happened).
        PERFORM claudable_fleet.raise_error(s2, m2, d2, h2);
    END;
END
$$;

-- Whether a server could hold a project of that id: claudable's rule for a project_id (1 to
-- 128 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit). An id no
-- server can hold is not looked up: the server the call goes to refuses it with its own
-- error, and no server is made to remember an id that is no project's.
CREATE OR REPLACE FUNCTION claudable_fleet.could_be_held(project_id text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT project_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$' $$;

-- ---- the calls the deploy service makes -----------------------------------------------
-- The pooler: `claudable pooler-sync` LISTENs on the channel claudable_pooler (README,
-- "Pooled URLs") and writes PgBouncer's [databases] entries again when told. A call that
-- created or placed a project, or removed a placement, tells it, at the caller's commit (a
-- call that rolls back tells nothing). A warm call changes nothing the pooler serves and
-- tells nothing. The payload is empty and a listener ignores it: anyone who may connect to
-- the directory may NOTIFY the channel.
CREATE OR REPLACE FUNCTION claudable_fleet.tell_pooler() RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.pg_notify('claudable_pooler', '') $$;

CREATE OR REPLACE FUNCTION @extschema@.claudable_provision(project_id text, owner_id text)
RETURNS claudable_fleet.provisioned_project
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted constant text := project_id;
    owner constant text := owner_id;
    made claudable_fleet.provisioned_project;
    placed text;
    holder text;
    candidate text;
    candidates text[];
    unanswered text[] := '{}';
    causes text[] := '{}';
    unreachable text[] := '{}';
    state text; message text; detail text; hint text;
BEGIN
    PERFORM claudable_fleet.require_arguments(wanted, owner);
    SELECT p.server INTO placed FROM claudable_fleet.placements AS p WHERE p.project_id = wanted;
    IF placed IS NOT NULL THEN
        BEGIN
            made := claudable_fleet.provision_on(placed, wanted, owner);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
        END;
        IF made.created THEN
            PERFORM claudable_fleet.tell_pooler();
        END IF;
        RETURN made;
    END IF;
    -- Not placed. The placement row is taken first, with a stand-in server set right below:
    -- a concurrent first call for the same project waits on this INSERT, before it asks any
    -- server, until this call ends, then uses its server (or, if this one failed, goes on as
    -- a first call). Were it to ask the servers first, its lookup would tell a server "not
    -- here" while this call's worker is on its way there, and that server would refuse this
    -- call (55000). A refused call rolls the row back with everything else.
    INSERT INTO claudable_fleet.placements AS p (project_id, server)
        SELECT wanted, s.name FROM claudable_fleet.server_registry AS s ORDER BY s.name LIMIT 1
        ON CONFLICT ON CONSTRAINT placements_pkey DO NOTHING
        RETURNING p.server INTO placed;
    IF placed IS NULL THEN
        SELECT p.server INTO placed FROM claudable_fleet.placements AS p WHERE p.project_id = wanted;
        IF placed IS NOT NULL THEN  -- placed by a concurrent first call that committed
            BEGIN
                made := claudable_fleet.provision_on(placed, wanted, owner);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                        detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
                PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
            END;
            IF made.created THEN
                PERFORM claudable_fleet.tell_pooler();
            END IF;
            RETURN made;
        END IF;  -- else no server in the fleet: refused below
    END IF;
    -- A server may hold it already (a server added with projects of its own,
    -- a crash between a server's answer and this directory's commit, or an earlier first
    -- call cancelled while that server's worker was still queued, whose worker may create
    -- it later). Every server is asked (claudable_databases(project_id)); a server that
    -- answers "not here" also remembers the answer, and a call for the project that began
    -- there before it creates nothing afterwards. The project is placed where it is held;
    -- else only when every server has answered "not here" (README, "Fleet"). A server that
    -- cannot answer (it cannot be reached, or its lookup fails) may hold it, or may still
    -- create it, and the directory cannot tell: placing the project elsewhere could make a
    -- second copy, so the call is refused (08001) and names that server.
    IF claudable_fleet.could_be_held(wanted) THEN
        FOR candidate IN SELECT s.name FROM claudable_fleet.server_registry AS s ORDER BY s.name LOOP
            BEGIN
                IF EXISTS (SELECT 1 FROM claudable_fleet.lookup_on(candidate, wanted)) THEN
                    holder := candidate;
                END IF;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
                unanswered := unanswered || candidate;
                causes := causes || format('server "%s": %s', candidate, claudable_fleet.cause_of(state, message));
            END;
            EXIT WHEN holder IS NOT NULL;
        END LOOP;
        IF holder IS NULL AND cardinality(unanswered) > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                MESSAGE = format('claudable fleet: %s could not be asked whether %s project "%s", so it was placed on no server',
                                 CASE WHEN cardinality(unanswered) = 1 THEN format('server "%s"', unanswered[1])
                                      ELSE 'servers "' || array_to_string(unanswered, '", "') || '"' END,
                                 CASE WHEN cardinality(unanswered) = 1 THEN 'it holds' ELSE 'they hold' END, wanted),
                DETAIL = array_to_string(causes, '; ') || '.',
                HINT = 'A server that cannot answer may hold the project (one it had before it joined the fleet, or one '
                       'an earlier call that was cancelled left it creating), so placing it elsewhere could make a '
                       'second copy. Call again once that server answers; until then calls for projects already placed '
                       'work as before.';
        END IF;
    END IF;
    -- Else the accepting servers, most free capacity first (this call's own row not
    -- counted). The placement and the server's work are one transaction of the directory:
    -- an error on the server leaves no placement.
    IF holder IS NOT NULL THEN
        candidates := ARRAY[holder];
    ELSE
        candidates := ARRAY(
            SELECT s.name
              FROM claudable_fleet.server_registry AS s
              LEFT JOIN (SELECT p.server, pg_catalog.count(*) AS n FROM claudable_fleet.placements AS p
                          WHERE p.project_id <> wanted GROUP BY p.server) AS c ON c.server = s.name
             WHERE s.state = 'accepting' AND coalesce(c.n, 0) < s.capacity
             ORDER BY s.capacity - coalesce(c.n, 0) DESC, s.name);
    END IF;
    FOREACH candidate IN ARRAY candidates LOOP
        BEGIN
            UPDATE claudable_fleet.placements AS p SET server = candidate WHERE p.project_id = wanted;
            made := claudable_fleet.provision_on(candidate, wanted, owner);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            -- Never reached, so nothing was sent there, and it answered "not here" a moment
            -- ago: the next server is tried. (A connection that broke during the call is not
            -- a failure to connect, even if the second attempt could not connect: the call
            -- may have run there, and another server is never tried after it.)
            IF claudable_fleet.is_connect_failure(message) THEN
                unreachable := unreachable || candidate;
                CONTINUE;
            END IF;
            PERFORM claudable_fleet.raise_from(candidate, state, message, detail, hint);
        END;
        -- Placed by this call: the pooler serves it from this call's commit on.
        PERFORM claudable_fleet.tell_pooler();
        RETURN made;
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

CREATE OR REPLACE FUNCTION @extschema@.claudable_rotate_password(project_id text, owner_id text)
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
    -- A rotation is not made twice (README, "Fleet"): the connection is proven alive first.
    PERFORM claudable_fleet.reach(placed);
    RETURN claudable_fleet.remote_rotate_password(placed, wanted, owner_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_rotate_password(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.claudable_deprovision(project_id text, owner_id text)
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
        -- Nor is a deprovision made twice: the connection is proven alive first.
        PERFORM claudable_fleet.reach(placed);
        dropped := claudable_fleet.remote_deprovision(placed, wanted, owner_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        PERFORM claudable_fleet.raise_from(placed, state, message, detail, hint);
    END;
    -- false: the server holds no such project, so the placement pointed at nothing.
    DELETE FROM claudable_fleet.placements AS p WHERE p.project_id = wanted;
    PERFORM claudable_fleet.tell_pooler();
    RETURN dropped;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claudable_deprovision(text, text) FROM PUBLIC;

-- ---- adding and draining servers --------------------------------------------------------
-- conninfo as libpq key=value pairs; values may be single-quoted with \' and \\ inside.
CREATE OR REPLACE FUNCTION claudable_fleet.conninfo_pairs(conninfo text)
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

CREATE OR REPLACE FUNCTION @extschema@.claudable_fleet_add_server(name text, conninfo text, capacity integer)
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

CREATE OR REPLACE FUNCTION claudable_fleet.set_server_state(server text, new_state text) RETURNS void
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

CREATE OR REPLACE FUNCTION @extschema@.claudable_fleet_drain_server(name text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT claudable_fleet.set_server_state(name, 'draining') $$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_drain_server(text) IS
    'No new project is placed on the server; its projects keep working there.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_drain_server(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.claudable_fleet_resume_server(name text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT claudable_fleet.set_server_state(name, 'accepting') $$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_resume_server(text) IS
    'Undoes claudable_fleet_drain_server: the server accepts new projects again.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_resume_server(text) FROM PUBLIC;

-- ---- what the fleet holds ---------------------------------------------------------------
-- Every server is asked; one that cannot be reached makes the whole listing fail (08001,
-- naming it) rather than leave its projects out silently.
CREATE OR REPLACE FUNCTION claudable_fleet.every_database()
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
            RETURN QUERY SELECT each_server, d.* FROM claudable_fleet.databases_on(each_server) AS d;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            PERFORM claudable_fleet.raise_from(each_server, state, message, detail, hint);
        END;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION claudable_fleet.every_database() FROM PUBLIC;

CREATE OR REPLACE VIEW claudable_fleet.databases AS SELECT * FROM claudable_fleet.every_database();
REVOKE ALL ON TABLE claudable_fleet.databases FROM PUBLIC;

-- What `claudable pgbouncer-config` writes for the whole fleet. All or nothing: a pooler
-- configuration without one server's projects would cut their apps off at the next RELOAD.
CREATE OR REPLACE FUNCTION @extschema@.claudable_fleet_pooler_entries()
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
            RETURN QUERY SELECT each_server, e.* FROM claudable_fleet.pooler_entries_on(each_server) AS e;
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
-- be reached, placements whose server has no such project, projects held by two servers,
-- projects no placement points at. Every server's list is read first: a project held by
-- two servers is only seen with both lists.
CREATE OR REPLACE FUNCTION @extschema@.claudable_fleet_check()
RETURNS TABLE (server text, severity text, object text, problem text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    each_server text;
    answered text[] := '{}';
    holders text[] := '{}';   -- with held_ids: one (server, project_id) pair per copy a server holds
    held_ids text[] := '{}';
    held text[];
    state text;
    message text;
BEGIN
    FOR each_server IN SELECT s.name FROM claudable_fleet.server_registry AS s ORDER BY s.name LOOP
        BEGIN
            SELECT coalesce(array_agg(d.project_id), '{}') INTO held FROM claudable_fleet.databases_on(each_server) AS d;
            RETURN QUERY SELECT each_server, f.* FROM claudable_fleet.check_on(each_server) AS f;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            IF NOT claudable_fleet.is_connect_failure(message) AND NOT claudable_fleet.connection_lost(state, message)
               AND message !~ 'PQ[a-zA-Z]+:' THEN
                RAISE;
            END IF;
            RETURN QUERY SELECT each_server, 'error'::text, 'server ' || each_server,
                'cannot be reached, so its projects cannot be checked: ' || claudable_fleet.cause_of(state, message);
            CONTINUE;
        END;
        answered := answered || each_server;
        holders := holders || array_fill(each_server, ARRAY[cardinality(held)]);
        held_ids := held_ids || held;
    END LOOP;
    FOREACH each_server IN ARRAY answered LOOP
        RETURN QUERY
            SELECT each_server, 'error'::text, 'project ' || p.project_id,
                   'placed on this server, which holds no such project: its next claudable_provision creates it '
                   || 'here again; claudable_deprovision removes the placement'
              FROM claudable_fleet.placements AS p
             WHERE p.server = each_server
               AND NOT EXISTS (SELECT 1 FROM unnest(holders, held_ids) AS h (srv, pid)
                                WHERE h.srv = each_server AND h.pid = p.project_id)
             ORDER BY p.project_id;
        -- One project on two servers: each copy with its own role, database and password.
        -- Reported on every server that holds a copy, whatever the placement says, for as
        -- long as both copies exist.
        RETURN QUERY
            SELECT each_server, 'error'::text, 'project ' || mine.pid,
                   'held by this server and also by server ' || string_agg(DISTINCT other.srv, ', ' ORDER BY other.srv)
                   || ': one project on two servers, each copy with its own role, database and password, '
                   || 'and pgbouncer-config leaves both out. '
                   || CASE WHEN min(p.server) IS NULL THEN 'No placement points at either copy yet. '
                           WHEN min(p.server) = each_server THEN 'The directory routes its calls to this copy. '
                           ELSE 'The directory routes its calls to the copy on server ' || min(p.server) || '. ' END
                   || 'Keep the copy its app uses, remove the other with claudable_deprovision on its own server, '
                   || 'and make the placement point at the one kept'
              FROM unnest(holders, held_ids) AS mine (srv, pid)
              JOIN unnest(holders, held_ids) AS other (srv, pid) ON other.pid = mine.pid AND other.srv <> mine.srv
              LEFT JOIN claudable_fleet.placements AS p ON p.project_id = mine.pid
             WHERE mine.srv = each_server
             GROUP BY mine.pid
             ORDER BY mine.pid;
        RETURN QUERY
            SELECT each_server, CASE WHEN p.server IS NULL THEN 'warning' ELSE 'error' END, 'project ' || h.pid,
                   CASE WHEN p.server IS NULL
                        THEN 'held by this server but not placed in the directory: its next call through the '
                             || 'directory places it here (or is refused while a server cannot be asked). To record '
                             || 'it now: INSERT INTO claudable_fleet.placements (project_id, server) VALUES ('
                             || quote_literal(h.pid) || ', ' || quote_literal(each_server) || ')'
                        ELSE 'held by this server but placed on server ' || p.server END
              FROM unnest(holders, held_ids) AS h (srv, pid)
              LEFT JOIN claudable_fleet.placements AS p ON p.project_id = h.pid
             WHERE h.srv = each_server AND p.server IS DISTINCT FROM each_server
               AND NOT EXISTS (SELECT 1 FROM unnest(holders, held_ids) AS o (srv, pid)
                                WHERE o.pid = h.pid AND o.srv <> each_server)
             ORDER BY h.pid;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.claudable_fleet_check() IS
    'Every server''s claudable_check() findings plus the directory''s: unreachable servers, placements without a project, projects on two servers, projects without a placement.';
REVOKE ALL ON FUNCTION @extschema@.claudable_fleet_check() FROM PUBLIC;

-- The internal functions are reached only through the SECURITY DEFINER ones above: no
-- EXECUTE for PUBLIC, on top of the schema being closed to it.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA claudable_fleet FROM PUBLIC;
