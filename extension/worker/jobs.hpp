// What a worker can be asked to do: one request and one reply type per job, and what
// every job carries from the calling session.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "store/project_store.hpp"
#include "store/snapshot_store.hpp"

namespace claudable {

// From the calling session, for every job.
struct CallerContext {
    std::string actor;        // the caller's session_user, for the audit trail
    std::string fault_point;  // test builds only; see testing/fault_injection.hpp
    std::string key_file;     // claudable.key_file
    int worker_start_timeout_ms = 30000;
    int worker_timeout_ms = 300000;  // also bounds every lock wait and statement inside the worker
    // When the call began, in microseconds of the server's clock since 2000-01-01: a project a
    // fleet directory was told is not here after that is not created by it (claudable.absent_lookups).
    long long requested_at_us = 0;
};

// The settings a project is created (or repaired) with.
struct ProjectSettings {
    std::string template_name;
    std::string host;
    int port = 0;
    int connection_limit = -1;
    std::string role_settings;
    int max_projects = -1;
    int max_projects_per_owner = -1;
    int spare_databases = 0;  // the pool's target size: a provisioning refills it
    std::string pooler_auth_user;  // PgBouncer's auth_user, given the lookup and CONNECT; "" for none
};

enum class ProvisionMode {
    create,  // create, or finish an interrupted creation
    repair,  // run every step again on a ready project (claudable_reconcile)
    heal,    // a ready project whose role or database is gone: re-create it
};

// A branch being created: its parent, its expiry, and the parent's branch limit.
struct BranchOrigin {
    std::string parent_project_id;  // "" for an ordinary project
    long long expires_at = 0;       // TimestampTz; 0 for none
    int max_branches = -1;          // claudable.max_branches_per_project
};

struct ProvisionRequest {
    std::string project_id;
    std::string owner_id;
    ProvisionMode mode = ProvisionMode::create;
    ProjectSettings settings;
    BranchOrigin branch;  // set for a branch from 'empty' (from the template, or a spare)
};
struct DeprovisionRequest {  // drop database and role, remove the record
    std::string project_id;
    std::string owner_id;
};
struct RotatePasswordRequest {  // new password for role and record, in one transaction
    std::string project_id;
    std::string owner_id;
};
struct RotateKeyRequest {};  // claudable_rotate_key(): re-seal every password under a new key
struct InspectTemplateRequest {  // connected to the template: does it hold claudable?
    std::string template_name;
};
struct DropOwnedRequest {  // connected to another database: DROP OWNED BY the role
    std::string username;
};
struct RefillSparesRequest {};  // claudable_refill_spares(): the pool, filled now, to the server's settings
struct MeasureOwnedRequest {     // connected to another database: what these roles own there
    std::vector<std::string> usernames;
};
struct PreparePooledLoginRequest {  // connected to a project database (or a spare): PgBouncer's lookup there
    std::string database_name;
    std::string auth_user;
};
// How snapshots, restores and branches copy databases.
struct CopySettings {
    long long file_copy_threshold = 0;  // claudable.file_copy_threshold in bytes
    int max_snapshots = -1;             // claudable.max_snapshots_per_project
    std::string file_copy_method = "auto";  // claudable.file_copy_method
};
struct SnapshotRequest {  // copy the project's database now
    std::string project_id;
    std::string owner_id;
    std::string label;
    CopySettings copy;
};
struct RestoreRequest {  // copy the snapshot, swap it in; the database swapped out becomes a snapshot
    std::string project_id;
    std::string owner_id;
    std::string snapshot_id;
    CopySettings copy;
    ProjectSettings settings;
};
struct DropSnapshotRequest {
    std::string project_id;
    std::string owner_id;
    std::string snapshot_id;
};
struct BranchRequest {  // a branch from 'current' or a snapshot ('empty' is a ProvisionRequest)
    std::string project_id;  // the branch's: parent~branch_id
    std::string owner_id;
    std::string source;      // "current" or a snapshot_id of the parent
    BranchOrigin branch;
    CopySettings copy;
    ProjectSettings settings;
};
struct AdoptCopyRequest {  // connected to a branch's new database: the parent's objects become the branch's
    std::string parent_username;
    std::string branch_username;
};
struct SettleSnapshotsRequest {};  // claudable_reconcile(): finish or undo what no worker is finishing
using JobRequest = std::variant<ProvisionRequest, DeprovisionRequest, RotatePasswordRequest, RotateKeyRequest,
                                InspectTemplateRequest, DropOwnedRequest, RefillSparesRequest, MeasureOwnedRequest,
                                PreparePooledLoginRequest, SnapshotRequest, RestoreRequest, DropSnapshotRequest,
                                BranchRequest, AdoptCopyRequest, SettleSnapshotsRequest>;

struct WorkerRequest {
    CallerContext context;
    JobRequest job;
};

struct ProjectReply {  // provision and rotate_password
    ProjectRecord record;
    bool created = false;  // this call made the project ready
};
struct DeprovisionReply {
    bool removed = false;  // there was a project, and it is gone
};
struct RotateKeyReply {
    std::string fingerprint;  // of the new key
};
struct InspectTemplateReply {
    bool has_claudable = false;
};
struct DropOwnedReply {};
struct RefillSparesReply {
    int ready = 0;  // spares ready to be claimed
};
struct OwnedThere {
    std::string username;
    long long objects = 0;     // relations and large objects it owns in that database
    long long size_bytes = 0;  // their size on disk (relations with indexes and TOAST, large objects' data)
};
struct MeasureOwnedReply {
    std::vector<OwnedThere> owned;
};
struct PreparePooledLoginReply {};
struct SnapshotReply {
    SnapshotRecord snapshot;
};
struct DropSnapshotReply {
    bool dropped = false;
};
struct AdoptCopyReply {};
struct Settled {  // one row of claudable.settle_snapshots()
    std::string action, object, detail;
};
struct SettleSnapshotsReply {
    std::vector<Settled> settled;
};
using WorkerReply = std::variant<ProjectReply, DeprovisionReply, RotateKeyReply, InspectTemplateReply, DropOwnedReply,
                                 RefillSparesReply, MeasureOwnedReply, PreparePooledLoginReply, SnapshotReply,
                                 DropSnapshotReply, AdoptCopyReply, SettleSnapshotsReply>;

// What the job is doing, for messages: "provisioning", "rotating the password", ...
const char* job_verb(const JobRequest& job);
// The job and its project, for the context line of the worker's errors.
std::string describe_job(const JobRequest& job);

}  // namespace claudable
