#include "provisioner.hpp"

#include "fault_injection.hpp"
#include "password.hpp"
#include "pg_boundary.hpp"
#include "secret_box.hpp"
#include "settings.hpp"
#include "spi_query.hpp"
#include "sql_text.hpp"
#include "worker_transaction.hpp"

namespace claudable {
namespace {

[[noreturn]] void refuse_foreign(const char* kind, const std::string& name) {
    fail(sqlstate::duplicate_object,
         std::string(kind) + " \"" + name + "\" already exists and is not managed by claudable",
         {},
         std::string("claudable never adopts, alters or drops objects it did not create. Drop or rename the "
                     "existing ") + kind + ", or use another project_id.");
}

void refuse_foreign_objects(const ProjectNames& names, const std::string& marker) {
    if (role_ownership(names.username, marker) == Ownership::foreign) refuse_foreign("role", names.username);
    if (database_ownership(names.database_name, marker) == Ownership::foreign)
        refuse_foreign("database", names.database_name);
}

const char* const login_role_attributes =
    " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT";

std::string connection_limit_clause(const ProvisionRequest& request) {
    return " CONNECTION LIMIT " + std::to_string(request.connection_limit);
}

void apply_role_settings(const std::string& role, const ProvisionRequest& request, bool reset_first) {
    if (reset_first) pg::run_top_level("ALTER ROLE " + role + " RESET ALL");
    for (const auto& [name, value] : settings::parse_role_settings(request.role_settings))
        pg::run_top_level("ALTER ROLE " + role + " SET " + quote_identifier(name) + " = " + quote_literal(value));
}

void ensure_role(const ProjectNames& names, const std::string& verifier, const std::string& marker,
                 const ProvisionRequest& request) {
    const std::string role = quote_identifier(names.username);
    const std::string attributes =
        login_role_attributes + connection_limit_clause(request) + " PASSWORD " + quote_literal(verifier);
    switch (role_ownership(names.username, marker)) {
        case Ownership::foreign:
            refuse_foreign("role", names.username);
        case Ownership::ours:  // left by an interrupted call, or a repair: bring it in line with the record
            pg::run_top_level("ALTER ROLE " + role + attributes);
            apply_role_settings(role, request, true);
            return;
        case Ownership::absent:
            pg::run_top_level("CREATE ROLE " + role + attributes);
            pg::run_top_level("COMMENT ON ROLE " + role + " IS " + quote_literal(marker));
            apply_role_settings(role, request, false);
            return;
    }
}

void ensure_database(const ProjectNames& names, const std::string& marker, const ProvisionRequest& request) {
    const std::string database = quote_identifier(names.database_name);
    switch (database_ownership(names.database_name, marker)) {
        case Ownership::foreign:
            refuse_foreign("database", names.database_name);
        case Ownership::absent:
            pg::run_top_level("CREATE DATABASE " + database + " OWNER " + quote_identifier(names.username) +
                              " TEMPLATE " + quote_identifier(request.template_name) +
                              connection_limit_clause(request));
            pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quote_literal(marker));
            break;
        case Ownership::ours:
            pg::run_top_level("ALTER DATABASE " + database + " WITH" + connection_limit_clause(request));
            break;
    }
    pg::run_top_level("REVOKE CONNECT, TEMPORARY ON DATABASE " + database + " FROM PUBLIC");
}

// After a failed step: a role without its database is removed with the record, so a
// new project is either complete or absent. A database that exists stays for a retry,
// and a project that was already ready (a repair) keeps its record.
void undo_partial_project(const ProvisionRequest& request, const ProjectNames& names, const std::string& marker) {
    in_transaction([&] {
        auto record = find_project(request.project_id);
        if (!record || record->status != "provisioning") return;
        if (database_ownership(names.database_name, marker) != Ownership::absent) return;
        if (role_ownership(names.username, marker) == Ownership::ours)
            pg::run_top_level("DROP ROLE " + quote_identifier(names.username));
        delete_project(request.project_id);
    });
}

// The project's lock for the worker's whole life, then the global one for its DDL;
// always in this order (see provisioner.hpp).
void take_locks(const std::string& project_id) {
    in_transaction([&] {
        pg::query("SELECT pg_catalog.pg_advisory_lock($1, pg_catalog.hashtext($2))",
                  {pg::int4_param(project_lock_class), pg::text_param(project_id)});
    });
    in_transaction([] {
        pg::query("SELECT pg_catalog.pg_advisory_lock($1, 1)", {pg::int4_param(global_lock_class)});
    });
}

// The global lock covers only the reservation, where different projects can meet (the
// unique names, the installation row). Every later step touches only the project's own
// catalog rows (its role, its database, their comments, settings and ACLs), so the DDL
// of different projects runs in parallel, each under its project's lock.
void release_global_lock() {
    in_transaction([] {
        pg::query("SELECT pg_catalog.pg_advisory_unlock($1, 1)", {pg::int4_param(global_lock_class)});
    });
}

std::string describe(const ProvisionRequest& request) {
    return "project \"" + request.project_id + "\" for owner \"" + request.owner_id + "\"";
}

AuditEvent event_for(const ProvisionRequest& request, const char* action, const char* outcome, std::string detail) {
    return AuditEvent{action, request.project_id, request.owner_id, names_for(request.project_id).database_name,
                      request.actor, outcome, std::move(detail)};
}

const char* action_name(WorkerJob job) {
    switch (job) {
        case WorkerJob::provision: return "provision";
        case WorkerJob::repair: return "reconcile";
        case WorkerJob::deprovision: return "deprovision";
        case WorkerJob::rotate: return "rotate";
        default: return "other";
    }
}

ProvisionReply provision_project(const ProvisionRequest& request) {
    const ProjectNames names = names_for(request.project_id);
    const SecretKey& key = key_for(request.key_file);

    report_activity("claudable: waiting for the provisioning locks");
    take_locks(request.project_id);
    report_activity("claudable: provisioning " + describe(request));

    std::string marker;
    std::optional<ProjectRecord> record;
    in_transaction([&] {
        marker = ownership_marker(request.project_id);
        record = find_project(request.project_id);
        if (record) {
            if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
            if (record->status == "deprovisioning")
                fail(sqlstate::object_not_in_prerequisite_state,
                     "claudable: project \"" + request.project_id + "\" is being deprovisioned", {},
                     "Call claudable_deprovision again to finish removing it, then provision it anew.");
            return;  // ready (another call finished it) or provisioning (resume)
        }
        if (project_holding_names(request.project_id, names))
            fail(sqlstate::duplicate_object,
                 "project_id \"" + request.project_id + "\" maps to database \"" + names.database_name +
                     "\" and role \"" + names.username + "\", which another project already uses",
                 {},
                 "Project ids that differ only in letter case or in '-' versus '_' get the same names; "
                 "choose another project_id.");
        refuse_foreign_objects(names, marker);
        std::string password = generate_password();
        ProjectRecord reservation{request.project_id, request.owner_id, names.database_name, names.username,
                                  seal(key, password, request.project_id), request.host, request.port,
                                  "provisioning", 0};
        wipe(password);
        insert_reservation(reservation);
        record = find_project(request.project_id);
    });
    release_global_lock();
    const bool was_ready = record->status == "ready";
    if (was_ready && request.job != WorkerJob::repair) return ProvisionReply{*record, false};
    reach_fault_point(request.fault_point, "after_reservation");

    try {
        in_transaction([&] {
            // The SCRAM builder needs a resource owner, which only a transaction provides.
            std::string password = open_sealed(key, record->sealed_password, request.project_id);
            const std::string verifier = scram_verifier(names.username, password);
            wipe(password);
            ensure_role(names, verifier, marker, request);
        });
        reach_fault_point(request.fault_point, "after_role");
        in_transaction([&] { ensure_database(names, marker, request); });
        reach_fault_point(request.fault_point, "after_database");
        in_transaction([&] {
            mark_ready(request.project_id);
            reach_fault_point(request.fault_point, "before_ready");  // the update is not committed yet
            record = find_project(request.project_id);
            record_event(event_for(request, action_name(request.job), "succeeded",
                                   was_ready ? "role and database brought in line with the record"
                                             : "role and database created"));
        });
    } catch (const Failure& failure) {
        pg::log("claudable: provisioning " + describe(request) + " failed: " + failure.report().message);
        try {
            undo_partial_project(request, names, marker);
        } catch (const Failure& cleanup) {
            pg::log("claudable: cleaning up " + describe(request) + " failed: " + cleanup.report().message);
        }
        throw;
    }
    pg::log(std::string(was_ready ? "claudable: repaired " : "claudable: provisioned ") + describe(request) +
            ": database \"" + names.database_name + "\", role \"" + names.username + "\"");
    return ProvisionReply{*record, !was_ready};
}

ProvisionReply deprovision_project(const ProvisionRequest& request) {
    const ProjectNames names = names_for(request.project_id);
    report_activity("claudable: waiting for the provisioning locks");
    take_locks(request.project_id);
    report_activity("claudable: deprovisioning " + describe(request));

    std::string marker;
    std::optional<ProjectRecord> record;
    in_transaction([&] {
        marker = ownership_marker(request.project_id);
        record = find_project(request.project_id);
        if (!record) return;
        if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
        mark_deprovisioning(request.project_id);  // from here on a retry finishes the removal
    });
    if (!record) return ProvisionReply{{}, false, false};
    reach_fault_point(request.fault_point, "deprovision_marked");
    release_global_lock();

    in_transaction([&] {
        if (database_ownership(names.database_name, marker) == Ownership::ours)
            pg::run_top_level("DROP DATABASE " + quote_identifier(names.database_name) + " WITH (FORCE)");
    });
    in_transaction([&] {
        if (role_ownership(names.username, marker) == Ownership::ours)
            pg::run_top_level("DROP ROLE " + quote_identifier(names.username));
        delete_project(request.project_id);
        record_event(event_for(request, "deprovision", "succeeded", "database and role dropped"));
    });
    pg::log("claudable: deprovisioned " + describe(request) + ": database \"" + names.database_name +
            "\", role \"" + names.username + "\"");
    return ProvisionReply{*record, false, true};
}

ProvisionReply rotate_password(const ProvisionRequest& request) {
    const ProjectNames names = names_for(request.project_id);
    const SecretKey& key = key_for(request.key_file);
    take_locks(request.project_id);
    report_activity("claudable: rotating the password of " + describe(request));

    std::optional<ProjectRecord> record;
    in_transaction([&] {
        const std::string marker = ownership_marker(request.project_id);
        record = find_project(request.project_id);
        if (!record) fail("P0002", "claudable: project \"" + request.project_id + "\" is not provisioned");
        if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
        if (record->status != "ready" || role_ownership(names.username, marker) != Ownership::ours)
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: project \"" + request.project_id + "\" is not ready", {},
                 "Call claudable_provision (or claudable_reconcile) first.");
        std::string password = generate_password();
        const std::string verifier = scram_verifier(names.username, password);
        const std::string sealed = seal(key, password, request.project_id);
        wipe(password);
        // Role and record change in one transaction: no caller ever sees one without the other.
        pg::run_top_level("ALTER ROLE " + quote_identifier(names.username) + " PASSWORD " + quote_literal(verifier));
        replace_sealed_password(request.project_id, sealed);
        record = find_project(request.project_id);
        record_event(event_for(request, "rotate", "succeeded", "password replaced"));
    });
    pg::log("claudable: rotated the password of " + describe(request));
    return ProvisionReply{*record, false};
}

