#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/provisioner.hpp"
#include "worker/project_steps.hpp"
#include "worker/branches.hpp"
#include "worker/snapshots.hpp"

#include "testing/fault_injection.hpp"
#include "store/key_store.hpp"
#include "store/spare_store.hpp"
#include "crypto/password.hpp"
#include "crypto/scram.hpp"
#include "pg/server.hpp"
#include "worker/role_removal.hpp"
#include "worker/tenant_rows.hpp"
#include "worker/provisioning_worker.hpp"
#include "worker/spare_pool.hpp"
#include "worker/pooled_login.hpp"
#include "worker/template_rules.hpp"
#include "crypto/secret_box.hpp"
#include "pg/settings.hpp"
#include "pg/spi_query.hpp"
#include "rules/sql_text.hpp"
#include "pg/transaction.hpp"

namespace claudable {

inline constexpr const char* configuration_limit_exceeded = "53400";

[[noreturn]] void refuse_foreign(const char* kind, const std::string& name) {
    fail(sqlstate::duplicate_object,
         std::string(kind) + " \"" + name + "\" already exists and is not managed by claudable",
         {},
         std::string("claudable never adopts, alters or drops objects it did not create. Drop or rename the "
                     "existing ") + kind + ", or use another project_id.");
}

void refuse_foreign_objects(const ProjectNames& names, const std::string& marker) {
    if (role_ownership(names.username, marker) == Ownership::foreign) refuse_foreign("role", names.username);
    if (database_ownership(names.database_name, names.username, marker) == Ownership::foreign)
        refuse_foreign("database", names.database_name);
}

void refuse_over_limits(const std::string& owner_id, const ProjectSettings& settings) {
    if (settings.max_projects < 0 && settings.max_projects_per_owner < 0) return;
    const ProjectCounts counts = count_projects(owner_id);
    if (settings.max_projects >= 0 && counts.total >= settings.max_projects)
        fail(configuration_limit_exceeded,
             "claudable: this server already holds " + std::to_string(counts.total) +
                 " projects, its limit (claudable.max_projects = " + std::to_string(settings.max_projects) + ")",
             {}, "Deprovision unused projects, raise claudable.max_projects, or place the project on another server.");
    if (settings.max_projects_per_owner >= 0 && counts.of_owner >= settings.max_projects_per_owner)
        fail(configuration_limit_exceeded,
             "claudable: owner_id \"" + owner_id + "\" already holds " + std::to_string(counts.of_owner) +
                 " projects, its limit (claudable.max_projects_per_owner = " +
                 std::to_string(settings.max_projects_per_owner) + ")",
             {}, "Deprovision one of this owner's projects, or raise claudable.max_projects_per_owner.");
}

const char* const login_role_attributes =
    " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT";

std::string connection_limit_clause(const ProjectSettings& settings) {
    return " CONNECTION LIMIT " + std::to_string(settings.connection_limit);
}

// Role settings as claudable.role_settings says, and nothing else: what the tenant set
// on itself (ALTER ROLE ... SET, ALTER ROLE ... IN DATABASE ... SET) is reset first.
void apply_role_settings(const std::string& username, const ProjectSettings& settings, bool reset_first) {
    const std::string role = quoted_identifier(username);
    if (reset_first) {
        pg::run_top_level("ALTER ROLE " + role + " RESET ALL");
        auto per_database = pg::query(
            "SELECT d.datname::text FROM pg_catalog.pg_db_role_setting AS s"
            "  JOIN pg_catalog.pg_roles AS r ON r.oid = s.setrole"
            "  JOIN pg_catalog.pg_database AS d ON d.oid = s.setdatabase"
            " WHERE r.rolname = $1",
            {pg::text_param(username)});
        for (const auto& row : per_database) {
            pg::check_for_interrupts();  // a tenant sets how many databases it has settings in
            pg::run_top_level("ALTER ROLE " + role + " IN DATABASE " + quoted_identifier(row[0].value_or("")) +
                              " RESET ALL");
        }
    }
    for (const auto& [name, value] : settings::parse_role_settings(settings.role_settings))
        pg::run_top_level("ALTER ROLE " + role + " SET " + quoted_identifier(name) + " = " + quoted_literal(value));
}

// A project role is a member of no role, and no other project's role is a member of it.
void revoke_role_memberships(const std::string& username) {
    auto grants = pg::query(
        "SELECT g.rolname::text, m.rolname::text"
        "  FROM pg_catalog.pg_auth_members AS a"
        "  JOIN pg_catalog.pg_roles AS g ON g.oid = a.roleid"
        "  JOIN pg_catalog.pg_roles AS m ON m.oid = a.member"
        " WHERE m.rolname = $1"
        "    OR (g.rolname = $1 AND pg_catalog.shobj_description(m.oid, 'pg_authid') ~ claudable.marker_pattern())",
        {pg::text_param(username)});
    for (const auto& row : grants) {
        pg::check_for_interrupts();
        pg::run_top_level("REVOKE " + quoted_identifier(row[0].value_or("")) + " FROM " +
                          quoted_identifier(row[1].value_or("")) + " CASCADE");
    }
}

void ensure_role(const ProjectNames& names, const std::string& verifier, const std::string& marker,
                 const ProjectSettings& settings) {
    const std::string role = quoted_identifier(names.username);
    const std::string attributes =
        login_role_attributes + connection_limit_clause(settings) + " PASSWORD " + quoted_literal(verifier);
    switch (role_ownership(names.username, marker)) {
        case Ownership::foreign:
            refuse_foreign("role", names.username);
        case Ownership::ours:  // left by an interrupted call, or a repair: bring it in line with the record
            pg::run_top_level("ALTER ROLE " + role + attributes);
            revoke_role_memberships(names.username);
            apply_role_settings(names.username, settings, true);
            return;
        case Ownership::absent:
            pg::run_top_level("CREATE ROLE " + role + attributes);
            pg::run_top_level("COMMENT ON ROLE " + role + " IS " + quoted_literal(marker));
            apply_role_settings(names.username, settings, false);
            return;
    }
}

// Nobody but the owner holds a privilege on a project database: not PUBLIC, and not a
// role the tenant granted one to.
void revoke_database_grants(const std::string& database_name) {
    const std::string database = quoted_identifier(database_name);
    auto grantees = pg::query(
        "SELECT DISTINCT r.rolname::text"
        "  FROM pg_catalog.pg_database AS d, pg_catalog.aclexplode(d.datacl) AS a, pg_catalog.pg_roles AS r"
        " WHERE d.datname = $1 AND r.oid = a.grantee AND a.grantee <> d.datdba",
        {pg::text_param(database_name)});
    for (const auto& row : grantees) {
        pg::check_for_interrupts();  // a tenant sets how many roles it granted its database to
        pg::run_top_level("REVOKE ALL ON DATABASE " + database + " FROM " + quoted_identifier(row[0].value_or("")) +
                          " CASCADE");
    }
    pg::run_top_level("REVOKE CONNECT, TEMPORARY ON DATABASE " + database + " FROM PUBLIC");
}

bool is_template(const std::string& database_name) {
    auto rows = pg::query("SELECT d.datistemplate FROM pg_catalog.pg_database AS d WHERE d.datname = $1",
                          {pg::text_param(database_name)});
    return !rows.empty() && rows[0][0] == "t";
}

void ensure_database(const ProjectNames& names, const std::string& marker, const ProjectSettings& settings,
                     bool read_only) {
    const std::string database = quoted_identifier(names.database_name);
    switch (database_ownership(names.database_name, names.username, marker)) {
        case Ownership::foreign:
            refuse_foreign("database", names.database_name);
        case Ownership::absent:
            pg::run_top_level("CREATE DATABASE " + database + " OWNER " + quoted_identifier(names.username) +
                              " TEMPLATE " + quoted_identifier(settings.template_name) +
                              connection_limit_clause(settings));
            pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quoted_literal(marker));
            break;
        case Ownership::ours:
            // A tenant may have closed its own database (ALLOW_CONNECTIONS false): the URL must work.
            pg::run_top_level("ALTER DATABASE " + database + " WITH ALLOW_CONNECTIONS true" +
                              connection_limit_clause(settings));
            if (is_template(names.database_name))
                pg::run_top_level("ALTER DATABASE " + database + " WITH IS_TEMPLATE false");
            pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quoted_literal(marker));
            if (read_only)  // a quota the tenant removed is put back
                pg::run_top_level("ALTER DATABASE " + database + " SET default_transaction_read_only = on");
            break;
    }
    revoke_database_grants(names.database_name);
}

