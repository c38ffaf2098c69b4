#include "project_store.hpp"

#include "failure.hpp"
#include "pg_boundary.hpp"
#include "spi_query.hpp"

namespace claudable {
namespace {

ProjectRecord record_from(const pg::Row& row) {
    ProjectRecord r;
    r.project_id = row[0].value_or("");
    r.owner_id = row[1].value_or("");
    r.database_name = row[2].value_or("");
    r.username = row[3].value_or("");
    r.sealed_password = row[4].value_or("");
    r.host = row[5].value_or("");
    r.port = static_cast<int>(pg::as_int64(row[6]));
    r.status = row[7].value_or("");
    r.created_at = pg::as_int64(row[8]);
    return r;
}

Ownership ownership_from(const std::vector<pg::Row>& rows, const std::string& marker) {
    if (rows.empty()) return Ownership::absent;
    return rows[0][0] && *rows[0][0] == marker ? Ownership::ours : Ownership::foreign;
}

}  // namespace

std::optional<ProjectRecord> find_project(const std::string& project_id) {
    auto rows = pg::query(
        "SELECT p.project_id, p.owner_id, p.database_name, p.username, p.password_sealed,"
        "       p.host, p.port, p.status, p.created_at"
        "  FROM claudable.projects AS p WHERE p.project_id = $1",
        {pg::text_param(project_id)});
    if (rows.empty()) return std::nullopt;
    return record_from(rows[0]);
}

void refuse_other_owner(const std::string& project_id) {
    fail(sqlstate::insufficient_privilege, "permission denied for project \"" + project_id + "\"",
         "The project is registered to a different owner_id.");
}

std::optional<std::string> project_holding_names(const std::string& project_id, const ProjectNames& names) {
    auto rows = pg::query(
        "SELECT p.project_id FROM claudable.projects AS p"
        " WHERE (p.database_name = $1 OR p.username = $2) AND p.project_id <> $3 LIMIT 1",
        {pg::text_param(names.database_name), pg::text_param(names.username), pg::text_param(project_id)});
    if (rows.empty()) return std::nullopt;
    return rows[0][0];
}

void insert_reservation(const ProjectRecord& r) {
    pg::query(
        "INSERT INTO claudable.projects (project_id, owner_id, database_name, username, password_sealed,"
        "                                host, port, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'provisioning')",
        {pg::text_param(r.project_id), pg::text_param(r.owner_id), pg::text_param(r.database_name),
         pg::text_param(r.username), pg::bytea_param(r.sealed_password), pg::text_param(r.host),
         pg::int4_param(r.port)});
}

void mark_ready(const std::string& project_id) {
    pg::query(
        "UPDATE claudable.projects SET status = 'ready', updated_at = pg_catalog.now()"
        " WHERE project_id = $1",
        {pg::text_param(project_id)});
}

void mark_deprovisioning(const std::string& project_id) {
    pg::query(
        "UPDATE claudable.projects SET status = 'deprovisioning', updated_at = pg_catalog.now()"
        " WHERE project_id = $1",
        {pg::text_param(project_id)});
}

void replace_sealed_password(const std::string& project_id, const std::string& sealed_password) {
    pg::query(
        "UPDATE claudable.projects SET password_sealed = $2, updated_at = pg_catalog.now()"
        " WHERE project_id = $1",
        {pg::text_param(project_id), pg::bytea_param(sealed_password)});
}

void record_event(const AuditEvent& e) {
    auto exists = pg::query("SELECT pg_catalog.to_regclass('claudable.events') IS NOT NULL");
    if (exists.at(0)[0] != "t") return;
    pg::query(
        "INSERT INTO claudable.events (action, project_id, owner_id, database_name, actor, outcome, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {pg::text_param(e.action), pg::text_param(e.project_id), pg::text_param(e.owner_id),
         pg::text_param(e.database_name), pg::text_param(e.actor), pg::text_param(e.outcome),
         pg::text_param(e.detail)});
}

void delete_project(const std::string& project_id) {
    pg::query("DELETE FROM claudable.projects WHERE project_id = $1", {pg::text_param(project_id)});
}

std::string ownership_marker(const std::string& project_id) {
    pg::query("INSERT INTO claudable.installation (id) VALUES (pg_catalog.gen_random_uuid()) ON CONFLICT DO NOTHING");
    auto rows = pg::query("SELECT i.id::text FROM claudable.installation AS i");
    return "managed by claudable: project " + project_id + ", installation " + rows.at(0)[0].value_or("");
}

Ownership role_ownership(const std::string& username, const std::string& marker) {
    return ownership_from(pg::query("SELECT pg_catalog.shobj_description(r.oid, 'pg_authid')"
                                    "  FROM pg_catalog.pg_roles AS r WHERE r.rolname = $1",
                                    {pg::text_param(username)}),
                          marker);
}

Ownership database_ownership(const std::string& database_name, const std::string& marker) {
    return ownership_from(pg::query("SELECT pg_catalog.shobj_description(d.oid, 'pg_database')"
                                    "  FROM pg_catalog.pg_database AS d WHERE d.datname = $1",
                                    {pg::text_param(database_name)}),
                          marker);
}

}  // namespace claudable
