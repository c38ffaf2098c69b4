// The SQL-callable functions of the library. Each validates its input in the caller's
// backend, answers lookups there, and hands anything that changes roles or databases
// to a background worker (provisioning_worker.hpp).
//
//  claudable_provision(project_id, owner_id)        create, or look up, a project
//  claudable_deprovision(project_id, owner_id)      drop its database and role
//  claudable_rotate_password(project_id, owner_id)  give it a new password
//  claudable.repair_project(project_id)             run every step again (claudable_reconcile)
//  claudable.limits()                               the limits in force, for SQL functions
#include <optional>

#include "connection_url.hpp"
#include "fault_injection.hpp"
#include "pg_boundary.hpp"
#include "project_names.hpp"
#include "provisioning_worker.hpp"
#include "secret_box.hpp"
#include "settings.hpp"
#include "spi_query.hpp"

extern "C" {
PGDLLEXPORT Datum claudable_provision(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_deprovision(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_rotate_password(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_repair_project(PG_FUNCTION_ARGS);
PGDLLEXPORT Datum claudable_limits(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(claudable_provision);
PG_FUNCTION_INFO_V1(claudable_deprovision);
PG_FUNCTION_INFO_V1(claudable_rotate_password);
PG_FUNCTION_INFO_V1(claudable_repair_project);
PG_FUNCTION_INFO_V1(claudable_limits);
}

namespace claudable {
namespace {

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

std::string session_user_name() {
    const char* name = pg::call([]() noexcept { return GetUserNameFromId(GetSessionUserId(), false); });
    return name;
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
    request.actor = session_user_name();
    request.connection_limit = values.connection_limit;
    request.role_settings = values.role_settings;
    return request;
}

// A refusal raised in this backend would vanish with the caller's transaction, so the
// event is written by a worker of its own; if none can start, the LOG line remains.
[[noreturn]] void refuse_and_audit_other_owner(const ProjectArguments& args, const settings::Values& values, const char* action) {
    pg::log("claudable: refused " + std::string(action) + " of project \"" + args.project_id + "\" for owner \"" +
            args.owner_id + "\": registered to another owner");
    ProvisionRequest audit = request_for(args.project_id, args.owner_id, values, WorkerJob::audit);
    audit.audit_action = action;
    audit.audit_detail = "42501: owner_id does not match the registered owner";
    try {
        run_in_worker(audit, values);
    } catch (const Failure& failure) {
        pg::log("claudable: could not record the refusal: " + failure.report().message);
    }
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
    if (run_in_worker(inspect, values, template_oid).found)
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
    const SecretKey& key = key_for(values.key_file);
    std::string password = open_sealed(key, reply.record.sealed_password, project_id);
    std::string url = database_url(ConnectionTarget{reply.record.username, password, reply.record.host,
                                                    reply.record.port, reply.record.database_name,
                                                    values.sslmode});
    Datum result = result_tuple(fcinfo, reply.record, password, url, reply.created);
    wipe(password);
    wipe(url);
    return result;
}

Datum provision(FunctionCallInfo fcinfo) {
    const ProjectArguments args = project_arguments(fcinfo);
    const settings::Values values = settings::current();

    ProvisionReply reply;
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (existing && existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, values, "provision");
    if (existing && existing->status == "ready") {
        reply.record = std::move(*existing);  // the warm path: no worker, no DDL
    } else {
        validate_template(values);
        reply = run_in_worker(request_for(args.project_id, args.owner_id, values, WorkerJob::provision), values);
    }
    return project_row(fcinfo, reply, args.project_id, values);
}

Datum deprovision(FunctionCallInfo fcinfo) {
    const ProjectArguments args = project_arguments(fcinfo);
    const settings::Values values = settings::current();
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) return BoolGetDatum(false);  // nothing provisioned: no worker
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, values, "deprovision");
    ProvisionReply reply =
        run_in_worker(request_for(args.project_id, args.owner_id, values, WorkerJob::deprovision), values);
    return BoolGetDatum(reply.found);
}

Datum rotate_password(FunctionCallInfo fcinfo) {
    const ProjectArguments args = project_arguments(fcinfo);
    const settings::Values values = settings::current();
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) fail("P0002", "claudable: project \"" + args.project_id + "\" is not provisioned");
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, values, "rotate");
    ProvisionReply reply =
        run_in_worker(request_for(args.project_id, args.owner_id, values, WorkerJob::rotate), values);
    return project_row(fcinfo, reply, args.project_id, values);
}

Datum repair_project(FunctionCallInfo fcinfo) {
    const std::optional<std::string> project_id = text_argument(fcinfo, 0);
    validate_identifier("project_id", project_id ? &*project_id : nullptr);
    std::optional<ProjectRecord> existing = find_project(*project_id);
    if (!existing) fail("P0002", "claudable: project \"" + *project_id + "\" is not recorded");
    const settings::Values values = settings::current();
    const WorkerJob job = existing->status == "deprovisioning" ? WorkerJob::deprovision : WorkerJob::repair;
    if (job == WorkerJob::repair) validate_template(values);
    ProvisionReply reply = run_in_worker(request_for(*project_id, existing->owner_id, values, job), values);
    return BoolGetDatum(reply.created);
}

Datum limits(FunctionCallInfo fcinfo) {
    const settings::Values values = settings::current();
    const int connection_limit = values.connection_limit;
    const char* role_settings = values.role_settings.c_str();
    const long long max_database_size = values.max_database_size;
    return pg::call([fcinfo, connection_limit, role_settings, max_database_size]() noexcept {
        TupleDesc descriptor;
        if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("claudable.limits() returns a row")));
        descriptor = BlessTupleDesc(descriptor);
        Datum values[3] = {Int32GetDatum(connection_limit), CStringGetTextDatum(role_settings),
                           Int64GetDatum(max_database_size)};
        bool nulls[3] = {};
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