// A spare becomes the project's role and database in the caller's reservation
// transaction: renamed, given LOGIN, the verifier, the limits and the role settings, and
// marked as the project's. One commit makes the project; a crash before it leaves the
// spare as it was. The spare's database was copied from the same template and locked
// down the same way (claudable.spare_pool() checked it in this transaction).
// `verifier` is empty when the spare's role already holds the verifier of the password
// the project gets.
void claim_spare(const std::string& spare, const ProjectNames& names, const std::string& verifier,
                 const std::string& marker, const ProjectSettings& settings, const std::string& fault_point) {
    const std::string role = quoted_identifier(names.username);
    const std::string database = quoted_identifier(names.database_name);
    pg::run_top_level("ALTER ROLE " + quoted_identifier(spare) + " RENAME TO " + role);
    pg::run_top_level("ALTER DATABASE " + quoted_identifier(spare) + " RENAME TO " + database);
    reach_fault_point(fault_point, "claim_renamed");
    pg::run_top_level("ALTER ROLE " + role + login_role_attributes + connection_limit_clause(settings) +
                      (verifier.empty() ? "" : " PASSWORD " + quoted_literal(verifier)));
    pg::run_top_level("COMMENT ON ROLE " + role + " IS " + quoted_literal(marker));
    apply_role_settings(names.username, settings, false);
    pg::run_top_level("ALTER DATABASE " + database + " WITH" + connection_limit_clause(settings));
    pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quoted_literal(marker));
    delete_spare(spare);
}

