#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/provisioning_worker.hpp"

#include <algorithm>
#include <climits>

#include "pg/background_worker.hpp"
#include "pg/server.hpp"
#include "pg/settings.hpp"
#include "store/key_store.hpp"
#include "testing/fault_injection.hpp"
#include "worker/provisioner.hpp"
#include "worker/wire.hpp"

namespace claudable {
namespace {

constexpr long poll_interval_ms = 1000;
constexpr char reply_message = 'D';  // the worker's answer; errors and notices come as 'E' and 'N'
constexpr char error_message = 'E';

// Waits for the worker's answer: its reply, or its error, or its exit without either.
WorkerReply receive_answer(pg::WorkerCall* call, const JobRequest& job, long long timeout_ms) {
    const long long started = pg::now_ms();
    for (;;) {
        const long long waited = pg::now_ms() - started;
        if (waited >= timeout_ms)
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: " + std::string(job_verb(job)) + " did not finish within claudable.worker_timeout",
                 "The worker keeps running in the background.",
                 "Call again: the call returns the outcome once the worker is done.");
        char type = 0;
        std::string bytes;
        switch (pg::next_message(call, type, bytes, static_cast<long>(std::min<long long>(poll_interval_ms, timeout_ms - waited)))) {
            case pg::Arrival::message:
                if (type == reply_message) return decode_reply(bytes);
                if (type == error_message) pg::raise_worker_error(bytes, describe_job(job));
                break;  // a notice: the worker's business
            case pg::Arrival::worker_gone:
                fail(sqlstate::internal_error, "claudable: the worker exited without an answer",
                     "It crashed or was killed; see the server log.",
                     "Call again: a retry completes or cleans up what was started.");
            case pg::Arrival::nothing_yet:
                break;
        }
    }
}

WorkerReply run_in_worker(const WorkerRequest& request, unsigned int database_id) {
    // A worker that may write is never started during recovery: fail now, not after the timeout.
    if (pg::recovery_in_progress()) {
        const JobRequest& job = request.job;
        if (std::holds_alternative<SnapshotRequest>(job) || std::holds_alternative<RestoreRequest>(job) ||
            std::holds_alternative<DropSnapshotRequest>(job) || std::holds_alternative<BranchRequest>(job))
            fail(sqlstate::read_only_sql_transaction,
                 "claudable: snapshots, restores and branches are made on the primary server, and this one is a standby",
                 "claudable_snapshots lists a project's snapshots here too.", "Call it on the primary server.");
        fail(sqlstate::read_only_sql_transaction, "claudable: cannot provision a new project on a standby server",
             "Projects that already exist can be looked up here; new ones need the primary.",
             "Call claudable_provision on the primary server.");
    }
    const CallerContext& context = request.context;
    pg::WorkerCall* call = pg::start_worker_call(encode_request(request), database_id, context.worker_start_timeout_ms);
    // The worker's own lock_timeout / statement_timeout equal worker_timeout: the grace
    // lets its error, which says what it waited for, arrive before the caller gives up.
    constexpr long long grace_ms = 2000;
    WorkerReply reply = receive_answer(call, request.job, static_cast<long long>(context.worker_timeout_ms) + grace_ms);
    pg::finish_worker_call(call);
    return reply;
}

template <typename Reply, typename Request>
Reply call_worker(const Request& request, const CallerContext& context, unsigned int database_id = 0) {
    WorkerReply reply = run_in_worker(WorkerRequest{context, request}, database_id);
    if (!std::holds_alternative<Reply>(reply))
        fail(sqlstate::internal_error, "claudable: the worker answered another job");
    return std::get<Reply>(std::move(reply));
}

}  // namespace

ProjectReply provision_in_worker(const ProvisionRequest& request, const CallerContext& context) {
    return call_worker<ProjectReply>(request, context);
}
DeprovisionReply deprovision_in_worker(const DeprovisionRequest& request, const CallerContext& context) {
    return call_worker<DeprovisionReply>(request, context);
}
ProjectReply rotate_password_in_worker(const RotatePasswordRequest& request, const CallerContext& context) {
    return call_worker<ProjectReply>(request, context);
}
RotateKeyReply rotate_key_in_worker(const CallerContext& context) {
    return call_worker<RotateKeyReply>(RotateKeyRequest{}, context);
}
InspectTemplateReply inspect_template_in_worker(const InspectTemplateRequest& request, const CallerContext& context,
                                                unsigned int template_id) {
    return call_worker<InspectTemplateReply>(request, context, template_id);
}
void drop_owned_in_worker(const DropOwnedRequest& request, const CallerContext& context, unsigned int database_id) {
    call_worker<DropOwnedReply>(request, context, database_id);
}

