#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "store/snapshot_store.hpp"

#include "pg/server.hpp"
#include "pg/spi_query.hpp"

namespace claudable {
namespace {

#define SNAPSHOT_COLUMNS                                                                                     \
    "SELECT s.snapshot_id, s.project_id, s.label, s.database_name, s.state, s.restored_from,"                \
    "       s.staging_database, s.size_bytes, s.created_at, s.worker_pid"                                     \
    "  FROM claudable.snapshots AS s"

SnapshotRecord snapshot_from(const pg::Row& row) {
    SnapshotRecord r;
    r.snapshot_id = row[0].value_or("");
    r.project_id = row[1].value_or("");
    r.label = row[2].value_or("");
    r.database_name = row[3].value_or("");
    r.state = row[4].value_or("");
    r.restored_from = row[5].value_or("");
    r.staging_database = row[6].value_or("");
    r.size_bytes = pg::as_int64(row[7]);
    r.created_at = pg::as_int64(row[8]);
    r.worker_pid = static_cast<int>(pg::as_int64(row[9]));
    return r;
}

std::vector<SnapshotRecord> snapshots_from(const std::vector<pg::Row>& rows) {
    std::vector<SnapshotRecord> out;
    for (const auto& row : rows) out.push_back(snapshot_from(row));
    return out;
}

std::string marker(const char* function, const std::string& project_id) {
    const std::string sql = std::string("SELECT claudable.") + function + "($1)";
    auto rows = pg::query(sql.c_str(), {pg::text_param(project_id)});
    return rows.empty() ? std::string() : rows[0][0].value_or("");
}

}  // namespace

std::string new_snapshot_id() {
    unsigned char bytes[6];
    pg::strong_random(bytes, sizeof bytes);
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "snap-";
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 0x0f];
    }
    return id;
}

std::optional<SnapshotRecord> find_snapshot(const std::string& project_id, const std::string& snapshot_id) {
    auto rows = pg::query(SNAPSHOT_COLUMNS " WHERE s.project_id = $1 AND s.snapshot_id = $2",
                          {pg::text_param(project_id), pg::text_param(snapshot_id)});
    if (rows.empty()) return std::nullopt;
    return snapshot_from(rows[0]);
}

std::optional<SnapshotRecord> lock_snapshot(const std::string& project_id, const std::string& snapshot_id,
                                            bool shared) {
    const char* sql = shared ? SNAPSHOT_COLUMNS " WHERE s.project_id = $1 AND s.snapshot_id = $2 FOR SHARE"
                             : SNAPSHOT_COLUMNS " WHERE s.project_id = $1 AND s.snapshot_id = $2 FOR UPDATE";
    auto rows = pg::query(sql, {pg::text_param(project_id), pg::text_param(snapshot_id)});
    if (rows.empty()) return std::nullopt;
    return snapshot_from(rows[0]);
}

std::vector<SnapshotRecord> list_snapshots(const std::string& project_id) {
    return snapshots_from(pg::query(SNAPSHOT_COLUMNS " WHERE s.project_id = $1 AND s.state = 'ready'"
                                                     " ORDER BY s.created_at DESC, s.snapshot_id",
                                    {pg::text_param(project_id)}));
}

std::vector<SnapshotRecord> all_snapshots_of(const std::string& project_id) {
    return snapshots_from(pg::query(SNAPSHOT_COLUMNS " WHERE s.project_id = $1 ORDER BY s.created_at",
                                    {pg::text_param(project_id)}));
}

std::vector<SnapshotRecord> unsettled_snapshots() {
    return snapshots_from(pg::query(
        SNAPSHOT_COLUMNS
        " WHERE s.state <> 'ready'"
        "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity AS a"
        "                    WHERE a.pid = s.worker_pid AND a.backend_type = 'claudable provisioner'"
        "                      AND a.state <> 'idle' AND a.pid <> pg_catalog.pg_backend_pid())"
        " ORDER BY s.created_at"));
}

std::vector<SnapshotRecord> lost_snapshots() {
    return snapshots_from(pg::query(
        SNAPSHOT_COLUMNS
        " WHERE s.state = 'ready'"
        "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datname = s.database_name)"));
}

std::vector<SnapshotRecord> opened_snapshots() {
    return snapshots_from(pg::query(
        SNAPSHOT_COLUMNS
        "  JOIN pg_catalog.pg_database AS d ON d.datname = s.database_name"
        " WHERE s.state = 'ready'"
        "   AND (d.datallowconn OR d.datistemplate"
        "        OR d.datdba <> (SELECT x.extowner FROM pg_catalog.pg_extension AS x WHERE x.extname = 'claudable')"
        "        OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl,"
        "                                                      pg_catalog.acldefault('d', d.datdba))) AS a"
        "                    WHERE a.grantee <> d.datdba AND a.privilege_type = 'CONNECT'))"));
}

std::int64_t count_snapshots(const std::string& project_id) {
    auto rows = pg::query("SELECT pg_catalog.count(*) FROM claudable.snapshots AS s WHERE s.project_id = $1",
                          {pg::text_param(project_id)});
    return pg::as_int64(rows.at(0)[0]);
}

void insert_snapshot(const SnapshotRecord& r) {
    pg::query(
        "INSERT INTO claudable.snapshots (snapshot_id, project_id, label, database_name, state, restored_from,"
        "                                 staging_database, worker_pid)"
        " VALUES ($1, $2, NULLIF($3, ''), $4, $5, NULLIF($6, ''), NULLIF($7, ''), pg_catalog.pg_backend_pid())",
        {pg::text_param(r.snapshot_id), pg::text_param(r.project_id), pg::text_param(r.label),
         pg::text_param(r.database_name), pg::text_param(r.state), pg::text_param(r.restored_from),
         pg::text_param(r.staging_database)});
}

void set_snapshot_state(const std::string& snapshot_id, const std::string& state) {
    pg::query("UPDATE claudable.snapshots SET state = $2, worker_pid = pg_catalog.pg_backend_pid()"
              " WHERE snapshot_id = $1",
              {pg::text_param(snapshot_id), pg::text_param(state)});
}

void mark_snapshot_ready(const std::string& snapshot_id) {
    pg::query(
        "UPDATE claudable.snapshots AS s SET state = 'ready', staging_database = NULL,"
        "       size_bytes = pg_catalog.pg_database_size(s.database_name)"
        " WHERE s.snapshot_id = $1",
        {pg::text_param(snapshot_id)});
}

void delete_snapshot(const std::string& snapshot_id) {
    pg::query("DELETE FROM claudable.snapshots WHERE snapshot_id = $1", {pg::text_param(snapshot_id)});
}

std::string snapshot_marker(const std::string& project_id) { return marker("snapshot_marker", project_id); }
std::string staging_marker(const std::string& project_id) { return marker("staging_marker", project_id); }

}  // namespace claudable