// After a failed step: a role without its database is removed with the record, so a
// new project is either complete or absent. A database that exists stays for a retry,
// and a project that was already ready (a repair) keeps its record.
void undo_partial_project(const std::string& project_id, const ProjectNames& names, const std::string& marker) {
    in_transaction([&] {
        auto record = lock_project(project_id);
        if (!record || record->status != "provisioning") return;
        if (database_ownership(names.database_name, names.username, marker) != Ownership::absent) return;
        if (role_ownership(names.username, marker) == Ownership::ours)
            pg::run_top_level("DROP ROLE " + quoted_identifier(names.username));
        delete_project(project_id);
    });
}

std::string describe(const std::string& project_id, const std::string& owner_id) {
    return "project \"" + project_id + "\" for owner \"" + owner_id + "\"";
}

// The project a job is about, if any: (project_id, owner_id).
std::pair<std::string, std::string> project_of(const JobRequest& job) {
    if (const auto* r = std::get_if<ProvisionRequest>(&job)) return {r->project_id, r->owner_id};
    if (const auto* r = std::get_if<SnapshotRequest>(&job)) return {r->project_id, r->owner_id};
    if (const auto* r = std::get_if<RestoreRequest>(&job)) return {r->project_id, r->owner_id};
    if (const auto* r = std::get_if<DropSnapshotRequest>(&job)) return {r->project_id, r->owner_id};
    if (const auto* r = std::get_if<BranchRequest>(&job)) return {r->project_id, r->owner_id};
    if (const auto* r = std::get_if<DeprovisionRequest>(&job)) return {r->project_id, r->owner_id};
    if (const auto* r = std::get_if<RotatePasswordRequest>(&job)) return {r->project_id, r->owner_id};
    return {};
}

AuditEvent event_for(const JobRequest& job, const CallerContext& context, const char* action, const char* outcome,
                     std::string detail) {
    const auto [project_id, owner_id] = project_of(job);
    if (project_id.empty())  // about the installation, not a project
        return AuditEvent{action, "", "", "", context.actor, outcome, std::move(detail)};
    return AuditEvent{action, project_id, owner_id, names_for(project_id).database_name, context.actor, outcome,
                      std::move(detail)};
}

// The audit trail's name for a job.
const char* action_name(const JobRequest& job) {
    if (const auto* r = std::get_if<ProvisionRequest>(&job))
        return r->mode == ProvisionMode::repair ? "reconcile"
               : r->mode == ProvisionMode::heal ? "heal"
               : r->branch.parent_project_id.empty() ? "provision" : "branch";
    if (std::holds_alternative<DeprovisionRequest>(job)) return "deprovision";
    if (std::holds_alternative<RotatePasswordRequest>(job)) return "rotate";
    if (std::holds_alternative<RotateKeyRequest>(job)) return "rotate_key";
    if (std::holds_alternative<RefillSparesRequest>(job)) return "refill_spares";
    if (std::holds_alternative<SnapshotRequest>(job)) return "snapshot";
    if (std::holds_alternative<RestoreRequest>(job)) return "restore";
    if (std::holds_alternative<DropSnapshotRequest>(job)) return "drop_snapshot";
    if (std::holds_alternative<BranchRequest>(job)) return "branch";
    return "other";
}

std::string what_was_missing(const ProjectRecord& record) {
    if (!record.role_exists) return "role and database were missing and were re-created; the database is empty";
    if (!record.database_exists) return "database was missing and was re-created empty";
    return "role and database brought in line with the record";
}

