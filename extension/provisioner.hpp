// What the background worker does for one call: reserve, create the role, create the
// database, lock it down, mark it ready. Each step is its own transaction, run as a
// top-level command, so CREATE DATABASE is allowed.
#pragma once

#include <string>

#include "project_store.hpp"

namespace claudable {

// What a worker is asked to do.
enum class WorkerJob : int {
    provision = 0,         // create, or finish an interrupted creation
    repair = 1,            // run every step again on a ready project (claudable_reconcile)
    deprovision = 2,       // drop database and role, remove the record
    rotate = 3,            // new password for role and record, in one transaction
    inspect_template = 4,  // runs connected to claudable.template: does it hold claudable?
    audit = 5,             // record one event in claudable.events, autonomously
};

struct ProvisionRequest {
    std::string project_id;
    std::string owner_id;
    std::string template_name;
    std::string key_file;
    std::string host;
    int port = 0;
    WorkerJob job = WorkerJob::provision;
    std::string fault_point;  // test builds only; see fault_injection.hpp
    std::string actor;        // the caller's session_user
    int connection_limit = -1;
    std::string role_settings;
    std::string audit_action;  // WorkerJob::audit only
    std::string audit_detail;
};

struct ProvisionReply {
    ProjectRecord record;
    bool created = false;  // this call made the project ready
    bool found = true;     // deprovision: there was a project to remove; inspect: template holds claudable
};

// Advisory locks (two-int4 form) in the metadata database. A worker holds the
// project's lock for its whole life, and the global one for the reservation only (the
// step where different projects can meet), always taken in that order. claudable_check() reads the project lock to tell a running worker from
// a stuck row; the tests hold the global one to park workers.
inline constexpr int project_lock_class = 0x636c6401;  // object: hashtext(project_id)
inline constexpr int global_lock_class = 0x636c6400;   // object: 1

// Runs inside the worker, connected to the metadata database as the extension's owner
// (for inspect_template: connected to the template).
ProvisionReply run_worker_job(const ProvisionRequest& request);

}  // namespace claudable