MeasureOwnedReply measure_owned_in_worker(const MeasureOwnedRequest& request, const CallerContext& context,
                                          unsigned int database_id) {
    return call_worker<MeasureOwnedReply>(request, context, database_id);
}

PreparePooledLoginReply prepare_pooled_login_in_worker(const PreparePooledLoginRequest& request,
                                                       const CallerContext& context, unsigned int database_id) {
    return call_worker<PreparePooledLoginReply>(request, context, database_id);
}

RefillSparesReply refill_spares_in_worker(const RefillSparesRequest& request, const CallerContext& context) {
    return call_worker<RefillSparesReply>(request, context);
}

SnapshotReply snapshot_in_worker(const SnapshotRequest& request, const CallerContext& context) {
    return call_worker<SnapshotReply>(request, context);
}
ProjectReply restore_in_worker(const RestoreRequest& request, const CallerContext& context) {
    return call_worker<ProjectReply>(request, context);
}
DropSnapshotReply drop_snapshot_in_worker(const DropSnapshotRequest& request, const CallerContext& context) {
    return call_worker<DropSnapshotReply>(request, context);
}
ProjectReply branch_in_worker(const BranchRequest& request, const CallerContext& context) {
    return call_worker<ProjectReply>(request, context);
}
void adopt_copy_in_worker(const AdoptCopyRequest& request, const CallerContext& context, unsigned int database_id) {
    call_worker<AdoptCopyReply>(request, context, database_id);
}
SettleSnapshotsReply settle_snapshots_in_worker(const CallerContext& context) {
    return call_worker<SettleSnapshotsReply>(SettleSnapshotsRequest{}, context);
}

void run_provisioning_worker(unsigned int segment) {
    pg::WorkerStart start = pg::attach_to_caller(segment);
    if (!start.found) return;
    const unsigned int database_id = start.database_id;
    const unsigned int role_id = start.role_id;
    bool stays = false;  // connected to the metadata database: it may serve the next call too
    // The server's setting (this worker has no session): read at each offer and wait, so a
    // reload applies to the next one.
    auto offer_for_next_call = [&] {
        if (stays) pg::offer_for_next_call(database_id, role_id, settings::current().worker_idle_timeout_ms);
    };
    for (bool connected = false;;) {
        std::string armed_fault_point;
        try {
            const WorkerRequest request = decode_request(start.payload);
            armed_fault_point = request.context.fault_point;
            if (!connected) {
                // Templates usually refuse connections (datallowconn = false), and so may a
                // database a tenant locked; the inspection and DROP OWNED still go in.
                const bool elsewhere = std::holds_alternative<InspectTemplateRequest>(request.job) ||
                                       std::holds_alternative<DropOwnedRequest>(request.job) ||
                                       std::holds_alternative<MeasureOwnedRequest>(request.job) ||
                                       std::holds_alternative<PreparePooledLoginRequest>(request.job) ||
                                       std::holds_alternative<AdoptCopyRequest>(request.job);
                pg::connect_background_worker(database_id, role_id, elsewhere, request.context.worker_timeout_ms,
                                              "claudable provisioner");
                connected = true;
                stays = !elsewhere;
            } else {
                pg::set_worker_timeout(request.context.worker_timeout_ms);  // this caller's
                forget_cached_keys();
            }
            const std::string reply = encode_reply(run_worker_job(request));
            offer_for_next_call();
            pg::send_to_caller(reply_message, reply);
        } catch (const Failure& failure) {
            offer_for_next_call();
            pg::send_error(failure.report());
        }
        pg::finish_with_caller();
        if (!stays || !connected) return;
        reach_fault_point(armed_fault_point, "after_answer");
        for (;;) {
            const unsigned int next = pg::await_next_call(settings::current().worker_idle_timeout_ms);
            if (next == 0) return;
            start = pg::attach_to_caller(next);
            if (start.found) break;
            offer_for_next_call();  // its caller gave up before this worker looked: the worker waits again
        }
    }
}

}  // namespace claudable