void ensure_pooled_login(const std::string& database_name, const std::string& auth_user, const CallerContext& context) {
    bool prepared = false;
    in_transaction([&] { prepared = pooled_login_prepared(database_name, auth_user); });
    if (!prepared) prepare_pooled_login(database_name, auth_user, context);
}

std::string stored_verifier(const ProjectRecord& record, const std::string& key_file) {
    std::string password =
        open_sealed(key_with_fingerprint(record.key_fingerprint, key_file), record.sealed_password, record.project_id);
    const std::string verifier = scram_sha256_verifier(password);
    wipe(password);
    return verifier;
}

std::optional<ProjectRecord> lock_live_project(const std::string& project_id) {
    auto record = lock_project(project_id);
    if (!record || record->status == "deprovisioning")
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: project \"" + project_id + "\" was deprovisioned while it was being provisioned");
    return record;
}

ProjectReply provision_project(const ProvisionRequest& request, const CallerContext& context) {
    const ProjectNames names = names_for(request.project_id);
    // The template is checked before anything is copied from it, outside the lock (the
    // check may start a worker connected to the template). A claim copies nothing: the
    // refill checked the template before it made the spare.
    bool template_checked = false;
    bool spare_in_sight = false;
    if (request.mode == ProvisionMode::create)
        in_transaction([&] {
            spare_in_sight = claimable_spare_exists(request.settings.template_name, request.settings.pooler_auth_user);
        });
    if (!spare_in_sight) {
        validate_template(request.settings.template_name, context);
        template_checked = true;
    }
    reach_fault_point(context.fault_point, "before_reservation");  // a worker that started late
    pg::report_activity("claudable: waiting for the provisioning lock");

    std::string marker;
    std::optional<ProjectRecord> record;
    std::string claimed_spare;
    in_transaction([&] {
        lock_provisioning(LockStrength::exclusive);  // reservations of different projects meet here
        pg::report_activity("claudable: provisioning " + describe(request.project_id, request.owner_id));
        ensure_installation();
        marker = ownership_marker(request.project_id);
        record = lock_project(request.project_id);
        if (record) {
            if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
            if (record->status == "deprovisioning")
                fail(sqlstate::object_not_in_prerequisite_state,
                     "claudable: project \"" + request.project_id + "\" is being deprovisioned", {},
                     "Call claudable_deprovision again to finish removing it, then provision it anew.");
            claim_project(request.project_id);
            return;  // ready (another call finished it, or a repair) or provisioning (resume)
        }
        if (project_holding_names(request.project_id, names))
            fail(sqlstate::duplicate_object,
                 "project_id \"" + request.project_id + "\" maps to database \"" + names.database_name +
                     "\" and role \"" + names.username + "\", which another project already uses",
                 {},
                 "Project ids that differ only in letter case or in '-' versus '_' get the same names; "
                 "choose another project_id.");
        // Its caller is gone and a fleet directory may have placed the project elsewhere.
        if (looked_up_as_absent_after(request.project_id, context.requested_at_us))
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: project \"" + request.project_id + "\" was not created: after this call began, a fleet "
                 "directory was told this server does not hold it",
                 "The call's caller went away (cancelled, timed out or disconnected) while it waited for a worker, "
                 "and the directory may have placed the project on another server.",
                 "Call claudable_provision again through the directory: it provisions the project where it is placed.");
        refuse_foreign_objects(names, marker);
        refuse_over_limits(request.owner_id, request.settings);
        if (!request.branch.parent_project_id.empty()) refuse_unbranchable_parent(request.branch, request.owner_id);
        if (!request.settings.pooler_auth_user.empty()) require_pooler_auth_role(request.settings.pooler_auth_user);
        const ActiveKey key = active_key(context.key_file, true);
        std::optional<ClaimableSpare> spare =
            lock_claimable_spare(request.settings.template_name, request.settings.pooler_auth_user);
        // A spare sealed under the active key brings its password, whose verifier its role
        // holds; otherwise a new password (and, for a spare, its verifier) is made here.
        const bool spare_has_password = spare && !spare->password_sealed.empty() &&
                                        spare->key_fingerprint == key.fingerprint;
        std::string password = spare_has_password
                                   ? open_sealed(*key.key, spare->password_sealed, spare_seal_context(spare->name))
                                   : generate_password();
        ProjectRecord reservation{request.project_id, request.owner_id, names.database_name, names.username,
                                  seal(*key.key, password, request.project_id), request.settings.host, request.settings.port,
                                  "provisioning", 0, key.fingerprint};
        reservation.parent_project_id = request.branch.parent_project_id;
        reservation.expires_at = request.branch.expires_at;
        if (spare) {
            reach_fault_point(context.fault_point, "claim_locked");
            const std::string verifier = spare_has_password ? "" : scram_sha256_verifier(password);
            wipe(password);
            claim_spare(spare->name, names, verifier, marker, request.settings, context.fault_point);
            insert_reservation(reservation);
            mark_ready(request.project_id);
            record = find_project(request.project_id);
            record_event(event_for(request, context, action_name(request), "succeeded",
                                   "role and database claimed from spare " + spare->name));
            reach_fault_point(context.fault_point, "claim_recorded");  // nothing is committed yet
            claimed_spare = spare->name;
            return;
        }
        wipe(password);
        insert_reservation(reservation);
        record = find_project(request.project_id);
    });
    if (!claimed_spare.empty()) {
        pg::log("claudable: provisioned " + describe(request.project_id, request.owner_id) + ": database \"" +
                names.database_name + "\", role \"" + names.username + "\" (claimed spare \"" + claimed_spare + "\")");
        if (request.settings.spare_databases > 0) request_refill();
        return ProjectReply{*record, true};
    }
    const bool was_ready = record->status == "ready";
    const bool complete = record->role_exists && record->database_exists;
    if (was_ready && complete && request.mode != ProvisionMode::repair) {
        // A project made before claudable.pooler_auth_user was set, or whose tenant revoked
        // the lookup role's CONNECT, gets its pooled login on its next call.
        ensure_pooled_login(names.database_name, request.settings.pooler_auth_user, context);
        return ProjectReply{*record, false};
    }
    if (was_ready && request.mode == ProvisionMode::create) return ProjectReply{*record, false};
    const std::string done = was_ready ? what_was_missing(*record) : "role and database created";
    reach_fault_point(context.fault_point, "after_reservation");

    bool finished_by_another = false;
    try {
        // The spare seen before the lock was gone, or an interrupted creation resumes.
        if (!template_checked) validate_template(request.settings.template_name, context);
        const std::string what = std::string(job_verb(request)) + " " + describe(request.project_id, request.owner_id);
        in_transaction([&] {
            // The record's row lock, not claudable.provisioning_lock, keeps a key rotation
            // from resealing the password between reading and using the key: the rotation
            // locks every record. So a tenant that holds its role's row delays no other project.
            record = lock_live_project(request.project_id);
            const std::string verifier = stored_verifier(*record, context.key_file);
            change_tenant_rows(what, names.username, context.worker_timeout_ms,
                               [&] { ensure_role(names, verifier, marker, request.settings); });
        });
        reach_fault_point(context.fault_point, "after_role");
        in_transaction([&] {
            record = lock_live_project(request.project_id);
            change_tenant_rows(what, names.username, context.worker_timeout_ms,
                               [&] { ensure_database(names, marker, request.settings, record->read_only); });
        });
        if (!request.settings.pooler_auth_user.empty())
            prepare_pooled_login(names.database_name, request.settings.pooler_auth_user, context);
        reach_fault_point(context.fault_point, "after_database");
        in_transaction([&] {
            // Callers of one project may all have resumed it; the one that makes it ready created it.
            record = lock_live_project(request.project_id);
            if (!was_ready && record->status == "ready") {
                finished_by_another = true;
                return;
            }
            mark_ready(request.project_id);
            reach_fault_point(context.fault_point, "before_ready");  // the update is not committed yet
            record = find_project(request.project_id);
            record_event(event_for(request, context, action_name(request), "succeeded", done));
        });
    } catch (const Failure& failure) {
        pg::log("claudable: " + describe_job(request) + " failed: " + failure.report().message);
        try {
            undo_partial_project(request.project_id, names, marker);
        } catch (const Failure& cleanup) {
            pg::log("claudable: cleaning up " + describe(request.project_id, request.owner_id) + " failed: " + cleanup.report().message);
        }
        throw;
    }
    if (finished_by_another) return ProjectReply{*record, false};
    if (!was_ready && request.settings.spare_databases > 0) request_refill();  // the pool ran dry
    pg::log(std::string(was_ready ? "claudable: repaired " : "claudable: provisioned ") +
            describe(request.project_id, request.owner_id) +
            ": database \"" + names.database_name + "\", role \"" + names.username + "\" (" + done + ")");
    return ProjectReply{*record, !was_ready};
}

