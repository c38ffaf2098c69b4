-- What README asks of a DBA before claudable_check() can come back empty: nobody but
-- named roles connects to the metadata database or to template1.
DO $$ BEGIN
    EXECUTE pg_catalog.format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
END $$;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
