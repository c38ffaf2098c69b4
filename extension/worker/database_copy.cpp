#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/database_copy.hpp"

#include <vector>

#include "pg/background_worker.hpp"
#include "pg/file_cloning.hpp"
#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "rules/failure.hpp"
#include "rules/sql_text.hpp"
#include "worker/project_steps.hpp"
#include "worker/tenant_rows.hpp"

namespace claudable {

namespace {

// Tells each session of the database, and of the role anywhere, to end; returns their PIDs.
std::vector<int> terminate_sessions(const std::string& database_name, const std::string& username) {
    pg::query("SELECT pg_catalog.pg_stat_clear_snapshot()");  // this transaction's view of the sessions
    auto rows = pg::query(
        "SELECT a.pid, pg_catalog.pg_terminate_backend(a.pid) FROM pg_catalog.pg_stat_activity AS a"
        " WHERE (a.datname = $1 OR a.usename = $2) AND a.pid <> pg_catalog.pg_backend_pid()",
        {pg::text_param(database_name), pg::text_param(username)});
    std::vector<int> pids;
    for (const auto& row : rows) pids.push_back(static_cast<int>(pg::as_int64(row[0])));
    return pids;
}

}  // namespace

void end_sessions(const std::string& database_name, const std::string& username, pg::DatabaseLock mode,
                  const std::string& what, int worker_timeout_ms) {
    // The sessions first: a tenant's open transaction may hold a lock on its database
    // (COMMENT ON DATABASE, ALTER DATABASE) that the lock below would wait for.
    std::vector<int> pids = terminate_sessions(database_name, username);
    change_tenant_rows(what, username, worker_timeout_ms, [&] { pg::lock_database(database_name, mode); });
    for (int pid : terminate_sessions(database_name, username)) pids.push_back(pid);
    // Polled every millisecond, not at pg_terminate_backend's 100 ms: a restore's swap
    // waits here, and the app's database is unavailable for as long.
    const long long deadline = pg::now_ms() + session_end_wait_ms;
    for (;;) {
        std::size_t alive = 0;
        for (int pid : pids) alive += pg::backend_alive(pid) ? 1 : 0;
        if (alive == 0) return;
        if (pg::now_ms() >= deadline)
            fail("55006",
                 "claudable: " + what + " stopped: " + std::to_string(alive) + " session(s) of database \"" +
                     database_name + "\" did not end within " + std::to_string(session_end_wait_ms / 1000) + " s",
                 "They were told to end (pg_terminate_backend) and are still running; nothing was changed.",
                 "Call again; if it keeps failing, look for them in pg_stat_activity.");
        pg::pause_ms(1);
    }
}

std::string CopyPlan::describe() const { return file_method.empty() ? strategy : strategy + ", " + file_method; }

CopyPlan plan_copy(const std::string& source_database, const CopySettings& copy) {
    auto rows = pg::query("SELECT pg_catalog.pg_database_size($1::text) >= $2",
                          {pg::text_param(source_database), pg::int8_param(copy.file_copy_threshold)});
    if (rows.at(0)[0] != "t") return CopyPlan{"WAL_LOG", ""};
    if (!pg::server_has_file_copy_method()) return CopyPlan{"FILE_COPY", ""};
    if (copy.file_copy_method == "copy" || copy.file_copy_method == "clone") return CopyPlan{"FILE_COPY", copy.file_copy_method};
    return CopyPlan{"FILE_COPY", pg::data_directory_shares_blocks() ? "clone" : "copy"};
}

void copy_database(const std::string& source, const std::string& target, const std::string& owner,
                   const CopyPlan& plan, bool allow_connections, const std::string& comment,
                   const std::string& extra_options) {
    const std::string database = quoted_identifier(target);
    if (!plan.file_method.empty()) pg::use_file_copy_method(plan.file_method);
    pg::run_top_level("CREATE DATABASE " + database + (owner.empty() ? "" : " OWNER " + quoted_identifier(owner)) +
                      " TEMPLATE " + quoted_identifier(source) + " STRATEGY " + plan.strategy +
                      " ALLOW_CONNECTIONS " + (allow_connections ? "true" : "false") + " IS_TEMPLATE false" +
                      extra_options);
    pg::run_top_level("REVOKE CONNECT, TEMPORARY ON DATABASE " + database + " FROM PUBLIC");
    pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quoted_literal(comment));
}

void close_database(const std::string& database_name, const std::string& comment) {
    const std::string database = quoted_identifier(database_name);
    pg::run_top_level("ALTER DATABASE " + database + " OWNER TO CURRENT_USER");
    pg::run_top_level("ALTER DATABASE " + database + " WITH ALLOW_CONNECTIONS false IS_TEMPLATE false");
    revoke_database_grants(database_name);
    pg::run_top_level("REVOKE ALL ON DATABASE " + database + " FROM PUBLIC");  // CREATE too, not only CONNECT
    pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quoted_literal(comment));
}

}  // namespace claudable
