#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/branches.hpp"

#include "crypto/password.hpp"
#include "crypto/secret_box.hpp"
#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"
#include "rules/sql_text.hpp"
#include "store/key_store.hpp"
#include "store/snapshot_store.hpp"
#include "testing/fault_injection.hpp"
#include "worker/database_copy.hpp"
#include "worker/pooled_login.hpp"
#include "worker/project_steps.hpp"
#include "worker/provisioning_worker.hpp"
#include "worker/tenant_rows.hpp"

namespace claudable {
namespace {

unsigned int database_id(const std::string& database_name) {
    auto rows = pg::query("SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = $1",
                          {pg::text_param(database_name)});
    if (rows.empty())
        fail(sqlstate::internal_error, "claudable: database \"" + database_name + "\" vanished while it was branched");
    return static_cast<unsigned int>(pg::as_int64(rows[0][0]));
}

enum class Reserved { made, ready, stale };

}  // namespace

void refuse_unbranchable_parent(const BranchOrigin& origin, const std::string& owner_id) {
    const std::string& parent_id = origin.parent_project_id;
    std::optional<ProjectRecord> parent = lock_project(parent_id);
    if (!parent)
        fail("P0002", "claudable: project \"" + parent_id + "\" is not provisioned", {},
             "A branch is made from a provisioned project: call claudable_provision first.");
    if (parent->owner_id != owner_id) refuse_other_owner(parent_id);
    if (!parent->parent_project_id.empty())
        fail("0A000", "claudable: project \"" + parent_id + "\" is itself a branch, and a branch has no branches", {},
             "Branch the project it was branched from (" + parent->parent_project_id + "), from a snapshot of this "
             "branch if its data is wanted.");
    if (parent->status != "ready" || !parent->database_exists)
        fail(sqlstate::object_not_in_prerequisite_state, "claudable: project \"" + parent_id + "\" is not ready", {},
             "Call claudable_provision (or claudable_reconcile) first, then claudable_branch again.");
    if (origin.max_branches >= 0) {
        const std::int64_t count = count_branches(parent_id);
        if (count >= origin.max_branches)
            fail("53400",
                 "claudable: project \"" + parent_id + "\" already has " + std::to_string(count) +
                     " branches, its limit (claudable.max_branches_per_project = " +
                     std::to_string(origin.max_branches) + ")",
                 {}, "Deprovision branches the project no longer needs, or raise claudable.max_branches_per_project.");
    }
}

ProjectReply create_branch(const BranchRequest& request, const CallerContext& context) {
    const ProjectNames names = names_for(request.project_id);
    const ProjectNames parent_names = names_for(request.branch.parent_project_id);
    const std::string what = "branching " + describe(request.project_id, request.owner_id);
    const bool from_snapshot = request.source != "current";
    pg::report_activity("claudable: " + what);

    std::string marker;
    std::optional<ProjectRecord> record;
    Reserved reserved = Reserved::made;
    for (int attempt = 0; attempt < 2; ++attempt) {
        in_transaction([&] {
            lock_provisioning(LockStrength::exclusive);
            ensure_installation();
            marker = ownership_marker(request.project_id);
            record = lock_project(request.project_id);
            if (record) {
                if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
                if (record->status == "ready") {
                    reserved = Reserved::ready;
                    return;
                }
                if (another_worker_on(request.project_id))
                    fail(sqlstate::object_not_in_prerequisite_state,
                         "claudable: branch \"" + request.project_id + "\" is being made or removed by another call",
                         {}, "Call again in a moment: claudable_branch returns it once it is ready.");
                reserved = Reserved::stale;  // an interrupted creation: undone below, then made anew
                return;
            }
            if (project_holding_names(request.project_id, names))
                fail(sqlstate::duplicate_object,
                     "branch \"" + request.project_id + "\" maps to database \"" + names.database_name +
                         "\", which another project already uses",
                     {}, "Choose another branch_id.");
            refuse_foreign_objects(names, marker);
            refuse_over_limits(request.owner_id, request.settings);
            refuse_unbranchable_parent(request.branch, request.owner_id);
            if (!request.settings.pooler_auth_user.empty())
                require_pooler_auth_role(request.settings.pooler_auth_user);
            if (from_snapshot) {
                std::optional<SnapshotRecord> snapshot =
                    lock_snapshot(request.branch.parent_project_id, request.source, true);
                if (!snapshot || snapshot->state != "ready")
                    fail("P0002", "claudable: project \"" + request.branch.parent_project_id +
                                      "\" has no snapshot \"" + request.source + "\"",
                         {}, "claudable_snapshots lists the project's snapshots.");
            }
            const ActiveKey key = active_key(context.key_file, true);
            std::string password = generate_password();
            ProjectRecord reservation{request.project_id, request.owner_id, names.database_name, names.username,
                                      seal(*key.key, password, request.project_id), request.settings.host,
                                      request.settings.port, "provisioning", 0, key.fingerprint};
            wipe(password);
            reservation.parent_project_id = request.branch.parent_project_id;
            reservation.expires_at = request.branch.expires_at;
            insert_reservation(reservation);
            reserved = Reserved::made;
        });
        if (reserved != Reserved::stale) break;
        deprovision_project(DeprovisionRequest{request.project_id, request.owner_id}, context);
    }
    if (reserved == Reserved::ready) {
        ensure_pooled_login(names.database_name, request.settings.pooler_auth_user, context);
        return ProjectReply{*record, false};
    }
    if (reserved == Reserved::stale)
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: branch \"" + request.project_id + "\" was being made by another call", {},
             "Call again in a moment.");
    reach_fault_point(context.fault_point, "branch_reserved");

