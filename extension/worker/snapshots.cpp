#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/snapshots.hpp"

#include "pg/background_worker.hpp"
#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"
#include "rules/sql_text.hpp"
#include "store/snapshot_store.hpp"
#include "testing/fault_injection.hpp"
#include "worker/database_copy.hpp"
#include "worker/pooled_login.hpp"
#include "worker/project_steps.hpp"

namespace claudable {
namespace {

inline constexpr const char* configuration_limit_exceeded = "53400";

void refuse_over_snapshot_limit(const std::string& project_id, int max_snapshots) {
    if (max_snapshots < 0) return;
    const std::int64_t count = count_snapshots(project_id);
    if (count >= max_snapshots)
        fail(configuration_limit_exceeded,
             "claudable: project \"" + project_id + "\" already keeps " + std::to_string(count) +
                 " snapshots, its limit (claudable.max_snapshots_per_project = " + std::to_string(max_snapshots) + ")",
             "A restore keeps the state it replaces as a snapshot too, so it needs room for one.",
             "Drop snapshots the project no longer needs (claudable_drop_snapshot), or raise "
             "claudable.max_snapshots_per_project.");
}

[[noreturn]] void refuse_unknown_snapshot(const std::string& project_id, const std::string& snapshot_id) {
    fail("P0002", "claudable: project \"" + project_id + "\" has no snapshot \"" + snapshot_id + "\"", {},
         "claudable_snapshots lists the project's snapshots.");
}

// Drops the database if it exists; the last statement of its transaction (DROP DATABASE
// cannot be undone, so nothing may fail after it).
void drop_database_if_exists(const std::string& database_name) {
    pg::run_top_level("DROP DATABASE IF EXISTS " + quoted_identifier(database_name));
}

bool database_exists(const std::string& database_name) {
    return !pg::query("SELECT 1 FROM pg_catalog.pg_database AS d WHERE d.datname = $1",
                      {pg::text_param(database_name)})
                .empty();
}

void audit(const JobRequest& job, const CallerContext& context, const char* action, std::string detail) {
    record_event(event_for(job, context, action, "succeeded", std::move(detail)));
}

}  // namespace

ProjectRecord lock_ready_project(const std::string& project_id, const std::string& owner_id) {
    std::optional<ProjectRecord> record = lock_project(project_id);
    if (!record) fail("P0002", "claudable: project \"" + project_id + "\" is not provisioned");
    if (record->owner_id != owner_id) refuse_other_owner(project_id);
    if (record->status != "ready" || !record->role_exists || !record->database_exists)
        fail(sqlstate::object_not_in_prerequisite_state, "claudable: project \"" + project_id + "\" is not ready", {},
             "Call claudable_provision (or claudable_reconcile) first, then call again.");
    return *record;
}

SnapshotReply take_snapshot(const SnapshotRequest& request, const CallerContext& context) {
    const ProjectNames names = names_for(request.project_id);
    const std::string what = "taking a snapshot of " + describe(request.project_id, request.owner_id);
    pg::report_activity("claudable: " + what);
    SnapshotRecord snapshot;
    in_transaction([&] {
        lock_ready_project(request.project_id, request.owner_id);
        refuse_over_snapshot_limit(request.project_id, request.copy.max_snapshots);
        snapshot.snapshot_id = new_snapshot_id();
        snapshot.project_id = request.project_id;
        snapshot.label = request.label;
        snapshot.database_name = snapshot_database_name(snapshot.snapshot_id);
        snapshot.state = "creating";
        insert_snapshot(snapshot);
    });
    reach_fault_point(context.fault_point, "snapshot_recorded");
    CopyPlan plan;
    long long held_from = 0;
    try {
        // One transaction: the copy, its lockdown and the row made ready commit together.
        in_transaction([&] {
            lock_live_project(request.project_id);  // a restore's swap or a deprovisioning waits
            plan = plan_copy(names.database_name, request.copy);
            held_from = pg::now_ms();
            end_sessions(names.database_name, names.username, pg::DatabaseLock::copy, what, context.worker_timeout_ms);
            copy_database(names.database_name, snapshot.database_name, "", plan, false,
                          snapshot_marker(request.project_id));
            mark_snapshot_ready(snapshot.snapshot_id);
            reach_fault_point(context.fault_point, "snapshot_copied");  // nothing is committed yet
            audit(request, context, "snapshot", "snapshot " + snapshot.snapshot_id + " (" + plan.describe() + ")");
            snapshot = *find_snapshot(request.project_id, snapshot.snapshot_id);
        });
    } catch (const Failure&) {
        try {
            in_transaction([&] { delete_snapshot(snapshot.snapshot_id); });
        } catch (const Failure& cleanup) {
            pg::log("claudable: removing the record of unfinished snapshot " + snapshot.snapshot_id +
                    " failed: " + cleanup.report().message);
        }
        throw;
    }
    const long long held_ms = pg::now_ms() - held_from;
    pg::log("claudable: took snapshot " + snapshot.snapshot_id + " of " + describe(request.project_id, request.owner_id) +
            " (" + plan.describe() + ", " + std::to_string(snapshot.size_bytes) + " bytes; new sessions waited at most " +
            std::to_string(held_ms) + " ms)");
    return SnapshotReply{snapshot};
}

ProjectReply restore_snapshot(const RestoreRequest& request, const CallerContext& context) {
    const ProjectNames names = names_for(request.project_id);
    const std::string what = "restoring a snapshot of " + describe(request.project_id, request.owner_id);
    pg::report_activity("claudable: " + what);
    SnapshotRecord source;
    SnapshotRecord before;  // the state the restore replaces, kept as a snapshot
    in_transaction([&] {
        lock_ready_project(request.project_id, request.owner_id);
        std::optional<SnapshotRecord> found = lock_snapshot(request.project_id, request.snapshot_id, true);
        if (!found || found->state != "ready") refuse_unknown_snapshot(request.project_id, request.snapshot_id);
        source = *found;
        refuse_over_snapshot_limit(request.project_id, request.copy.max_snapshots);
        before.snapshot_id = new_snapshot_id();
        before.project_id = request.project_id;
        before.label = "before restore of " + source.snapshot_id;
        before.database_name = snapshot_database_name(before.snapshot_id);
        before.state = "restoring";
        before.restored_from = source.snapshot_id;
        before.staging_database = staging_database_name(before.snapshot_id);
        insert_snapshot(before);
    });
    reach_fault_point(context.fault_point, "restore_recorded");
    std::optional<ProjectRecord> record;
    CopyPlan plan;
    long long swap_from = 0;
    try {
        // The copy, while the app goes on using its database.
        in_transaction([&] {
            if (!lock_snapshot(request.project_id, source.snapshot_id, true))  // not dropped meanwhile
                refuse_unknown_snapshot(request.project_id, source.snapshot_id);
            plan = plan_copy(source.database_name, request.copy);
            // The worker's own until the swap: the project's role cannot touch it meanwhile.
            copy_database(source.database_name, before.staging_database, "", plan, false,
                          staging_marker(request.project_id), connection_limit_clause(request.settings));
        });
        if (!request.settings.pooler_auth_user.empty())
            prepare_pooled_login(before.staging_database, request.settings.pooler_auth_user, context);
        reach_fault_point(context.fault_point, "restore_staged");
        // The swap: one short transaction, the only time the app's database is unavailable.
        swap_from = pg::now_ms();
        in_transaction([&] {
            record = lock_live_project(request.project_id);
            const std::string database = quoted_identifier(names.database_name);
            end_sessions(names.database_name, names.username, pg::DatabaseLock::swap, what, context.worker_timeout_ms);
            pg::run_top_level("ALTER DATABASE " + database + " RENAME TO " + quoted_identifier(before.database_name));
            close_database(before.database_name, snapshot_marker(request.project_id));
            pg::run_top_level("ALTER DATABASE " + quoted_identifier(before.staging_database) + " OWNER TO " +
                              quoted_identifier(names.username));
            pg::run_top_level("ALTER DATABASE " + quoted_identifier(before.staging_database) + " RENAME TO " + database);
            pg::run_top_level("ALTER DATABASE " + database + " WITH ALLOW_CONNECTIONS true");
            pg::run_top_level("COMMENT ON DATABASE " + database + " IS " +
                              quoted_literal(ownership_marker(request.project_id)));
            if (record->read_only)  // the quota's setting stayed with the database swapped out
                pg::run_top_level("ALTER DATABASE " + database + " SET default_transaction_read_only = on");
            mark_snapshot_ready(before.snapshot_id);
            reach_fault_point(context.fault_point, "restore_swapped");  // nothing is committed yet
            audit(request, context, "restore",
                  "restored snapshot " + source.snapshot_id + " (" + plan.describe() + "); the state before is snapshot " +
                      before.snapshot_id);
            record = find_project(request.project_id);
        });
    } catch (const Failure&) {
        try {  // the swap did not commit: the project keeps its database
            in_transaction([&] { drop_database_if_exists(before.staging_database); });
            in_transaction([&] { delete_snapshot(before.snapshot_id); });
        } catch (const Failure& cleanup) {
            pg::log("claudable: undoing the unfinished restore of " + describe(request.project_id, request.owner_id) +
                    " failed (claudable_reconcile() finishes it): " + cleanup.report().message);
        }
        throw;
    }
    const long long swap_ms = pg::now_ms() - swap_from;
    pg::log("claudable: restored snapshot " + source.snapshot_id + " into " +
            describe(request.project_id, request.owner_id) + "; the state before is snapshot " + before.snapshot_id +
            " (the database was unavailable for " + std::to_string(swap_ms) + " ms)");
    return ProjectReply{*record, false};
}

DropSnapshotReply drop_snapshot(const DropSnapshotRequest& request, const CallerContext& context) {
    std::optional<SnapshotRecord> snapshot;
    in_transaction([&] {
        std::optional<ProjectRecord> record = lock_project(request.project_id);
        if (!record) return;
        if (record->owner_id != request.owner_id) refuse_other_owner(request.project_id);
        snapshot = lock_snapshot(request.project_id, request.snapshot_id);
        if (!snapshot) return;
        if (snapshot->state != "ready")
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: snapshot \"" + request.snapshot_id + "\" is being " +
                     (snapshot->state == "dropping" ? "dropped" : "made"),
                 {}, "Call again in a moment.");
        set_snapshot_state(request.snapshot_id, "dropping");
    });
    if (!snapshot) return DropSnapshotReply{false};
    in_transaction([&] {
        audit(request, context, "drop_snapshot", "snapshot " + snapshot->snapshot_id + " dropped");
        delete_snapshot(snapshot->snapshot_id);
        drop_database_if_exists(snapshot->database_name);
    });
    pg::log("claudable: dropped snapshot " + snapshot->snapshot_id + " of " +
            describe(request.project_id, request.owner_id));
    return DropSnapshotReply{true};
}

