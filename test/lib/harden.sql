-- What README's hardening asks of a DBA before claudable_check() can come back empty:
-- nobody but named roles connects to the metadata database, and PUBLIC connects to no
-- other database of the cluster (postgres, template1, any other a test made).
DO $$
DECLARE d name;
BEGIN
    EXECUTE pg_catalog.format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
    FOR d IN SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND datname <> pg_catalog.current_database() LOOP
        EXECUTE pg_catalog.format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', d);
    END LOOP;
END $$;
