#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "store/project_store.hpp"

#include "pg/catalog_lookup.hpp"
#include "rules/failure.hpp"
#include "pg/server.hpp"
#include "pg/spi_query.hpp"

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
    r.key_fingerprint = row[9].value_or("");
    r.read_only = row[10] == "t";
    r.parent_project_id = row[11].value_or("");
    r.expires_at = pg::as_int64(row[12]);
    const CatalogPresence present = catalog_presence(r.username, r.database_name);
    r.role_exists = present.role;
    r.database_exists = present.database;
    return r;
}

#define PROJECT_COLUMNS                                                                                \
    "SELECT p.project_id, p.owner_id, p.database_name, p.username, p.password_sealed,"                \
    "       p.host, p.port, p.status, p.created_at, p.key_fingerprint, p.read_only_since IS NOT NULL," \
    "       p.parent_project_id, p.expires_at"                                                         \
    "  FROM claudable.projects AS p"                                                                   \
    " WHERE p.project_id = $1"

Ownership ownership_from(const std::vector<pg::Row>& rows, const std::string& marker) {
    if (rows.empty()) return Ownership::absent;
    return rows[0][0] && *rows[0][0] == marker ? Ownership::ours : Ownership::foreign;
}

}  // namespace

std::optional<ProjectRecord> find_project(const std::string& project_id) {
    auto rows = pg::query(PROJECT_COLUMNS, {pg::text_param(project_id)});
    if (rows.empty()) return std::nullopt;
    return record_from(rows[0]);
}

std::optional<ProjectRecord> lock_project(const std::string& project_id) {
    auto rows = pg::query(PROJECT_COLUMNS " FOR UPDATE OF p", {pg::text_param(project_id)});
    if (rows.empty()) return std::nullopt;
    return record_from(rows[0]);
}

void lock_provisioning(LockStrength strength) {
    if (strength == LockStrength::exclusive)
        pg::query("SELECT 1 FROM claudable.provisioning_lock FOR UPDATE");
    else
        pg::query("SELECT 1 FROM claudable.provisioning_lock FOR SHARE");
}

void claim_project(const std::string& project_id) {
    pg::query("UPDATE claudable.projects SET worker_pid = pg_catalog.pg_backend_pid() WHERE project_id = $1",
              {pg::text_param(project_id)});
}

ProjectCounts count_projects(const std::string& owner_id) {
    auto rows = pg::query(
        "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE p.owner_id = $1) FROM claudable.projects AS p",
        {pg::text_param(owner_id)});
    return ProjectCounts{pg::as_int64(rows.at(0)[0]), pg::as_int64(rows.at(0)[1])};
}

bool looked_up_as_absent_after(const std::string& project_id, long long since_us) {
    return !pg::query("SELECT 1 FROM claudable.absent_lookups AS l WHERE l.project_id = $1 AND l.looked_up_at > $2",
                      {pg::text_param(project_id), pg::int8_param(since_us)})
                .empty();
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
        "                                host, port, status, key_fingerprint, worker_pid, parent_project_id, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'provisioning', $8, pg_catalog.pg_backend_pid(), NULLIF($9, ''),"
        "         CASE WHEN $10 <> 0 THEN '2000-01-01 00:00:00+00'::timestamptz + $10 * interval '1 microsecond' END)",
        {pg::text_param(r.project_id), pg::text_param(r.owner_id), pg::text_param(r.database_name),
         pg::text_param(r.username), pg::bytea_param(r.sealed_password), pg::text_param(r.host),
         pg::int4_param(r.port), pg::text_param(r.key_fingerprint), pg::text_param(r.parent_project_id),
         pg::int8_param(r.expires_at)});
}

std::int64_t count_branches(const std::string& parent_project_id) {
    auto rows = pg::query("SELECT pg_catalog.count(*) FROM claudable.projects AS p WHERE p.parent_project_id = $1",
                          {pg::text_param(parent_project_id)});
    return pg::as_int64(rows.at(0)[0]);
}