ProvisionReply inspect_template() {
    auto rows = pg::query("SELECT 1 FROM pg_catalog.pg_extension AS e WHERE e.extname = 'claudable'");
    return ProvisionReply{{}, false, !rows.empty()};
}

void record_failure(const ProvisionRequest& request, const Failure& failure) {
    try {
        in_transaction([&] {
            record_event(event_for(request, action_name(request.job), "failed",
                                   failure.sqlstate() + ": " + failure.report().message));
        });
    } catch (const Failure& also) {
        pg::log("claudable: could not record a failed " + std::string(action_name(request.job)) + ": " +
                also.report().message);
    }
}

}  // namespace

ProvisionReply run_worker_job(const ProvisionRequest& request) {
    switch (request.job) {
        case WorkerJob::inspect_template:
            return in_transaction_result(inspect_template);
        case WorkerJob::audit:
            in_transaction([&] {
                record_event(event_for(request, request.audit_action.c_str(), "failed", request.audit_detail));
            });
            return ProvisionReply{};
        default:
            break;
    }
    try {
        switch (request.job) {
            case WorkerJob::deprovision: return deprovision_project(request);
            case WorkerJob::rotate: return rotate_password(request);
            default: return provision_project(request);
        }
    } catch (const Failure& failure) {
        record_failure(request, failure);
        throw;
    }
}

}  // namespace claudable