// Ends every session of the role, in every database, and waits (5 s each) for them to exit.
void terminate_sessions_of(const std::string& username) {
    pg::query(
        "SELECT pg_catalog.pg_terminate_backend(a.pid, 5000)"
        "  FROM pg_catalog.pg_stat_activity AS a JOIN pg_catalog.pg_roles AS r ON r.oid = a.usesysid"
        " WHERE r.rolname = $1 AND a.pid <> pg_catalog.pg_backend_pid()",
        {pg::text_param(username)});
}

// Whatever the tenant did with its own rights, the removal goes through: first the role
// loses LOGIN and its sessions (committed, so it never logs in again even if a later
// step fails), then what would block the drops is undone, then both are dropped.
DeprovisionReply deprovision_project(const DeprovisionRequest& request, const CallerContext& context) {
    const ProjectNames names = names_for(request.project_id);
    pg::report_activity("claudable: deprovisioning " + describe(request.project_id, request.owner_id));

    std::string marker;
    std::optional<ProjectRecord> record;
    bool role_is_ours = false;
    in_transaction([&] {
        marker = ownership_marker(request.project_id);
        record = lock_project(request.project_id);
        if (!record) return;
        if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
        // A branch or snapshot being made copies this project's database; its removal waits.
        // (A new one is refused once the project is marked below.)
        if (versions_under_way(request.project_id))
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: project \"" + request.project_id +
                     "\" has a snapshot, restore or branch under way, so it is not deprovisioned now",
                 "Nothing was changed.", "Call claudable_deprovision again once that call has returned.");
        mark_deprovisioning(request.project_id);  // from here on a retry finishes the removal
        claim_project(request.project_id);
        role_is_ours = role_ownership(names.username, marker) == Ownership::ours;
    });
    if (!record) return DeprovisionReply{false};  // nothing to remove
    reach_fault_point(context.fault_point, "deprovision_marked");

    const std::string role = quoted_identifier(names.username);
    const std::string database = quoted_identifier(names.database_name);
    if (role_is_ours) {
        in_transaction([&] {
            terminate_sessions_of(names.username);  // a session may hold a lock on the role's row
            pg::run_top_level("ALTER ROLE " + role + " WITH NOLOGIN");
        });
        in_transaction([&] { terminate_sessions_of(names.username); });
    }
    reach_fault_point(context.fault_point, "deprovision_locked_out");
    // Its branches and snapshots go first: a snapshot holds objects of the project's role,
    // which could not be dropped while they exist.
    std::vector<std::string> branches;
    in_transaction([&] { branches = branches_of(request.project_id); });
    for (const std::string& branch : branches) deprovision_project(DeprovisionRequest{branch, request.owner_id}, context);
    remove_snapshots_of(request.project_id, context);
    in_transaction([&] {
        if (database_ownership(names.database_name, names.username, marker) == Ownership::ours &&
            is_template(names.database_name))
            pg::run_top_level("ALTER DATABASE " + database + " WITH IS_TEMPLATE false");
    });
    in_transaction([&] {
        if (database_ownership(names.database_name, names.username, marker) == Ownership::ours)
            pg::run_top_level("DROP DATABASE " + database + " WITH (FORCE)");
    });
    if (role_is_ours) {
        drop_owned_everywhere(names.username, context);
    }
    in_transaction([&] {
        if (role_ownership(names.username, marker) == Ownership::ours) pg::run_top_level("DROP ROLE " + role);
        delete_project(request.project_id);
        record_event(event_for(request, context, "deprovision", "succeeded", "database and role dropped"));
    });
    pg::log("claudable: deprovisioned " + describe(request.project_id, request.owner_id) + ": database \"" + names.database_name +
            "\", role \"" + names.username + "\"");
    return DeprovisionReply{true};
}

