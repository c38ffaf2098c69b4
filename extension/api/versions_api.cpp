#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

// claudable_snapshot, claudable_snapshots, claudable_restore, claudable_drop_snapshot,
// claudable_branch and claudable.settle_snapshots(): checked in the caller's backend, done
// by a worker (worker/snapshots.hpp, worker/branches.hpp).
#include "api/sql_api.hpp"

#include "api/call_support.hpp"
#include "pg/background_worker.hpp"
#include "rules/failure.hpp"
#include "rules/project_names.hpp"
#include "store/snapshot_store.hpp"
#include "worker/pooled_login.hpp"
#include "worker/provisioning_worker.hpp"

namespace claudable {
namespace {

constexpr std::size_t max_label_length = 200;

// A label is shown to people: at most 200 characters (UTF-8, the server's encoding in
// README's Install), none of them a control character (C0, DEL, C1) or a bidirectional
// override that would make it read as something else. Never echoed.
bool label_is_clean(const std::string& label) {
    std::size_t characters = 0;
    for (std::size_t i = 0; i < label.size(); ++i) {
        const auto c = static_cast<unsigned char>(label[i]);
        const auto next = i + 1 < label.size() ? static_cast<unsigned char>(label[i + 1]) : 0;
        const auto after = i + 2 < label.size() ? static_cast<unsigned char>(label[i + 2]) : 0;
        if ((c & 0xC0) != 0x80) ++characters;  // not a continuation byte: a character starts
        if (c < 0x20 || c == 0x7f) return false;
        if (c == 0xC2 && next >= 0x80 && next <= 0x9f) return false;                        // U+0080..U+009F
        if (c == 0xE2 && next == 0x80 && after >= 0xAA && after <= 0xAE) return false;      // U+202A..U+202E
        if (c == 0xE2 && next == 0x81 && after >= 0xA6 && after <= 0xA9) return false;      // U+2066..U+2069
    }
    return characters <= max_label_length;
}

std::string checked_label(const std::optional<std::string>& label) {
    if (!label) return {};
    if (!label_is_clean(*label))
        fail(sqlstate::invalid_parameter_value, "claudable: invalid label", {},
             "A label is at most 200 characters, without control characters (newlines, tabs, ...) or "
             "bidirectional overrides.");
    return *label;
}

std::string checked_snapshot_id(const pg::Arguments& arguments, int index) {
    const std::optional<std::string> snapshot_id = arguments.string(index);
    validate_snapshot_id(snapshot_id ? &*snapshot_id : nullptr);
    return *snapshot_id;
}

pg::ResultRow snapshot_row(const SnapshotRecord& s) {
    return pg::ResultRow{{s.snapshot_id, s.project_id, s.label.empty() ? pg::ResultCell{} : pg::ResultCell{s.label},
                          pg::Bigint{s.size_bytes}, pg::Timestamp{s.created_at}}};
}

// The project's record, for a call by this owner: P0002 if there is none, 42501 (audited)
// if the owner is another.
ProjectRecord project_of_owner(const ProjectArguments& args, const char* action) {
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) fail("P0002", "claudable: project \"" + args.project_id + "\" is not provisioned");
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, action);
    return *existing;
}

}  // namespace

namespace api {

pg::Result snapshot(const pg::Arguments& arguments) {
    const ProjectArguments args = project_arguments(arguments);
    const std::string label = checked_label(arguments.string(2));
    require_current_schema();
    const settings::Values values = settings::current();
    project_of_owner(args, "snapshot");
    const SnapshotReply reply = snapshot_in_worker(
        SnapshotRequest{args.project_id, args.owner_id, label, copy_settings(values)}, caller_context(values));
    return snapshot_row(reply.snapshot);
}

pg::Result snapshots(const pg::Arguments& arguments) {
    const ProjectArguments args = project_arguments(arguments);
    require_current_schema();
    project_of_owner(args, "snapshots");
    pg::ResultRows rows;
    for (const SnapshotRecord& s : list_snapshots(args.project_id)) rows.rows.push_back(snapshot_row(s));
    return rows;
}

pg::Result restore(const pg::Arguments& arguments) {
    const ProjectArguments args = project_arguments(arguments);
    const std::string snapshot_id = checked_snapshot_id(arguments, 2);
    require_current_schema();
    const settings::Values values = settings::current();
    project_of_owner(args, "restore");
    RestoreRequest request{args.project_id, args.owner_id, snapshot_id, copy_settings(values),
                           provision_request(args.project_id, args.owner_id, values, ProvisionMode::create).settings};
    return project_row(restore_in_worker(request, caller_context(values)), args.project_id, values);
}

pg::Result drop_snapshot(const pg::Arguments& arguments) {
    const ProjectArguments args = project_arguments(arguments);
    const std::string snapshot_id = checked_snapshot_id(arguments, 2);
    require_current_schema();
    const settings::Values values = settings::current();
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) return false;  // nothing to drop: no worker
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "drop_snapshot");
    if (!find_snapshot(args.project_id, snapshot_id)) return false;
    return drop_snapshot_in_worker(DropSnapshotRequest{args.project_id, args.owner_id, snapshot_id},
                                   caller_context(values))
        .dropped;
}

