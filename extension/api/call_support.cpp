#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "api/call_support.hpp"

#include "crypto/secret_box.hpp"
#include "pg/background_worker.hpp"
#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "rules/connection_url.hpp"
#include "rules/project_names.hpp"
#include "store/key_store.hpp"
#include "testing/fault_injection.hpp"
#include "worker/refusal_queue.hpp"

namespace claudable {

ProjectArguments project_arguments(const pg::Arguments& arguments) {
    const std::optional<std::string> project_id = arguments.string(0);
    const std::optional<std::string> owner_id = arguments.string(1);
    validate_project_id(project_id ? &*project_id : nullptr);
    validate_identifier("owner_id", owner_id ? &*owner_id : nullptr);
    return ProjectArguments{*project_id, *owner_id};
}

CallerContext caller_context(const settings::Values& values) {
    CallerContext context;
    context.actor = pg::session_user_name();
    context.fault_point = armed_fault_point();
    context.key_file = values.key_file;
    context.worker_start_timeout_ms = values.worker_start_timeout_ms;
    context.worker_timeout_ms = values.worker_timeout_ms;
    context.requested_at_us = pg::now_us();
    return context;
}

ProvisionRequest provision_request(const std::string& project_id, const std::string& owner_id,
                                   const settings::Values& values, ProvisionMode mode) {
    ProvisionRequest request{project_id, owner_id, mode, {}};
    ProjectSettings& s = request.settings;
    s.template_name = values.template_name;
    s.host = values.host;
    s.port = values.port;
    s.connection_limit = values.connection_limit;
    s.role_settings = values.role_settings;
    s.max_projects = values.max_projects;
    s.max_projects_per_owner = values.max_projects_per_owner;
    s.spare_databases = values.spare_databases;
    s.pooler_auth_user = values.pooler_auth_user;
    return request;
}

CopySettings copy_settings(const settings::Values& values) {
    return CopySettings{values.file_copy_threshold, values.max_snapshots_per_project, values.file_copy_method};
}

// The library works on the SQL objects of its own version only: a server whose package
// was upgraded but whose extension was not gets told what to run, not a confusing error.
void require_current_schema() {
    static bool checked = false;
    if (checked) return;
    auto rows = pg::query("SELECT e.extversion FROM pg_catalog.pg_extension AS e WHERE e.extname = 'claudable'");
    const std::string installed = rows.empty() ? "(none)" : rows[0][0].value_or("");
    if (installed != library_version)
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: the library is version " + std::string(library_version) +
                 " but the extension's SQL objects in this database are version " + installed,
             {}, "Run ALTER EXTENSION claudable UPDATE in this database.");
    checked = true;
}

// A refusal raised in this backend would vanish with the caller's transaction, so its
// event goes through the refusal queue (worker/refusal_queue.hpp), not one worker per call.
// Its LOG line is written by the drainer, once per event: a flood of refusals from any
// number of sessions stays a line a minute.
[[noreturn]] void refuse_and_audit_other_owner(const ProjectArguments& args, const char* action) {
    queue_refusal(Refusal{action, args.project_id, args.owner_id, pg::session_user_name()});
    refuse_other_owner(args.project_id);
}

// The row of claudable_provision and claudable_rotate_password: decrypts the password
// and builds the URL only for the moment the row is formed.
pg::ResultRow project_row(const ProjectReply& reply, const std::string& project_id, const settings::Values& values) {
    const SecretKey& key = key_with_fingerprint(reply.record.key_fingerprint, values.key_file);
    std::string password = open_sealed(key, reply.record.sealed_password, project_id);
    ConnectionTarget target{reply.record.username, password, reply.record.host, reply.record.port,
                            reply.record.database_name, values.sslmode};
    std::string url = database_url(target);
    // Through the pooler the database keeps its name: `claudable pgbouncer-config` writes
    // one [databases] entry per project under that name.
    pg::ResultCell pooled_url;
    if (!values.pooler_host.empty()) {
        target.host = values.pooler_host;
        target.port = values.pooler_port;
        pooled_url = database_url(target);
    }
    wipe(target.password);
    const ProjectRecord& r = reply.record;
    pg::ResultRow row{{r.project_id, r.owner_id, r.database_name, r.username, std::move(password), r.host, r.port,
                       std::move(url), reply.created, pg::Timestamp{r.created_at}, std::move(pooled_url)},
                      true};
    return row;
}

// The record, its key loaded. A key rotation that commits between reading the row and
// loading its key (READ COMMITTED) is met by reading the row once more.
std::optional<ProjectRecord> find_project_with_key(const std::string& project_id, const settings::Values& values) {
    std::optional<ProjectRecord> record = find_project(project_id);
    if (!record || record->status != "ready") return record;
    try {
        key_with_fingerprint(record->key_fingerprint, values.key_file);
    } catch (const Failure& failure) {
        if (failure.from_postgres()) throw;  // a cancel, an SPI error: never swallowed
        std::optional<ProjectRecord> again = find_project(project_id);
        if (!again || again->key_fingerprint == record->key_fingerprint) throw;
        return again;
    }
    return record;
}

}  // namespace claudable