void remove_snapshots_of(const std::string& project_id, const CallerContext&) {
    std::vector<SnapshotRecord> snapshots;
    in_transaction([&] { snapshots = all_snapshots_of(project_id); });
    for (const SnapshotRecord& s : snapshots) {
        pg::check_for_interrupts();
        if (!s.staging_database.empty()) in_transaction([&] { drop_database_if_exists(s.staging_database); });
        in_transaction([&] {
            delete_snapshot(s.snapshot_id);
            drop_database_if_exists(s.database_name);
        });
    }
}

SettleSnapshotsReply settle_snapshots(const CallerContext& context) {
    SettleSnapshotsReply reply;
    std::vector<SnapshotRecord> unsettled, lost, opened;
    in_transaction([&] {
        unsettled = unsettled_snapshots();
        lost = lost_snapshots();
        opened = opened_snapshots();
    });
    auto settled = [&](const char* action, const SnapshotRecord& s, std::string detail) {
        in_transaction([&] {
            record_event(AuditEvent{"reconcile", s.project_id, "", "", context.actor, "succeeded",
                                    std::string(action) + " snapshot " + s.snapshot_id + ": " + detail});
        });
        pg::log("claudable: reconcile " + std::string(action) + " snapshot " + s.snapshot_id + " of project \"" +
                s.project_id + "\": " + detail);
        reply.settled.push_back(Settled{action, "snapshot " + s.snapshot_id, std::move(detail)});
    };
    for (const SnapshotRecord& s : unsettled) {
        pg::check_for_interrupts();
        bool still = false;
        in_transaction([&] {
            std::optional<SnapshotRecord> now = lock_snapshot(s.project_id, s.snapshot_id);
            still = now && now->state == s.state;
        });
        if (!still) continue;
        if (!s.staging_database.empty()) in_transaction([&] { drop_database_if_exists(s.staging_database); });
        in_transaction([&] {
            delete_snapshot(s.snapshot_id);
            drop_database_if_exists(s.database_name);
        });
        if (s.state == "creating")
            settled("removed", s, "its copy of project " + s.project_id + " was interrupted; nothing was kept");
        else if (s.state == "restoring")
            settled("undone", s, "the restore of snapshot " + s.restored_from + " into project " + s.project_id +
                                     " was interrupted before the swap; the project keeps its database");
        else
            settled("dropped", s, "its interrupted drop was finished");
    }
    for (const SnapshotRecord& s : lost) {
        pg::check_for_interrupts();
        in_transaction([&] {
            if (!database_exists(s.database_name)) delete_snapshot(s.snapshot_id);
        });
        settled("removed", s, "its database " + s.database_name + " was gone; the record is removed");
    }
    for (const SnapshotRecord& s : opened) {
        pg::check_for_interrupts();
        in_transaction([&] { close_database(s.database_name, snapshot_marker(s.project_id)); });
        settled("closed", s, "its database " + s.database_name + " refuses connections and grants nothing again");
    }
    return reply;
}

}  // namespace claudable
