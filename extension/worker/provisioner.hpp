// What the background worker does for one call: reserve, create the role, create the
// database, lock it down, mark it ready. Each step is its own transaction, run as a
// top-level command, so CREATE DATABASE is allowed.
#pragma once

#include <string>

#include "store/project_store.hpp"

namespace claudable {

// What a worker is asked to do.
enum class WorkerJob : int {
    provision = 0,         // create, or finish an interrupted creation
    repair = 1,            // run every step again on a ready project (claudable_reconcile)
    deprovision = 2,       // drop database and role, remove the record
    rotate = 3,            // new password for role and record, in one transaction
    inspect_template = 4,  // runs connected to claudable.template: does it hold claudable?
    heal = 6,              // a ready project whose role or database is gone: re-create it
    rotate_key = 7,        // claudable_rotate_key(): re-seal every password under a new key
    drop_owned = 8,        // runs connected to another database: DROP OWNED BY the project's role
};

struct WorkerRequest {
    std::string project_id;
    std::string owner_id;
    std::string template_name;
    std::string key_file;
    std::string host;
    int port = 0;
    WorkerJob job = WorkerJob::provision;
    std::string fault_point;  // test builds only; see testing/fault_injection.hpp
    std::string actor;        // the caller's session_user
    int connection_limit = -1;
    std::string role_settings;
    int max_projects = -1;
    int max_projects_per_owner = -1;
    int worker_start_timeout_ms = 30000;
    int worker_timeout_ms = 300000;  // also bounds every lock wait and statement inside the worker
};

struct WorkerReply {
    ProjectRecord record;  // rotate_key: record.key_fingerprint is the new key's
    bool created = false;  // this call made the project ready
    bool removed = false;                 // deprovision: there was a project, and it is gone
    bool template_has_claudable = false;  // inspect_template
};

// Serialization uses row locks on claudable tables, never advisory lock keys (which
// any role that can connect could take): claudable.provisioning_lock for reservations
// and key use (store/project_store.hpp), then the project's own row for each step.

// Runs inside the worker, connected to the metadata database as the extension's owner
// (for inspect_template: connected to the template).
WorkerReply run_worker_job(const WorkerRequest& request);

// What the job is doing, for messages: "provisioning", "rotating the password", ...
const char* job_verb(WorkerJob job);
// The job and its project, for the context line of the worker's errors.
std::string describe_job(const WorkerRequest& request);

}  // namespace claudable
