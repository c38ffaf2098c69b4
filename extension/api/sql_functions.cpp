// The SQL-callable functions of the library. Each validates its input in the caller's
// backend, answers lookups there, and hands anything that changes roles or databases
// to a background worker (worker/provisioning_worker.hpp).
//
//  claudable_provision(project_id, owner_id)        create, or look up, a project
//  claudable_deprovision(project_id, owner_id)      drop its database and role
//  claudable_rotate_password(project_id, owner_id)  give it a new password
//  claudable_rotate_key()                           re-seal every password under a new key
//  claudable_export_key(path) / _import_key(path)   move the key by hand (superuser)
//  claudable.repair_project(project_id)             run every step again (claudable_reconcile)
//  claudable.credential_findings()                  what claudable_check() needs the key for
//  claudable.adopt_key_of_0_2_0()                   the 0.2.0 -> 0.3.0 upgrade's key migration
//  claudable.limits()                               the limits in force, for SQL functions
#include <optional>

#include "rules/connection_url.hpp"
#include "testing/fault_injection.hpp"
#include "store/key_store.hpp"
#include "pg/boundary.hpp"
#include "rules/project_names.hpp"
#include "worker/provisioning_worker.hpp"
#include "worker/refusal_queue.hpp"
#include "crypto/secret_box.hpp"
#include "pg/settings.hpp"
#include "pg/spi_query.hpp"