    CopyPlan plan;
    try {
        in_transaction([&] {
            record = lock_live_project(request.project_id);
            ensure_role(names, stored_verifier(*record, context.key_file), marker, request.settings);
        });
        in_transaction([&] {
            lock_live_project(request.project_id);
            std::string source_database = parent_names.database_name;
            if (from_snapshot) {
                std::optional<SnapshotRecord> snapshot =
                    lock_snapshot(request.branch.parent_project_id, request.source, true);
                if (!snapshot)
                    fail("P0002", "claudable: snapshot \"" + request.source + "\" was dropped while it was branched");
                source_database = snapshot->database_name;
            } else {
                end_sessions(source_database, parent_names.username, pg::DatabaseLock::copy, what, context.worker_timeout_ms);
            }
            plan = plan_copy(source_database, request.copy);
            // Closed until its objects are the branch role's (the last step opens it).
            copy_database(source_database, names.database_name, names.username, plan, false, marker,
                          connection_limit_clause(request.settings));
        });
        reach_fault_point(context.fault_point, "branch_copied");
        unsigned int branch_database = 0;
        in_transaction([&] { branch_database = database_id(names.database_name); });
        try {
            adopt_copy_in_worker(AdoptCopyRequest{parent_names.username, names.username}, context, branch_database);
        } catch (const Failure& failure) {
            // The tenant held its database's row (worker/tenant_rows.hpp): its own report, not
            // the worker timeout's a lock wait of this worker would get.
            if (failure.sqlstate() != "55P03") throw;
            throw Failure(failure.report());
        }
        if (!request.settings.pooler_auth_user.empty())
            prepare_pooled_login(names.database_name, request.settings.pooler_auth_user, context);
        in_transaction([&] {
            record = lock_live_project(request.project_id);
            pg::run_top_level("ALTER DATABASE " + quoted_identifier(names.database_name) +
                              " WITH ALLOW_CONNECTIONS true");
            mark_ready(request.project_id);
            reach_fault_point(context.fault_point, "branch_adopted");  // nothing is committed yet
            record_event(event_for(request, context, "branch", "succeeded",
                                   "copied from " + (from_snapshot ? "snapshot " + request.source
                                                                   : "project " + request.branch.parent_project_id) +
                                       " (" + plan.describe() + ")"));
            record = find_project(request.project_id);
        });
    } catch (const Failure& failure) {
        pg::log("claudable: " + what + " failed: " + failure.report().message);
        try {  // nothing half-made: the branch goes, a new call makes it
            deprovision_project(DeprovisionRequest{request.project_id, request.owner_id}, context);
        } catch (const Failure& cleanup) {
            pg::log("claudable: removing the unfinished branch \"" + request.project_id +
                    "\" failed (claudable_reconcile() removes it): " + cleanup.report().message);
        }
        throw;
    }
    pg::log("claudable: branched " + describe(request.project_id, request.owner_id) + " from " +
            (from_snapshot ? "snapshot " + request.source : "project " + request.branch.parent_project_id) +
            ": database \"" + names.database_name + "\", role \"" + names.username + "\" (" + plan.describe() + ")");
    return ProjectReply{*record, true};
}

AdoptCopyReply adopt_copy_here(const AdoptCopyRequest& request, const CallerContext& context) {
    in_transaction([&] {
        // REASSIGN OWNED also hands over the shared objects the role owns, its own
        // database among them: each is the worker's for the moment of the statement and
        // the parent's again before the commit, so no other session ever sees it change.
        auto owned = pg::query(
            "SELECT d.datname::text FROM pg_catalog.pg_database AS d JOIN pg_catalog.pg_roles AS r ON r.oid = d.datdba"
            " WHERE r.rolname = $1",
            {pg::text_param(request.parent_username)});
        const std::string parent = quoted_identifier(request.parent_username);
        change_tenant_rows("handing the copied objects of role \"" + request.parent_username + "\" to its branch",
                           request.parent_username, context.worker_timeout_ms, [&] {
                               for (const auto& row : owned)
                                   pg::run_top_level("ALTER DATABASE " + quoted_identifier(row[0].value_or("")) +
                                                     " OWNER TO CURRENT_USER");
                               pg::run_top_level("REASSIGN OWNED BY " + parent + " TO " +
                                                 quoted_identifier(request.branch_username));
                               for (const auto& row : owned)
                                   pg::run_top_level("ALTER DATABASE " + quoted_identifier(row[0].value_or("")) +
                                                     " OWNER TO " + parent);
                           });
    });
    return AdoptCopyReply{};
}

}  // namespace claudable