// A provisioning worker other than this one, busy now (an idle one waits for its next call).
#define BUSY_OTHER_WORKER                                                                     \
    "SELECT 1 FROM pg_catalog.pg_stat_activity AS a"                                          \
    " WHERE a.backend_type = 'claudable provisioner' AND a.state <> 'idle'"                   \
    "   AND a.pid <> pg_catalog.pg_backend_pid()"

bool versions_under_way(const std::string& project_id) {
    return !pg::query(BUSY_OTHER_WORKER
                      "   AND a.pid IN (SELECT p.worker_pid FROM claudable.projects AS p"
                      "                  WHERE p.parent_project_id = $1 AND p.status <> 'ready'"
                      "                 UNION ALL"
                      "                 SELECT s.worker_pid FROM claudable.snapshots AS s"
                      "                  WHERE s.project_id = $1 AND s.state <> 'ready')",
                      {pg::text_param(project_id)})
                .empty();
}

bool another_worker_on(const std::string& project_id) {
    return !pg::query(BUSY_OTHER_WORKER
                      "   AND a.pid = (SELECT p.worker_pid FROM claudable.projects AS p WHERE p.project_id = $1)",
                      {pg::text_param(project_id)})
                .empty();
}

std::vector<std::string> branches_of(const std::string& parent_project_id) {
    std::vector<std::string> branches;
    for (const auto& row : pg::query("SELECT p.project_id FROM claudable.projects AS p WHERE p.parent_project_id = $1",
                                     {pg::text_param(parent_project_id)}))
        branches.push_back(row[0].value_or(""));
    return branches;
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

void replace_sealed_password(const std::string& project_id, const std::string& sealed_password,
                             const std::string& key_fingerprint) {
    pg::query(
        "UPDATE claudable.projects SET password_sealed = $2, key_fingerprint = $3, updated_at = pg_catalog.now()"
        " WHERE project_id = $1",
        {pg::text_param(project_id), pg::bytea_param(sealed_password), pg::text_param(key_fingerprint)});
}

void record_event(const AuditEvent& e) {
    pg::query(
        "INSERT INTO claudable.events (at, action, project_id, owner_id, database_name, actor, outcome, detail)"
        " VALUES (COALESCE(pg_catalog.to_timestamp(NULLIF($8, '')::double precision), pg_catalog.clock_timestamp()),"
        "         $1, $2, $3, $4, $5, $6, $7)",
        {pg::text_param(e.action), pg::text_param(e.project_id), pg::text_param(e.owner_id),
         pg::text_param(e.database_name), pg::text_param(e.actor), pg::text_param(e.outcome),
         pg::text_param(e.detail), pg::text_param(e.at_unix_seconds)});
}

bool record_refusals(const AuditEvent& e, const std::string& last_unix_seconds, long long count) {
    auto merged = pg::query(
        "UPDATE claudable.events AS e SET repeats = e.repeats + $6,"
        "       last_at = GREATEST(COALESCE(e.last_at, e.at), pg_catalog.to_timestamp($5::double precision))"
        " WHERE e.id = (SELECT o.id FROM claudable.events AS o"
        "                WHERE o.action = $1 AND o.project_id = $2 AND o.actor = $3"
        "                  AND o.outcome = 'failed' AND o.detail = $4"
        "                  AND o.at > pg_catalog.to_timestamp($7::double precision) - $8 * interval '1 second'"
        "                ORDER BY o.at DESC LIMIT 1)"
        " RETURNING e.id",
        {pg::text_param(e.action), pg::text_param(e.project_id), pg::text_param(e.actor), pg::text_param(e.detail),
         pg::text_param(last_unix_seconds), pg::int8_param(count), pg::text_param(e.at_unix_seconds),
         pg::int4_param(refusal_window_seconds)});
    if (!merged.empty()) return false;
    pg::query(
        "INSERT INTO claudable.events (at, action, project_id, owner_id, database_name, actor, outcome, detail,"
        "                              repeats, last_at)"
        " VALUES (pg_catalog.to_timestamp($7::double precision), $1, $2, $3, $4, $5, 'failed', $6, $9,"
        "         CASE WHEN $9 > 1 THEN pg_catalog.to_timestamp($8::double precision) END)",
        {pg::text_param(e.action), pg::text_param(e.project_id), pg::text_param(e.owner_id),
         pg::text_param(e.database_name), pg::text_param(e.actor), pg::text_param(e.detail),
         pg::text_param(e.at_unix_seconds), pg::text_param(last_unix_seconds), pg::int8_param(count)});
    return true;
}

void delete_project(const std::string& project_id) {
    pg::query("DELETE FROM claudable.projects WHERE project_id = $1", {pg::text_param(project_id)});
}

int move_projects_host(const std::string& old_host, const std::string& new_host, int new_port) {
    auto rows = pg::query(
        "WITH old AS (SELECT p.project_id, p.port FROM claudable.projects AS p WHERE p.host = $1 FOR UPDATE),"
        " moved AS (UPDATE claudable.projects AS p"
        "              SET host = $2, port = CASE WHEN $3 = 0 THEN p.port ELSE $3 END, updated_at = pg_catalog.now()"
        "             FROM old WHERE p.project_id = old.project_id"
        "         RETURNING p.project_id, p.owner_id, p.database_name, old.port AS old_port, p.port AS new_port),"
        " audited AS (INSERT INTO claudable.events (action, project_id, owner_id, database_name, outcome, detail)"
        "             SELECT 'move_host', m.project_id, m.owner_id, m.database_name, 'succeeded',"
        "                    pg_catalog.format('connection details moved from %s:%s to %s:%s', a.old_host, m.old_port,"
        "                                      a.new_host, m.new_port)"
        "               FROM moved AS m,"  // an IPv6 address is bracketed, as in a URL, so its port stays apart
        "                    LATERAL (SELECT CASE WHEN $1 LIKE '%:%' THEN '[' || $1 || ']' ELSE $1 END AS old_host,"
        "                                    CASE WHEN $2 LIKE '%:%' THEN '[' || $2 || ']' ELSE $2 END AS new_host) AS a"
        "             RETURNING 1)"
        " SELECT pg_catalog.count(*) FROM audited",
        {pg::text_param(old_host), pg::text_param(new_host), pg::int4_param(new_port)});
    return static_cast<int>(pg::as_int64(rows[0][0]));
}

void ensure_installation() {
    pg::query("INSERT INTO claudable.installation (id) VALUES (pg_catalog.gen_random_uuid()) ON CONFLICT DO NOTHING");
}

std::string ownership_marker(const std::string& project_id) {
    auto rows = pg::query("SELECT claudable.ownership_marker($1)", {pg::text_param(project_id)});
    // No installation id yet: nothing can carry the marker, and "" matches no comment.
    return rows.empty() ? std::string() : rows[0][0].value_or("");
}

Ownership role_ownership(const std::string& username, const std::string& marker) {
    return ownership_from(pg::query("SELECT pg_catalog.shobj_description(r.oid, 'pg_authid')"
                                    "  FROM pg_catalog.pg_roles AS r WHERE r.rolname = $1",
                                    {pg::text_param(username)}),
                          marker);
}

Ownership database_ownership(const std::string& database_name, const std::string& username,
                             const std::string& marker) {
    auto rows = pg::query(
        "SELECT r.rolname::text = $2 AND pg_catalog.shobj_description(r.oid, 'pg_authid') = $3"
        "  FROM pg_catalog.pg_database AS d LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = d.datdba"
        " WHERE d.datname = $1",
        {pg::text_param(database_name), pg::text_param(username), pg::text_param(marker)});
    if (rows.empty()) return Ownership::absent;
    return rows[0][0] == "t" ? Ownership::ours : Ownership::foreign;
}

}  // namespace claudable