// Connected to another database: what the project's role owns or was granted there.
DropOwnedReply drop_owned_here(const DropOwnedRequest& request) {
    in_transaction([&] {
        auto rows = pg::query("SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = $1",
                              {pg::text_param(request.username)});
        if (!rows.empty()) pg::run_top_level("DROP OWNED BY " + quoted_identifier(request.username) + " CASCADE");
    });
    return DropOwnedReply{};
}

// Connected to another database: what the given roles own here, and its size on disk.
MeasureOwnedReply measure_owned_here(const MeasureOwnedRequest& request) {
    MeasureOwnedReply reply;
    in_transaction([&] {
        for (const std::string& username : request.usernames) {
            pg::check_for_interrupts();
            auto rows = pg::query(
                "SELECT pg_catalog.count(*), COALESCE(pg_catalog.sum(o.size), 0)::bigint FROM ("
                "  SELECT pg_catalog.pg_total_relation_size(c.oid) AS size FROM pg_catalog.pg_class AS c"
                "   JOIN pg_catalog.pg_roles AS r ON r.oid = c.relowner"
                "   WHERE r.rolname = $1 AND c.relkind IN ('r', 'm', 'p')"
                "  UNION ALL"
                "  SELECT (SELECT COALESCE(pg_catalog.sum(pg_catalog.octet_length(l.data)), 0)"
                "            FROM pg_catalog.pg_largeobject AS l WHERE l.loid = m.oid)"
                "    FROM pg_catalog.pg_largeobject_metadata AS m JOIN pg_catalog.pg_roles AS r ON r.oid = m.lomowner"
                "   WHERE r.rolname = $1) AS o",
                {pg::text_param(username)});
            const long long objects = pg::as_int64(rows.at(0)[0]);
            if (objects > 0) reply.owned.push_back(OwnedThere{username, objects, pg::as_int64(rows.at(0)[1])});
        }
    });
    return reply;
}

