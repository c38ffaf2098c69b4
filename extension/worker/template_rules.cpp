#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/template_rules.hpp"

#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"
#include "rules/failure.hpp"
#include "worker/provisioning_worker.hpp"

namespace claudable {

void validate_template(const std::string& template_name, const CallerContext& context) {
    std::vector<pg::Row> rows;
    auto look = [&] {
        rows = pg::query(
            "SELECT d.oid, d.datallowconn,"
            "       d.datallowconn AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a"
            "                WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')"
            "  FROM pg_catalog.pg_database AS d WHERE d.datname = $1",
            {pg::text_param(template_name)});
    };
    if (pg::transaction_active())
        look();
    else
        in_transaction(look);  // a worker between its transactions
    if (rows.empty()) return;
    const std::string quoted = "\"" + template_name + "\"";
    if (rows[0][2] == "t")
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: template database " + quoted + " can be connected to by PUBLIC", {},
             "Run REVOKE CONNECT ON DATABASE " + quoted + " FROM PUBLIC, or set claudable.template to a "
             "template nobody else can connect to.");
    // template0 is pristine unless someone allowed connections to it.
    if (template_name == "template0" && rows[0][1] != "t") return;
    const auto template_oid = static_cast<unsigned int>(pg::as_int64(rows[0][0]));
    if (inspect_template_in_worker(InspectTemplateRequest{template_name}, context, template_oid).has_claudable)
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: template database " + quoted + " contains the claudable extension", {},
             "A project database must never carry the provisioning function: use a template without it.");
}

}  // namespace claudable