extern "C" {
PGDLLEXPORT Datum claudable_provision(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_deprovision(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_rotate_password(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_repair_project(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_limits(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_rotate_key(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_export_key(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_import_key(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_adopt_key_of_0_2_0(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_credential_findings(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(claudable_provision);
PG_FUNCTION_INFO_V1(claudable_deprovision);
PG_FUNCTION_INFO_V1(claudable_rotate_password);
PG_FUNCTION_INFO_V1(claudable_repair_project);
PG_FUNCTION_INFO_V1(claudable_limits);
PG_FUNCTION_INFO_V1(claudable_rotate_key);
PG_FUNCTION_INFO_V1(claudable_export_key);
PG_FUNCTION_INFO_V1(claudable_import_key);
PG_FUNCTION_INFO_V1(claudable_adopt_key_of_0_2_0);
PG_FUNCTION_INFO_V1(claudable_credential_findings);
}

namespace claudable {
namespace {

constexpr const char* library_version = "0.3.0";

std::optional<std::string> text_argument(FunctionCallInfo fcinfo, int index) {
    char* value = pg::call([fcinfo, index]() noexcept {
        return PG_ARGISNULL(index) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(index));
    });
    if (value == nullptr) return std::nullopt;
    std::string copy(value);
    pg::call([value]() noexcept { pfree(value); });
    return copy;
}

struct ProjectArguments {
    std::string project_id;
    std::string owner_id;
};

ProjectArguments project_arguments(FunctionCallInfo fcinfo) {
    const std::optional<std::string> project_id = text_argument(fcinfo, 0);
    const std::optional<std::string> owner_id = text_argument(fcinfo, 1);
    validate_identifier("project_id", project_id ? &*project_id : nullptr);
    validate_identifier("owner_id", owner_id ? &*owner_id : nullptr);
    return ProjectArguments{*project_id, *owner_id};
}

ProvisionRequest request_for(const std::string& project_id, const std::string& owner_id,
                             const settings::Values& values, WorkerJob job) {
    ProvisionRequest request;
    request.project_id = project_id;
    request.owner_id = owner_id;
    request.template_name = values.template_name;
    request.key_file = values.key_file;
    request.host = values.host;
    request.port = values.port;
    request.job = job;
    request.fault_point = armed_fault_point();
    request.actor = pg::session_user_name();
    request.connection_limit = values.connection_limit;
    request.role_settings = values.role_settings;
    request.max_projects = values.max_projects;
    request.max_projects_per_owner = values.max_projects_per_owner;
    request.worker_start_timeout_ms = values.worker_start_timeout_ms;
    request.worker_timeout_ms = values.worker_timeout_ms;
    return request;
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

void require_superuser(const char* function) {
    if (!pg::is_superuser())
        fail(sqlstate::insufficient_privilege,
             std::string("claudable: only a superuser may call ") + function + ": it reads and writes server files");
}

std::string required_text_argument(FunctionCallInfo fcinfo, const char* name) {
    const std::optional<std::string> value = text_argument(fcinfo, 0);
    if (!value || value->empty())
        fail(sqlstate::invalid_parameter_value, std::string("claudable: ") + name + " must not be empty");
    return *value;
}

Datum text_datum(const std::string& text) {
    const char* value = text.c_str();
    return pg::call([value]() noexcept { return CStringGetTextDatum(value); });
}

// A refusal raised in this backend would vanish with the caller's transaction, so its
// event goes through the refusal queue (worker/refusal_queue.hpp), not one worker per call.
[[noreturn]] void refuse_and_audit_other_owner(const ProjectArguments& args, const char* action) {
    pg::log("claudable: refused " + std::string(action) + " of project \"" + args.project_id + "\" for owner \"" +
            args.owner_id + "\": registered to another owner");
    queue_refusal(Refusal{action, args.project_id, args.owner_id, pg::session_user_name()});
    refuse_other_owner(args.project_id);
}

// A project database must never carry the provisioning function, and nobody but its
// owner may connect to it; both would follow from a careless template.
void validate_template(const settings::Values& values) {
    auto rows = pg::query(
        "SELECT d.oid, d.datallowconn,"
        "       d.datallowconn AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a"
        "                WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')"
        "  FROM pg_catalog.pg_database AS d WHERE d.datname = $1",
        {pg::text_param(values.template_name)});
    if (rows.empty()) return;  // CREATE DATABASE reports a missing template with its own SQLSTATE
    const std::string quoted = "\"" + values.template_name + "\"";
    if (rows[0][2] == "t")
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: template database " + quoted + " can be connected to by PUBLIC", {},
             "Run REVOKE CONNECT ON DATABASE " + quoted + " FROM PUBLIC, or set claudable.template to a "
             "template nobody else can connect to.");
    // template0 is pristine unless someone allowed connections to it.
    if (values.template_name == "template0" && rows[0][1] != "t") return;
    ProvisionRequest inspect = request_for("template", "claudable", values, WorkerJob::inspect_template);
    const auto template_oid = static_cast<unsigned int>(pg::as_int64(rows[0][0]));
    if (run_in_worker(inspect, template_oid).found)
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: template database " + quoted + " contains the claudable extension", {},
             "A project database must never carry the provisioning function: use a template without it.");
}

Datum result_tuple(FunctionCallInfo fcinfo, const ProjectRecord& r, const std::string& password,
                   const std::string& url, bool created) {
    const char* text_columns[] = {r.project_id.c_str(), r.owner_id.c_str(), r.database_name.c_str(),
                                  r.username.c_str(),   password.c_str(),   r.host.c_str()};
    const char* url_text = url.c_str();
    const int port = r.port;
    const TimestampTz created_at = r.created_at;
    return pg::call([&, fcinfo]() noexcept {
        TupleDesc descriptor;
        if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("claudable: this function must be called in a context that accepts a row")));
        descriptor = BlessTupleDesc(descriptor);
        Datum values[10];
        bool nulls[10] = {};
        for (int i = 0; i < 6; ++i) values[i] = CStringGetTextDatum(text_columns[i]);
        values[6] = Int32GetDatum(port);
        values[7] = CStringGetTextDatum(url_text);
        values[8] = BoolGetDatum(created);
        values[9] = TimestampTzGetDatum(created_at);
        return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    });
}

// The row of claudable_provision and claudable_rotate_password: decrypts the password
// and builds the URL only for the moment the row is formed.
Datum project_row(FunctionCallInfo fcinfo, const ProvisionReply& reply, const std::string& project_id,
                  const settings::Values& values) {
    const SecretKey& key = key_with_fingerprint(reply.record.key_fingerprint, values.key_file);
    std::string password = open_sealed(key, reply.record.sealed_password, project_id);
    std::string url = database_url(ConnectionTarget{reply.record.username, password, reply.record.host,
                                                    reply.record.port, reply.record.database_name,
                                                    values.sslmode});
    Datum result = result_tuple(fcinfo, reply.record, password, url, reply.created);
    wipe(password);
    wipe(url);
    return result;
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

Datum provision(FunctionCallInfo fcinfo) {
    const ProjectArguments args = project_arguments(fcinfo);
    require_current_schema();
    const settings::Values values = settings::current();

    ProvisionReply reply;
    std::optional<ProjectRecord> existing = find_project_with_key(args.project_id, values);
    if (existing && existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "provision");
    if (existing && existing->status == "ready" && existing->role_exists && existing->database_exists) {
        reply.record = std::move(*existing);  // the warm path: no worker, no DDL
    } else {
        // A ready project whose role or database is gone is healed, never returned as a dead URL.
        const bool heal = existing && existing->status == "ready";
        validate_template(values);
        reply = run_in_worker(request_for(args.project_id, args.owner_id, values,
                                          heal ? WorkerJob::heal : WorkerJob::provision));
    }
    return project_row(fcinfo, reply, args.project_id, values);
}

Datum deprovision(FunctionCallInfo fcinfo) {
    const ProjectArguments args = project_arguments(fcinfo);
    require_current_schema();
    const settings::Values values = settings::current();
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) return BoolGetDatum(false);  // nothing provisioned: no worker
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "deprovision");
    ProvisionReply reply =
        run_in_worker(request_for(args.project_id, args.owner_id, values, WorkerJob::deprovision));
    return BoolGetDatum(reply.found);
}

Datum rotate_password(FunctionCallInfo fcinfo) {
    const ProjectArguments args = project_arguments(fcinfo);
    require_current_schema();
    const settings::Values values = settings::current();
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) fail("P0002", "claudable: project \"" + args.project_id + "\" is not provisioned");
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "rotate");
    ProvisionReply reply =
        run_in_worker(request_for(args.project_id, args.owner_id, values, WorkerJob::rotate));
    return project_row(fcinfo, reply, args.project_id, values);
}

Datum repair_project(FunctionCallInfo fcinfo) {
    const std::optional<std::string> project_id = text_argument(fcinfo, 0);
    validate_identifier("project_id", project_id ? &*project_id : nullptr);
    require_current_schema();
    std::optional<ProjectRecord> existing = find_project(*project_id);
    if (!existing) fail("P0002", "claudable: project \"" + *project_id + "\" is not recorded");
    const settings::Values values = settings::current();
    const WorkerJob job = existing->status == "deprovisioning" ? WorkerJob::deprovision : WorkerJob::repair;
    if (job == WorkerJob::repair) validate_template(values);
    ProvisionReply reply = run_in_worker(request_for(*project_id, existing->owner_id, values, job));
    return BoolGetDatum(reply.created);
}

Datum rotate_key_call(FunctionCallInfo fcinfo) {
    require_current_schema();
    const settings::Values values = settings::current();
    ProvisionRequest request = request_for("key", "claudable", values, WorkerJob::rotate_key);
    return text_datum(run_in_worker(request).record.key_fingerprint);
}

Datum export_key_call(FunctionCallInfo fcinfo) {
    require_superuser("claudable_export_key");
    require_current_schema();
    const std::string path = required_text_argument(fcinfo, "path");
    return text_datum(export_active_key(settings::current().key_file, path));
}

Datum import_key_call(FunctionCallInfo fcinfo) {
    require_superuser("claudable_import_key");
    require_current_schema();
    const std::string path = required_text_argument(fcinfo, "path");
    if (!settings::current().key_file.empty())
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: claudable.key_file is set, so the key is read from that file, not from the database",
             {}, "Copy the key file to the path claudable.key_file names instead.");
    const std::string fingerprint = import_key(path);
    pg::log("claudable: imported key " + fingerprint + " into claudable.key_material");
    return text_datum(fingerprint);
}

Datum adopt_key_call(FunctionCallInfo fcinfo) {
    const std::string fingerprint = adopt_key_of_0_2_0(settings::current().key_file, pg::data_directory());
    if (!fingerprint.empty()) pg::log("claudable: adopted the 0.2.0 key file as key " + fingerprint);
    return fingerprint.empty() ? pg::call([fcinfo]() noexcept -> Datum { PG_RETURN_NULL(); })
                               : text_datum(fingerprint);
}

// One row of claudable.credential_findings().
struct CredentialFinding {
    std::string severity, object, problem, project_id;
    bool repairable;
};

std::vector<CredentialFinding> credential_findings(const settings::Values& values) {
    std::vector<CredentialFinding> findings;
    auto active = pg::query("SELECT k.fingerprint FROM claudable.key_ring AS k WHERE k.state = 'active'");
    if (!active.empty()) {
        try {
            verify_key_source(active[0][0].value_or(""), values.key_file);
        } catch (const Failure& failure) {
            if (failure.from_postgres()) throw;
            findings.push_back({"error", "key", failure.report().message + ": " + failure.report().detail, "", false});
            return findings;  // every row would repeat it
        }
    }
    auto rows = pg::query(
        "SELECT p.project_id, p.username, p.password_sealed, p.key_fingerprint, p.status, a.rolpassword"
        "  FROM claudable.projects AS p LEFT JOIN pg_catalog.pg_authid AS a ON a.rolname = p.username"
        " ORDER BY p.project_id");
    for (const auto& row : rows) {
        const std::string project_id = row[0].value_or("");
        std::string password;
        try {
            password = open_sealed(key_with_fingerprint(row[3].value_or(""), values.key_file), row[2].value_or(""),
                                   project_id);
        } catch (const Failure& failure) {
            if (failure.from_postgres()) throw;
            findings.push_back({"error", "project " + project_id,
                                "stored password does not decrypt: " + failure.report().message, project_id, false});
            continue;
        }
        if (row[4] == "ready" && row[5]) {
            const bool matches = pg::scram_matches(*row[1], password, *row[5]);
            if (!matches)
                findings.push_back({"error", "role " + *row[1],
                                    "password was changed outside claudable (claudable_reconcile() puts the stored "
                                    "one back)",
                                    project_id, true});
        }
        wipe(password);
    }
    return findings;
}

Datum credential_findings_rows(FunctionCallInfo fcinfo) {
    const std::vector<CredentialFinding> findings = credential_findings(settings::current());
    pg::call([fcinfo]() noexcept { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& f : findings) {
        const char* text[] = {f.severity.c_str(), f.object.c_str(), f.problem.c_str(), f.project_id.c_str()};
        const bool repairable = f.repairable;
        const bool no_project = f.project_id.empty();
        pg::call([fcinfo, &text, repairable, no_project]() noexcept {
            ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
            Datum values[5];
            bool nulls[5] = {false, false, false, no_project, false};
            for (int i = 0; i < 4; ++i) values[i] = CStringGetTextDatum(text[i]);
            values[4] = BoolGetDatum(repairable);
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return 0;
}

Datum limits(FunctionCallInfo fcinfo) {
    const settings::Values values = settings::current();
    const int connection_limit = values.connection_limit;
    const char* role_settings = values.role_settings.c_str();
    const long long max_database_size = values.max_database_size;
    const int max_projects = values.max_projects, max_projects_per_owner = values.max_projects_per_owner;
    return pg::call([fcinfo, connection_limit, role_settings, max_database_size, max_projects,
                     max_projects_per_owner]() noexcept {
        TupleDesc descriptor;
        if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("claudable.limits() returns a row")));
        descriptor = BlessTupleDesc(descriptor);
        Datum values[5] = {Int32GetDatum(connection_limit), CStringGetTextDatum(role_settings),
                           Int64GetDatum(max_database_size), Int32GetDatum(max_projects),
                           Int32GetDatum(max_projects_per_owner)};
        bool nulls[5] = {};
        return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    });
}

}  // namespace
}  // namespace claudable

extern "C" Datum claudable_provision(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::provision);
}
extern "C" Datum claudable_deprovision(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::deprovision);
}
extern "C" Datum claudable_rotate_password(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::rotate_password);
}
extern "C" Datum claudable_repair_project(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::repair_project);
}
extern "C" Datum claudable_limits(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::limits);
}
extern "C" Datum claudable_rotate_key(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::rotate_key_call);
}
extern "C" Datum claudable_export_key(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::export_key_call);
}
extern "C" Datum claudable_import_key(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::import_key_call);
}
extern "C" Datum claudable_adopt_key_of_0_2_0(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::adopt_key_call);
}
extern "C" Datum claudable_credential_findings(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::credential_findings_rows);
}
