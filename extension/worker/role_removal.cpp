#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/role_removal.hpp"

#include <vector>

#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"
#include "rules/sql_text.hpp"
#include "worker/provisioning_worker.hpp"

namespace claudable {
namespace {

// Databases other than this one where the role owns objects or holds privileges.
std::vector<unsigned int> databases_with_dependencies_of(const std::string& username) {
    auto rows = pg::query(
        "SELECT DISTINCT s.dbid FROM pg_catalog.pg_shdepend AS s JOIN pg_catalog.pg_roles AS r ON r.oid = s.refobjid"
        " WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND r.rolname = $1"
        "   AND s.dbid <> 0"
        "   AND s.dbid <> (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = pg_catalog.current_database())",
        {pg::text_param(username)});
    std::vector<unsigned int> databases;
    for (const auto& row : rows) databases.push_back(static_cast<unsigned int>(pg::as_int64(row[0])));
    return databases;
}

}  // namespace

void drop_owned_everywhere(const std::string& username, const CallerContext& context) {
    in_transaction([&] { pg::run_top_level("DROP OWNED BY " + quoted_identifier(username) + " CASCADE"); });
    std::vector<unsigned int> elsewhere;
    in_transaction([&] { elsewhere = databases_with_dependencies_of(username); });
    for (unsigned int database_id : elsewhere) {
        pg::check_for_interrupts();  // a tenant sets in how many databases it granted something
        drop_owned_in_worker(DropOwnedRequest{username}, context, database_id);
    }
}

}  // namespace claudable
