// The SQL entry points that provision:
//  * claudable_provision(project_id text, owner_id text): a provisioned project is a
//    lookup in this backend; anything else is handed to a background worker, because
//    CREATE DATABASE cannot run inside the caller's transaction.
//  * claudable.repair_project(project_id text): runs every step again for a recorded
//    project, for claudable_reconcile().
#include <optional>

#include "connection_url.hpp"
#include "fault_injection.hpp"
#include "pg_boundary.hpp"
#include "project_names.hpp"
#include "provisioning_worker.hpp"
#include "secret_box.hpp"
#include "settings.hpp"

extern "C" {
PGDLLEXPORT Datum claudable_provision(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(claudable_provision);
PGDLLEXPORT Datum claudable_repair_project(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(claudable_repair_project);
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

struct ProvisionRow {
    const ProjectRecord* record;
    const std::string* password;
    const std::string* url;
    bool created;
};

Datum result_tuple(FunctionCallInfo fcinfo, const ProvisionRow& row) {
    const ProjectRecord& r = *row.record;
    const char* text_columns[] = {r.project_id.c_str(), r.owner_id.c_str(), r.database_name.c_str(),
                                  r.username.c_str(),   row.password->c_str(), r.host.c_str()};
    const char* url = row.url->c_str();
    const int port = r.port;
    const bool created = row.created;
    const TimestampTz created_at = r.created_at;
    return pg::call([&, fcinfo]() noexcept {
        TupleDesc descriptor;
        if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("claudable_provision must be called in a context that accepts a row")));
        descriptor = BlessTupleDesc(descriptor);
        Datum values[10];
        bool nulls[10] = {};
        for (int i = 0; i < 6; ++i) values[i] = CStringGetTextDatum(text_columns[i]);
        values[6] = Int32GetDatum(port);
        values[7] = CStringGetTextDatum(url);
        values[8] = BoolGetDatum(created);
        values[9] = TimestampTzGetDatum(created_at);
        return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    });
}

ProvisionRequest request_for(const std::string& project_id, const std::string& owner_id,
                             const settings::Values& values, bool repair) {
    return ProvisionRequest{project_id,  owner_id,    values.template_name, values.key_file,
                            values.host, values.port, repair,               armed_fault_point()};
}

Datum provision(FunctionCallInfo fcinfo) {
    const std::optional<std::string> project_id = text_argument(fcinfo, 0);
    const std::optional<std::string> owner_id = text_argument(fcinfo, 1);
    validate_identifier("project_id", project_id ? &*project_id : nullptr);
    validate_identifier("owner_id", owner_id ? &*owner_id : nullptr);
    const settings::Values values = settings::current();

    ProvisionReply reply;
    std::optional<ProjectRecord> existing = find_project(*project_id);
    if (existing && existing->owner_id != *owner_id)
        fail(sqlstate::insufficient_privilege, "permission denied for project \"" + *project_id + "\"",
             "The project is registered to a different owner_id.");
    if (existing && existing->status == "ready") {
        reply.record = std::move(*existing);  // the warm path: no worker, no DDL
    } else {
        reply = provision_in_worker(request_for(*project_id, *owner_id, values, false), values);
    }

    SecretKey key;
    load_or_create_key(values.key_file, key);
    std::string password = open_sealed(key, reply.record.sealed_password, *project_id);
    std::string url = database_url(ConnectionTarget{reply.record.username, password, reply.record.host,
                                                    reply.record.port, reply.record.database_name,
                                                    values.sslmode});
    Datum result = result_tuple(fcinfo, ProvisionRow{&reply.record, &password, &url, reply.created});
    wipe(password);
    wipe(url);
    return result;
}

Datum repair_project(FunctionCallInfo fcinfo) {
    const std::optional<std::string> project_id = text_argument(fcinfo, 0);
    validate_identifier("project_id", project_id ? &*project_id : nullptr);
    std::optional<ProjectRecord> existing = find_project(*project_id);
    if (!existing)
        fail("P0002", "claudable: project \"" + *project_id + "\" is not recorded");
    const settings::Values values = settings::current();
    ProvisionReply reply = provision_in_worker(request_for(*project_id, existing->owner_id, values, true), values);
    return BoolGetDatum(reply.created);
}

}  // namespace
}  // namespace claudable

extern "C" Datum claudable_provision(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::provision);
}

extern "C" Datum claudable_repair_project(PG_FUNCTION_ARGS) {
    return claudable::pg::enter_function(fcinfo, claudable::repair_project);
}
