#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "store/spare_store.hpp"

#include "pg/spi_query.hpp"
#include "rules/failure.hpp"

// Whether spare p is ready for pooled logins through role $2 (worker/pooled_login.hpp):
// its database grants the role CONNECT, which the refill granted with the lookup; or no
// lookup role is set ($2 = '').
#define HAS_POOLED_LOOKUP                                                                        \
    "($2 = '' OR EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d, pg_catalog.pg_roles AS r" \
    "                     WHERE d.datname = p.name AND r.rolname = $2"                          \
    "                       AND pg_catalog.has_database_privilege(r.oid, d.oid, 'CONNECT')))"

namespace claudable {

std::vector<SpareRow> spare_rows(const std::string& template_name, const std::string& pooler_auth_user) {
    std::vector<SpareRow> spares;
    for (const auto& row : pg::query("SELECT p.name, p.state, p.fits, p.intact, " HAS_POOLED_LOOKUP
                                     "  FROM claudable.spare_pool($1) AS p ORDER BY p.name",
                                     {pg::text_param(template_name), pg::text_param(pooler_auth_user)}))
        spares.push_back(
            SpareRow{row[0].value_or(""), row[1].value_or(""), row[2] == "t", row[3] == "t", row[4] == "t"});
    return spares;
}

std::optional<ClaimableSpare> lock_claimable_spare(const std::string& template_name,
                                                   const std::string& pooler_auth_user) {
    // The state is tested on the locked row itself, so a spare a refill began to retire
    // after this snapshot is passed over.
    auto rows = pg::query(
        "SELECT s.name, s.password_sealed, s.key_fingerprint"
        "  FROM claudable.spare_pool($1) AS p JOIN claudable.spares AS s ON s.name = p.name"
        " WHERE s.state = 'ready' AND p.fits AND p.intact AND " HAS_POOLED_LOOKUP
        " ORDER BY s.created_at, s.name LIMIT 1 FOR UPDATE OF s SKIP LOCKED",
        {pg::text_param(template_name), pg::text_param(pooler_auth_user)});
    if (rows.empty()) return std::nullopt;
    return ClaimableSpare{rows[0][0].value_or(""), rows[0][1].value_or(""), rows[0][2].value_or("")};
}

bool claimable_spare_exists(const std::string& template_name, const std::string& pooler_auth_user) {
    return !pg::query("SELECT 1 FROM claudable.spare_pool($1) AS p"
                      " WHERE p.state = 'ready' AND p.fits AND p.intact AND " HAS_POOLED_LOOKUP " LIMIT 1",
                      {pg::text_param(template_name), pg::text_param(pooler_auth_user)})
                .empty();
}

std::string spare_seal_context(const std::string& name) {
    return "spare:" + name;
}

void record_spare_password(const std::string& name, const std::string& password_sealed,
                           const std::string& key_fingerprint) {
    pg::query("UPDATE claudable.spares SET password_sealed = $2, key_fingerprint = $3 WHERE name = $1",
              {pg::text_param(name), pg::bytea_param(password_sealed), pg::text_param(key_fingerprint)});
}

bool lock_spare(const std::string& name) {
    return !pg::query("SELECT 1 FROM claudable.spares AS s WHERE s.name = $1 FOR UPDATE SKIP LOCKED",
                      {pg::text_param(name)})
                .empty();
}

std::string next_spare_name() {
    for (;;) {
        auto rows = pg::query(
            "SELECT n.name, EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = n.name)"
            "           OR EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datname = n.name)"
            "  FROM (SELECT 'claudable_spare_' || pg_catalog.nextval('claudable.spare_numbers') AS name) AS n");
        if (rows.at(0)[1] == "f") return rows[0][0].value_or("");
    }
}

void record_new_spare(const std::string& name, const std::string& template_name) {
    auto rows = pg::query(
        "INSERT INTO claudable.spares (name, template_name, template_oid, state)"
        " SELECT $1, d.datname::text, d.oid, 'creating' FROM pg_catalog.pg_database AS d WHERE d.datname = $2"
        " RETURNING 1",
        {pg::text_param(name), pg::text_param(template_name)});
    if (rows.empty())
        fail("3D000", "claudable: template database \"" + template_name + "\" does not exist", {},
             "Set claudable.template to an existing template database.");
}

void set_spare_state(const std::string& name, const char* state) {
    pg::query("UPDATE claudable.spares SET state = $2 WHERE name = $1", {pg::text_param(name), pg::text_param(state)});
}

void delete_spare(const std::string& name) {
    pg::query("DELETE FROM claudable.spares WHERE name = $1", {pg::text_param(name)});
}

void record_unlisted_spares() {
    pg::query(
        "INSERT INTO claudable.spares (name, template_name, template_oid, state)"
        " SELECT DISTINCT o.name, '', 0, 'retiring'"
        "   FROM (SELECT r.rolname::text AS name FROM pg_catalog.pg_roles AS r"
        "          WHERE pg_catalog.shobj_description(r.oid, 'pg_authid') = claudable.spare_marker()"
        "         UNION ALL"
        "         SELECT d.datname::text FROM pg_catalog.pg_database AS d"
        "          WHERE pg_catalog.shobj_description(d.oid, 'pg_database') = claudable.spare_marker()) AS o"
        "  WHERE o.name ~ '^claudable_spare_[0-9]+$'"
        "    AND NOT EXISTS (SELECT 1 FROM claudable.spares AS s WHERE s.name = o.name)");
}

std::string spare_marker() {
    auto rows = pg::query("SELECT claudable.spare_marker()");
    return rows.empty() ? std::string() : rows[0][0].value_or("");
}

}  // namespace claudable
