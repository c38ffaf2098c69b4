// Runs a worker job (provisioner.hpp) in a dynamic background worker and waits for its reply.
#pragma once

#include "provisioner.hpp"
#include "settings.hpp"

namespace claudable {

// Caller side: registers the worker (waiting for a free slot up to
// claudable.worker_start_timeout), waits up to claudable.worker_timeout, and returns
// the worker's reply or throws its error with SQLSTATE, message, detail and hint.
// `database_id` other than 0 connects the worker elsewhere (the template inspection).
ProvisionReply run_in_worker(const ProvisionRequest& request, const settings::Values& values,
                                   unsigned int database_id = 0);

}  // namespace claudable
