// The spare pool: databases copied from claudable.template ahead of time, each owned by
// a NOLOGIN role of the same name, so that a cold claudable_provision renames one
// (worker/provisioner.cpp claims it) instead of waiting for the copy.
//
// Every change to a spare is a transaction of its own, and each leaves a state the next
// refill completes or undoes: a spare being made (a role, maybe a database) or retired is
// dropped; only a ready spare that fits the template and is intact is ever claimed.
// One refill runs at a time per metadata database (worker/single_runner.hpp).
#pragma once

#include <string>

#include "worker/jobs.hpp"

namespace claudable {

// Inside a worker connected to the metadata database, to the server's settings as the
// configuration files say now (claudable.spare_databases, claudable.template): drops what
// is being made or retired, what no longer fits the template or was changed, and spares
// beyond the target; then checks the template and copies it until the target is ready.
// Waits for a refill that is running (up to the caller's worker_timeout) and returns how
// many spares are ready.
int refill_spares_now(const CallerContext& context);

// After a provisioning, in its worker: starts the detached refiller unless one is
// running or starting. Never fails the provisioning that asked.
void request_refill();

// The body of claudable_spare_refiller_main (pg/background_worker.cpp): refills to the
// server's own claudable.spare_databases and claudable.template, then exits.
void run_spare_refiller(unsigned int database_id, unsigned int role_id);

}  // namespace claudable
