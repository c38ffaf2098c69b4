// The metadata in schema claudable, and what the system catalogs say about the
// roles and databases the extension manages. All access is parameterized SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/project_names.hpp"

namespace claudable {

struct ProjectRecord {
    std::string project_id;
    std::string owner_id;
    std::string database_name;
    std::string username;
    std::string sealed_password;
    std::string host;
    int port = 0;
    std::string status;          // provisioning | ready | deprovisioning
    std::int64_t created_at = 0;  // TimestampTz
    std::string key_fingerprint;  // the key that sealed sealed_password
    bool read_only = false;       // claudable_enforce_quotas() keeps the database read-only
    bool role_exists = false;     // a role of that name exists
    bool database_exists = false; // a database of that name exists, owned by that role
    std::string parent_project_id;  // a branch's parent; "" for a project
    std::int64_t expires_at = 0;    // a branch's expiry (TimestampTz); 0 for none
};

std::optional<ProjectRecord> find_project(const std::string& project_id);
// The same, with the project's row locked FOR UPDATE until the transaction ends: every
// worker step that changes a project holds it, so steps for one project never interleave.
std::optional<ProjectRecord> lock_project(const std::string& project_id);

// claudable.provisioning_lock: exclusive for a reservation or a key rotation, shared for
// any step that seals or opens a password with the active key. Taken before any project
// row, always. Only the extension's owner can lock it (unlike an advisory lock key).
enum class LockStrength { shared, exclusive };
void lock_provisioning(LockStrength strength);
// This worker is the one working on the project (claudable_check() looks for its PID).
void claim_project(const std::string& project_id);

struct ProjectCounts {
    std::int64_t total;
    std::int64_t of_owner;
};
ProjectCounts count_projects(const std::string& owner_id);

// Whether a fleet directory was told after `since_us` that this server does not hold the
// project (claudable_databases(project_id) found nothing): see claudable.absent_lookups.
bool looked_up_as_absent_after(const std::string& project_id, long long since_us);
// The refusal for an owner_id that is not the recorded one (42501); it names neither
// the real owner nor the project's objects.
[[noreturn]] void refuse_other_owner(const std::string& project_id);

// The id of another project that already holds either of these names.
std::optional<std::string> project_holding_names(const std::string& project_id, const ProjectNames& names);
// Writes the record as 'provisioning', with its parent and expiry if it is a branch.
void insert_reservation(const ProjectRecord& record);
// How many branches the project has (any status).
std::int64_t count_branches(const std::string& parent_project_id);
// Whether a worker other than this one is making one of the project's branches or
// snapshots, or restoring one, right now.
bool versions_under_way(const std::string& project_id);
// Whether a worker other than this one is working on the project now (its recorded PID).
bool another_worker_on(const std::string& project_id);
// The branches of a project, in no particular order.
std::vector<std::string> branches_of(const std::string& parent_project_id);
void mark_ready(const std::string& project_id);
void mark_deprovisioning(const std::string& project_id);
void replace_sealed_password(const std::string& project_id, const std::string& sealed_password,
                             const std::string& key_fingerprint);
void delete_project(const std::string& project_id);
// Records new_host (and new_port, unless 0) for every project recorded with old_host, with
// one move_host event each, in the caller's transaction; returns how many moved.
int move_projects_host(const std::string& old_host, const std::string& new_host, int new_port);

// This installation's id (claudable.installation), created by the first reservation;
// pg_dump/pg_restore keep it.
void ensure_installation();
// Proof that a role or database is ours: the comment written in the same transaction as
// the CREATE, naming the project and the installation (format: claudable.ownership_marker()).
std::string ownership_marker(const std::string& project_id);

// One row of claudable.events. Never holds a secret.
struct AuditEvent {
    std::string action;  // provision, deprovision, rotate, reconcile
    std::string project_id;
    std::string owner_id;
    std::string database_name;
    std::string actor;    // session_user of the caller
    std::string outcome;  // succeeded, failed
    std::string detail;
    std::string at_unix_seconds = {};  // when it happened, if not now (a queued refusal)
};
void record_event(const AuditEvent& event);

// Refusals repeated by one actor for one project and action within refusal_window_seconds of
// the first are one event with a count (repeats, last_at), whatever owner_id each call gave
// (the event keeps the first): a flood of refused calls adds one row a minute, not one a call. `first` carries the earliest time, `last_unix_seconds`
// the latest, `count` how many. Returns true when it made a new event (not a merge).
inline constexpr int refusal_window_seconds = 60;
bool record_refusals(const AuditEvent& first, const std::string& last_unix_seconds, long long count);

enum class Ownership { absent, ours, foreign };
// A role is ours when it carries our marker: a role without CREATEROLE cannot comment on itself.
Ownership role_ownership(const std::string& username, const std::string& marker);
// A database is ours when its owner is the project's role and that role is ours. Its
// comment is not proof: the owner may change it. It cannot rename the database or give
// it away (both need CREATEDB), so ownership is.
Ownership database_ownership(const std::string& database_name, const std::string& username, const std::string& marker);

}  // namespace claudable
