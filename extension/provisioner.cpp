#include "provisioner.hpp"

#include "fault_injection.hpp"
#include "password.hpp"
#include "pg_boundary.hpp"
#include "secret_box.hpp"
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
    " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ";

void ensure_role(const ProjectNames& names, const std::string& verifier, const std::string& marker) {
    const std::string role = quote_identifier(names.username);
    switch (role_ownership(names.username, marker)) {
        case Ownership::foreign:
            refuse_foreign("role", names.username);
        case Ownership::ours:  // left by an interrupted call: bring it in line with the record
            pg::run_top_level("ALTER ROLE " + role + login_role_attributes + quote_literal(verifier));
            return;
        case Ownership::absent:
            pg::run_top_level("CREATE ROLE " + role + login_role_attributes + quote_literal(verifier));
            pg::run_top_level("COMMENT ON ROLE " + role + " IS " + quote_literal(marker));
            return;
    }
}

void ensure_database(const ProjectNames& names, const std::string& template_name, const std::string& marker) {
    const std::string database = quote_identifier(names.database_name);
    switch (database_ownership(names.database_name, marker)) {
        case Ownership::foreign:
            refuse_foreign("database", names.database_name);
        case Ownership::absent:
            pg::run_top_level("CREATE DATABASE " + database + " OWNER " + quote_identifier(names.username) +
                              " TEMPLATE " + quote_identifier(template_name));
            pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quote_literal(marker));
            break;
        case Ownership::ours:
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

void take_locks(const std::string& project_id) {
    in_transaction([&] {
        pg::query("SELECT pg_catalog.pg_advisory_lock($1, pg_catalog.hashtext($2))",
                  {pg::int4_param(project_lock_class), pg::text_param(project_id)});
    });
    in_transaction([] {
        pg::query("SELECT pg_catalog.pg_advisory_lock($1, 1)", {pg::int4_param(global_lock_class)});
    });
}

std::string describe(const ProvisionRequest& request) {
    return "project \"" + request.project_id + "\" for owner \"" + request.owner_id + "\"";
}

}  // namespace

ProvisionReply provision_project(const ProvisionRequest& request) {
    const ProjectNames names = names_for(request.project_id);
    SecretKey key;
    load_or_create_key(request.key_file, key);

    report_activity("claudable: waiting for the provisioning locks");
    take_locks(request.project_id);
    report_activity("claudable: provisioning " + describe(request));

    std::string marker;
    std::optional<ProjectRecord> record;
    in_transaction([&] {
        marker = ownership_marker(request.project_id);
        record = find_project(request.project_id);
        if (record) {
            if (record->owner_id != request.owner_id)
                fail(sqlstate::insufficient_privilege,
                     "permission denied for project \"" + request.project_id + "\"",
                     "The project is registered to a different owner_id.");
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
    const bool was_ready = record->status == "ready";
    if (was_ready && !request.repair) return ProvisionReply{*record, false};
    reach_fault_point(request.fault_point, "after_reservation");

    try {
        in_transaction([&] {
            // The SCRAM builder needs a resource owner, which only a transaction provides.
            std::string password = open_sealed(key, record->sealed_password, request.project_id);
            const std::string verifier = scram_verifier(names.username, password);
            wipe(password);
            ensure_role(names, verifier, marker);
        });
        reach_fault_point(request.fault_point, "after_role");
        in_transaction([&] { ensure_database(names, request.template_name, marker); });
        reach_fault_point(request.fault_point, "after_database");
        in_transaction([&] {
            mark_ready(request.project_id);
            reach_fault_point(request.fault_point, "before_ready");  // the update is not committed yet
            record = find_project(request.project_id);
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

}  // namespace claudable