ProjectReply rotate_password(const RotatePasswordRequest& request, const CallerContext& context) {
    const ProjectNames names = names_for(request.project_id);
    pg::report_activity("claudable: rotating the password of " + describe(request.project_id, request.owner_id));

    std::optional<ProjectRecord> record;
    in_transaction([&] {
        // The record's row lock first: a key rotation reseals this row only after this
        // commit, so the key read below stays the active one (no claudable.provisioning_lock,
        // which every new project needs, is held while the tenant's role row is waited for).
        const std::string marker = ownership_marker(request.project_id);
        record = lock_project(request.project_id);
        if (!record) fail("P0002", "claudable: project \"" + request.project_id + "\" is not provisioned");
        if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
        if (record->status != "ready" || role_ownership(names.username, marker) != Ownership::ours)
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: project \"" + request.project_id + "\" is not ready", {},
                 "Call claudable_provision (or claudable_reconcile) first, then claudable_rotate_password again.");
        const ActiveKey key = active_key(context.key_file, false);
        std::string password = generate_password();
        const std::string verifier = scram_sha256_verifier(password);
        const std::string sealed = seal(*key.key, password, request.project_id);
        wipe(password);
        // Role and record change in one transaction: no caller ever sees one without the other.
        change_tenant_rows("rotating the password of " + describe(request.project_id, request.owner_id), names.username,
                           context.worker_timeout_ms, [&] {
                               pg::run_top_level("ALTER ROLE " + quoted_identifier(names.username) + " PASSWORD " +
                                                 quoted_literal(verifier));
                           });
        replace_sealed_password(request.project_id, sealed, key.fingerprint);
        record = find_project(request.project_id);
        record_event(event_for(request, context, "rotate", "succeeded", "password replaced"));
    });
    pg::log("claudable: rotated the password of " + describe(request.project_id, request.owner_id));
    return ProjectReply{*record, false};
}

InspectTemplateReply inspect_template() {
    auto rows = pg::query("SELECT 1 FROM pg_catalog.pg_extension AS e WHERE e.extname = 'claudable'");
    return InspectTemplateReply{!rows.empty()};
}

void record_failure(const WorkerRequest& request, const Failure& failure) {
    try {
        in_transaction([&] {
            record_event(event_for(request.job, request.context, action_name(request.job), "failed",
                                   failure.sqlstate() + ": " + failure.report().message));
        });
    } catch (const Failure& also) {
        pg::log("claudable: could not record a failed " + std::string(action_name(request.job)) + ": " +
                also.report().message);
    }
}

// Every lock wait and statement in a worker is bounded by claudable.worker_timeout
// (lock_timeout, statement_timeout): the caller learns what it waited for.
Failure as_timeout_if_it_is(const WorkerRequest& request, const Failure& failure) {
    const std::string& state = failure.sqlstate();
    if (!failure.from_postgres() || (state != "55P03" && state != "57014")) return failure;
    return Failure(ErrorReport{
        sqlstate::object_not_in_prerequisite_state,
        "claudable: " + std::string(job_verb(request.job)) + " did not finish within claudable.worker_timeout",
        "The worker " + std::string(state == "55P03" ? "waited for a lock that another session holds"
                                                      : "ran a statement that did not finish") +
            " (" + failure.report().message + "); the step that waited changed nothing.",
        "Find the blocking session in pg_locks and pg_stat_activity, or call again later: calls are idempotent."});
}

