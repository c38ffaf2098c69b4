// Runs a worker job (worker/provisioner.hpp) in a dynamic background worker and waits for its reply.
#pragma once

#include "worker/provisioner.hpp"

namespace claudable {

// Caller side (a backend, or a worker that needs another database): registers the
// worker (waiting for a free slot up to request.worker_start_timeout_ms), waits for it
// (request.worker_timeout_ms, plus a moment for the worker's own timeout error to
// arrive), and returns its reply or throws its error with SQLSTATE, message, detail and
// hint. `database_id` other than 0 connects the worker elsewhere (the template
// inspection, DROP OWNED in another database).
WorkerReply run_in_worker(const WorkerRequest& request, unsigned int database_id = 0);

// Worker side: the body of claudable_provisioning_worker_main (pg/background_worker.cpp):
// reads the request from the caller's segment, runs the job, and sends the reply or the
// error back.
void run_provisioning_worker(unsigned int segment);

}  // namespace claudable
