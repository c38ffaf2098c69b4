#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/pooled_login.hpp"

#include "pg/catalog_lookup.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"
#include "rules/failure.hpp"
#include "rules/sql_text.hpp"
#include "worker/provisioning_worker.hpp"

namespace claudable {
namespace {

// PgBouncer's auth_query: SELECT usename, passwd FROM pg_catalog.claudable_pooler_lookup($1).
// It answers only the lookup role (session_user, which no SET ROLE changes), only for the
// owner of this database (the project's own role), and only while that role may log in,
// has no attribute above a tenant's, and holds a verifier of the one shape claudable writes
// (SCRAM-SHA-256, 4096 iterations, a 16-byte salt): any other name gets no row, and
// PgBouncer refuses the login as it refuses an unknown user.
// Why a function in pg_catalog that keeps its default privileges: no search_path and no
// object of the tenant's can stand in for it, the tenant (the database's owner) cannot
// drop or change it, and pg_dump leaves pg_catalog's own objects out, so a tenant's dump
// of its database carries no line it could not restore. The role's name is written into
// the body; a new name in the setting means the role lacks CONNECT, and the next prepare
// writes the function again.
std::string lookup_function(const std::string& auth_user) {
    return "CREATE OR REPLACE FUNCTION pg_catalog.claudable_pooler_lookup(username text)"
           " RETURNS TABLE (usename text, passwd text)"
           " LANGUAGE sql STABLE STRICT SECURITY DEFINER PARALLEL SAFE"
           " SET search_path = pg_catalog, pg_temp"
           " AS $lookup$"
           " SELECT a.rolname::text, a.rolpassword"
           "   FROM pg_catalog.pg_database AS d"
           "   JOIN pg_catalog.pg_authid AS a ON a.oid = d.datdba"
           "  WHERE session_user = " + quoted_literal(auth_user) +
           "    AND d.datname = pg_catalog.current_database()"
           "    AND a.rolname = $1"
           "    AND a.rolcanlogin"
           "    AND NOT (a.rolsuper OR a.rolreplication OR a.rolbypassrls OR a.rolcreaterole OR a.rolcreatedb)"
           "    AND a.rolpassword ~ '^SCRAM-SHA-256\\$4096:[A-Za-z0-9+/]{22}==\\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$'"
           " $lookup$";
}

}  // namespace

void require_pooler_auth_role(const std::string& auth_user) {
    auto rows = pg::query(
        "SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls"
        "  FROM pg_catalog.pg_roles AS r WHERE r.rolname = $1",
        {pg::text_param(auth_user)});
    if (rows.empty())
        fail(sqlstate::undefined_object,
             "claudable: claudable.pooler_auth_user names role \"" + auth_user + "\", which does not exist", {},
             "CREATE ROLE " + quoted_identifier(auth_user) + " LOGIN (README, Install step 5b), or reset "
             "claudable.pooler_auth_user and reload.");
    if (rows[0][0] == "t")
        fail(sqlstate::invalid_parameter_value,
             "claudable: claudable.pooler_auth_user names role \"" + auth_user +
                 "\", which is a superuser or has CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS",
             "PgBouncer logs in as this role to read verifiers; it must hold nothing but CONNECT on project databases.",
             "Name a role with none of these attributes.");
}

bool pooled_login_prepared(const std::string& database_name, const std::string& auth_user) {
    // On the warm path of every call: the system caches, no SQL.
    return auth_user.empty() || role_may_connect(auth_user, database_name);
}

void prepare_pooled_login(const std::string& database_name, const std::string& auth_user, const CallerContext& context) {
    unsigned int database_id = 0;
    in_transaction([&] {
        auto rows = pg::query("SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = $1",
                              {pg::text_param(database_name)});
        if (!rows.empty()) database_id = static_cast<unsigned int>(pg::as_int64(rows[0][0]));
    });
    if (database_id == 0)
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: database \"" + database_name + "\" disappeared before its pooled login was prepared", {},
             "Call again: the call completes or cleans up what was started.");
    prepare_pooled_login_in_worker(PreparePooledLoginRequest{database_name, auth_user}, context, database_id);
}

PreparePooledLoginReply prepare_pooled_login_here(const PreparePooledLoginRequest& request) {
    in_transaction([&] {
        // Connected by oid: the name must still be this database's (after a rename in
        // between, CONNECT would go to another database).
        auto rows = pg::query("SELECT pg_catalog.current_database() = $1", {pg::text_param(request.database_name)});
        if (rows.empty() || rows[0][0] != "t")
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: database \"" + request.database_name + "\" was renamed while its pooled login was prepared",
                 {}, "Call again.");
        require_pooler_auth_role(request.auth_user);
        pg::run_top_level(lookup_function(request.auth_user));
        pg::run_top_level("GRANT CONNECT ON DATABASE " + quoted_identifier(request.database_name) + " TO " +
                          quoted_identifier(request.auth_user));
    });
    return PreparePooledLoginReply{};
}

}  // namespace claudable
