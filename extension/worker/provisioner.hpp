// What a background worker does for each job (worker/jobs.hpp): reserve, create the
// role, create the database, lock it down, mark it ready; deprovision; rotate. Each step
// is its own transaction, run as a top-level command, so CREATE DATABASE is allowed.
//
// Serialization uses row locks on claudable tables, never advisory lock keys (which any
// role that can connect could take): claudable.provisioning_lock for reservations and key
// use (store/project_store.hpp), then the project's own row for each step.
#pragma once

#include "worker/jobs.hpp"

namespace claudable {

// Runs inside the worker, connected to the metadata database as the extension's owner
// (for an inspection or DROP OWNED: connected to that database).
WorkerReply run_worker_job(const WorkerRequest& request);

}  // namespace claudable
