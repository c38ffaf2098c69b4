// Runs a job (worker/jobs.hpp) in a dynamic background worker and waits for its reply.
#pragma once

#include "worker/jobs.hpp"

namespace claudable {

// Caller side (a backend, or a worker that needs another database): registers the
// worker (waiting for a free slot up to worker_start_timeout_ms), waits for it
// (worker_timeout_ms, plus a moment for the worker's own timeout error to arrive), and
// returns its reply or raises its error whole. `database_id` other than 0 connects the
// worker elsewhere (the template inspection, DROP OWNED in another database).
ProjectReply provision_in_worker(const ProvisionRequest& request, const CallerContext& context);
DeprovisionReply deprovision_in_worker(const DeprovisionRequest& request, const CallerContext& context);
ProjectReply rotate_password_in_worker(const RotatePasswordRequest& request, const CallerContext& context);
RotateKeyReply rotate_key_in_worker(const CallerContext& context);
InspectTemplateReply inspect_template_in_worker(const InspectTemplateRequest& request, const CallerContext& context,
                                                unsigned int template_id);
void drop_owned_in_worker(const DropOwnedRequest& request, const CallerContext& context, unsigned int database_id);
RefillSparesReply refill_spares_in_worker(const RefillSparesRequest& request, const CallerContext& context);
MeasureOwnedReply measure_owned_in_worker(const MeasureOwnedRequest& request, const CallerContext& context,
                                          unsigned int database_id);
PreparePooledLoginReply prepare_pooled_login_in_worker(const PreparePooledLoginRequest& request,
                                                       const CallerContext& context, unsigned int database_id);

SnapshotReply snapshot_in_worker(const SnapshotRequest& request, const CallerContext& context);
ProjectReply restore_in_worker(const RestoreRequest& request, const CallerContext& context);
DropSnapshotReply drop_snapshot_in_worker(const DropSnapshotRequest& request, const CallerContext& context);
ProjectReply branch_in_worker(const BranchRequest& request, const CallerContext& context);
void adopt_copy_in_worker(const AdoptCopyRequest& request, const CallerContext& context, unsigned int database_id);
SettleSnapshotsReply settle_snapshots_in_worker(const CallerContext& context);

// Worker side: the body of claudable_provisioning_worker_main (pg/background_worker.cpp):
// reads the request from the caller's segment, runs the job, and sends the reply or the
// error back.
void run_provisioning_worker(unsigned int segment);

}  // namespace claudable
