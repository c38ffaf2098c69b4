-- claudable 0.1.0: per-project role and database provisioning.
\echo Use "CREATE EXTENSION claudable" to load this file. \quit

-- Metadata lives in its own schema; nobody but the extension's owner may touch it.
CREATE SCHEMA claudable;
REVOKE ALL ON SCHEMA claudable FROM PUBLIC;

CREATE TABLE claudable.projects (
    project_id      text        PRIMARY KEY,
    owner_id        text        NOT NULL,
    database_name   text        NOT NULL UNIQUE,
    username        text        NOT NULL UNIQUE,
    -- AES-256-GCM box under the key in claudable.key_file; never the password itself
    password_sealed bytea       NOT NULL,
    host            text        NOT NULL,
    port            integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    status          text        NOT NULL CHECK (status IN ('provisioning', 'ready')),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE claudable.projects IS 'One row per provisioned project (claudable). Passwords are stored encrypted.';
REVOKE ALL ON TABLE claudable.projects FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('claudable.projects', '');

-- The row claudable_provision returns. Its columns are pinned: clients rely on them.
CREATE TYPE claudable.provisioned_project AS (
    project_id    text,
    owner_id      text,
    database_name text,
    username      text,
    password      text,
    host          text,
    port          integer,
    database_url  text,
    created       boolean,
    created_at    timestamptz
);

CREATE FUNCTION @extschema@.claudable_provision(project_id text, owner_id text)
RETURNS claudable.provisioned_project
AS 'MODULE_PATHNAME', 'claudable_provision'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.claudable_provision(text, text) IS
    'Creates (first call) or returns (later calls) the role and database of a project. Autonomous: not undone by ROLLBACK.';

REVOKE ALL ON FUNCTION @extschema@.claudable_provision(text, text) FROM PUBLIC;
