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
ProvisionReply run_in_worker(const ProvisionRequest& request, unsigned int database_id = 0);

// Worker side: connects a background worker to `database_id` as `role_id` and pins what
// no caller or database setting may change for it: search_path (pg_catalog, pg_temp),
// and every wait bounded by `timeout_ms` (lock_timeout, statement_timeout; 0: none).
void connect_background_worker(unsigned int database_id, unsigned int role_id, bool bypass_allowconn, int timeout_ms,
                               const char* application_name);

}  // namespace claudable