const char* job_verb(const JobRequest& job) {
    if (const auto* r = std::get_if<ProvisionRequest>(&job))
        return r->mode == ProvisionMode::create ? "provisioning" : "repairing";
    if (std::holds_alternative<DeprovisionRequest>(job)) return "deprovisioning";
    if (std::holds_alternative<RotatePasswordRequest>(job)) return "rotating the password";
    if (std::holds_alternative<RotateKeyRequest>(job)) return "rotating the key";
    if (std::holds_alternative<InspectTemplateRequest>(job)) return "inspecting the template";
    if (std::holds_alternative<RefillSparesRequest>(job)) return "refilling the spare pool";
    if (std::holds_alternative<MeasureOwnedRequest>(job)) return "measuring what project roles own in another database";
    if (std::holds_alternative<PreparePooledLoginRequest>(job)) return "preparing the pooled login";
    if (std::holds_alternative<SnapshotRequest>(job)) return "taking a snapshot";
    if (std::holds_alternative<RestoreRequest>(job)) return "restoring a snapshot";
    if (std::holds_alternative<DropSnapshotRequest>(job)) return "dropping a snapshot";
    if (std::holds_alternative<BranchRequest>(job)) return "branching";
    if (std::holds_alternative<AdoptCopyRequest>(job)) return "handing a branch's copied objects to its role";
    if (std::holds_alternative<SettleSnapshotsRequest>(job)) return "settling unfinished snapshots";
    return "dropping what the role owns in another database";
}

std::string describe_job(const JobRequest& job) {
    if (const auto* r = std::get_if<InspectTemplateRequest>(&job))
        return std::string(job_verb(job)) + " \"" + r->template_name + "\"";
    if (const auto* r = std::get_if<DropOwnedRequest>(&job))
        return std::string(job_verb(job)) + " (role \"" + r->username + "\")";
    if (const auto* r = std::get_if<PreparePooledLoginRequest>(&job))
        return std::string(job_verb(job)) + " of database \"" + r->database_name + "\"";
    const auto [project_id, owner_id] = project_of(job);
    const bool of = std::holds_alternative<SnapshotRequest>(job) || std::holds_alternative<RestoreRequest>(job) ||
                    std::holds_alternative<DropSnapshotRequest>(job);
    return project_id.empty() ? job_verb(job)
                              : std::string(job_verb(job)) + (of ? " of " : " ") + describe(project_id, owner_id);
}

WorkerReply run_worker_job(const WorkerRequest& request) {
    const CallerContext& context = request.context;
    if (std::holds_alternative<InspectTemplateRequest>(request.job)) return in_transaction_result(inspect_template);
    if (const auto* r = std::get_if<DropOwnedRequest>(&request.job)) return drop_owned_here(*r);
    if (const auto* r = std::get_if<MeasureOwnedRequest>(&request.job)) return measure_owned_here(*r);
    if (const auto* r = std::get_if<PreparePooledLoginRequest>(&request.job)) return prepare_pooled_login_here(*r);
    if (std::holds_alternative<RefillSparesRequest>(request.job)) return RefillSparesReply{refill_spares_now(context)};
    if (const auto* r = std::get_if<AdoptCopyRequest>(&request.job)) return adopt_copy_here(*r, context);
    if (std::holds_alternative<SettleSnapshotsRequest>(request.job)) return settle_snapshots(context);
    try {
        try {
            if (const auto* r = std::get_if<ProvisionRequest>(&request.job)) return provision_project(*r, context);
            if (const auto* r = std::get_if<SnapshotRequest>(&request.job)) return take_snapshot(*r, context);
            if (const auto* r = std::get_if<RestoreRequest>(&request.job)) return restore_snapshot(*r, context);
            if (const auto* r = std::get_if<DropSnapshotRequest>(&request.job)) return drop_snapshot(*r, context);
            if (const auto* r = std::get_if<BranchRequest>(&request.job)) return create_branch(*r, context);
            if (const auto* r = std::get_if<DeprovisionRequest>(&request.job)) return deprovision_project(*r, context);
            if (const auto* r = std::get_if<RotatePasswordRequest>(&request.job)) return rotate_password(*r, context);
            return RotateKeyReply{rotate_key(context.key_file, context.actor)};
        } catch (const Failure& failure) {
            throw as_timeout_if_it_is(request, failure);
        }
    } catch (const Failure& failure) {
        record_failure(request, failure);
        throw;
    }
}

}  // namespace claudable