pg::Result branch(const pg::Arguments& arguments) {
    const ProjectArguments parent = project_arguments(arguments);
    const std::optional<std::string> branch_id = arguments.string(2);
    validate_branch_id(branch_id ? &*branch_id : nullptr);
    const std::optional<std::string> source = arguments.string(3);
    const bool named_source = source && (*source == "current" || *source == "empty");
    if (!named_source && (!source || source->rfind("snap-", 0) != 0))
        fail(sqlstate::invalid_parameter_value, "claudable: invalid source", {},
             "source is 'current' (a copy of the project now), 'empty' (from the template) or a snapshot_id of the "
             "project.");
    if (!named_source) validate_snapshot_id(&*source);
    if (is_branch_project_id(parent.project_id))
        fail("0A000", "claudable: project \"" + parent.project_id + "\" is a branch, and a branch has no branches",
             {}, "Branch the project it was branched from, from a snapshot of this branch if its data is wanted.");
    require_current_schema();
    const settings::Values values = settings::current();
    const long long now = pg::now_us();
    std::optional<long long> expires_at = arguments.timestamp(4);
    if (expires_at && (*expires_at == pg::infinity_us || *expires_at == -pg::infinity_us - 1))
        fail(sqlstate::invalid_parameter_value, "claudable: expires_at must be a finite time", {},
             "Give a time to come, or NULL for claudable.branch_ttl (0 there: the branch does not expire).");
    if (expires_at && *expires_at <= now)
        fail(sqlstate::invalid_parameter_value, "claudable: expires_at is in the past", {},
             "Give a time to come, or NULL for claudable.branch_ttl.");
    if (!expires_at && values.branch_ttl_s > 0) expires_at = now + static_cast<long long>(values.branch_ttl_s) * 1000000;

    const std::string project_id = branch_project_id(parent.project_id, *branch_id);
    project_of_owner(parent, "branch");
    const ProjectArguments args{project_id, parent.owner_id};
    std::optional<ProjectRecord> existing = find_project_with_key(project_id, values);
    if (existing && existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "branch");
    if (existing && existing->status == "ready" && existing->role_exists && existing->database_exists &&
        pooled_login_prepared(existing->database_name, values.pooler_auth_user))
        return project_row(ProjectReply{*existing, false}, project_id, values);  // made before: no worker

    const BranchOrigin origin{parent.project_id, expires_at.value_or(0), values.max_branches_per_project};
    ProvisionRequest provision = provision_request(project_id, args.owner_id, values, ProvisionMode::create);
    provision.branch = origin;
    ProjectReply reply;
    if (*source == "empty") {  // a spare when one is ready, the template otherwise
        reply = provision_in_worker(provision, caller_context(values));
    } else {
        reply = branch_in_worker(
            BranchRequest{project_id, args.owner_id, *source, origin, copy_settings(values), provision.settings},
            caller_context(values));
    }
    return project_row(reply, project_id, values);
}

pg::Result settle_snapshots(const pg::Arguments&) {
    require_current_schema();
    pg::ResultRows rows;
    for (const Settled& s : settle_snapshots_in_worker(caller_context(settings::current())).settled)
        rows.rows.push_back(pg::ResultRow{{s.action, s.object, s.detail}});
    return rows;
}

}  // namespace api
}  // namespace claudable
