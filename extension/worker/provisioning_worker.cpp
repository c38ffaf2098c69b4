#include "worker/provisioning_worker.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "pg/boundary.hpp"
#include "worker/wire.hpp"

extern "C" PGDLLEXPORT void claudable_provisioning_worker_main(Datum argument);

namespace claudable {
namespace {

constexpr long poll_interval_ms = 1000;
// The worker's answer queue. A message larger than the ring (a long error) streams
// through it; the caller reads while the worker writes.
constexpr Size queue_size = 16384;
constexpr std::uint32_t segment_magic = 0x636c6403;  // "cld" v3

// The segment: this header, the encoded request (sized to its content), then the queue.
struct SegmentHeader {
    std::uint32_t magic;
    Oid database_id;
    Oid role_id;
    std::uint64_t request_size;
    std::uint64_t queue_offset;
};
constexpr char reply_message = 'D';  // the worker's answer; errors and notices come as 'E' and 'N'

dsm_segment* create_segment(const std::string& request, Oid database_id) {
    const char* bytes = request.data();
    const Size size = request.size();
    return pg::call([bytes, size, database_id]() noexcept {
        const Size queue_offset = MAXALIGN(sizeof(SegmentHeader) + size);
        dsm_segment* segment = dsm_create(queue_offset + queue_size, 0);
        char* base = static_cast<char*>(dsm_segment_address(segment));
        auto* header = reinterpret_cast<SegmentHeader*>(base);
        header->magic = segment_magic;
        header->database_id = database_id != InvalidOid ? database_id : MyDatabaseId;
        header->role_id = GetUserId();  // the function's owner: SECURITY DEFINER
        header->request_size = size;
        header->queue_offset = queue_offset;
        memcpy(base + sizeof(SegmentHeader), bytes, size);
        shm_mq_set_receiver(shm_mq_create(base + queue_offset, queue_size), MyProc);
        return segment;
    });
}

BackgroundWorkerHandle* try_register(dsm_segment* segment) {
    return pg::call([segment]() noexcept {
        BackgroundWorker worker;
        memset(&worker, 0, sizeof worker);
        worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
        worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
        worker.bgw_restart_time = BGW_NEVER_RESTART;
        snprintf(worker.bgw_library_name, BGW_MAXLEN, "claudable");
        snprintf(worker.bgw_function_name, BGW_MAXLEN, "claudable_provisioning_worker_main");
        snprintf(worker.bgw_name, BGW_MAXLEN, "claudable provisioner for PID %d", MyProcPid);
        snprintf(worker.bgw_type, BGW_MAXLEN, "claudable provisioner");
        worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(segment));
        worker.bgw_notify_pid = MyProcPid;
        BackgroundWorkerHandle* handle = nullptr;
        return RegisterDynamicBackgroundWorker(&worker, &handle) ? handle : nullptr;
    });
}

// Sleeps on the latch until it is set (the postmaster sets it when our worker starts
// or stops) or `timeout_ms` passes; honours cancel and statement_timeout.
void wait_a_little(long timeout_ms) {
    pg::call([timeout_ms]() noexcept {
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    });
}

long elapsed_ms(TimestampTz since) {
    return pg::call([since]() noexcept {
        return static_cast<long>((GetCurrentTimestamp() - since) / 1000);
    });
}

BackgroundWorkerHandle* register_worker(dsm_segment* segment, int start_timeout_ms) {
    const TimestampTz started = pg::call([]() noexcept { return GetCurrentTimestamp(); });
    for (;;) {
        if (BackgroundWorkerHandle* handle = try_register(segment)) return handle;
        long waited = elapsed_ms(started);
        if (waited >= start_timeout_ms)
            fail(sqlstate::insufficient_resources, "claudable: no background worker slot is free to provision the project",
                 "Waited " + std::to_string(waited) + " ms (claudable.worker_start_timeout).",
                 "Raise max_worker_processes (a restart is needed), or retry when fewer projects are being provisioned.");
        wait_a_little(std::min<long>(100, start_timeout_ms - waited));
    }
}

// Raises the worker's error here, every field intact, with a context line naming the
// job. A worker's FATAL (it was terminated) ends the worker, not this session: ERROR.
[[noreturn]] void rethrow_worker_error(const char* data, Size size, const std::string& job) {
    const char* context = job.c_str();
    pg::call([data, size, context]() noexcept {
        StringInfoData message;
        initStringInfo(&message);
        appendBinaryStringInfo(&message, data, static_cast<int>(size));
        ErrorData error;
        memset(&error, 0, sizeof error);
        pq_parse_errornotice(&message, &error);
        error.elevel = Min(error.elevel, ERROR);
        error.context = error.context != nullptr && error.context[0] != '\0'
                            ? psprintf("%s\nclaudable worker: %s", error.context, context)
                            : psprintf("claudable worker: %s", context);
        ThrowErrorData(&error);
    });
    fail(sqlstate::internal_error, "claudable: a worker error was not raised");  // ThrowErrorData does not return
}

// Waits for the worker's answer: its reply, or its error, or its exit without either.
ProvisionReply receive_answer(dsm_segment* segment, BackgroundWorkerHandle* handle, const ProvisionRequest& request,
                              int timeout_ms) {
    shm_mq_handle* queue = pg::call([segment, handle]() noexcept {
        char* base = static_cast<char*>(dsm_segment_address(segment));
        auto* header = reinterpret_cast<SegmentHeader*>(base);
        return shm_mq_attach(reinterpret_cast<shm_mq*>(base + header->queue_offset), segment, handle);
    });
    const TimestampTz started = pg::call([]() noexcept { return GetCurrentTimestamp(); });
    for (;;) {
        Size size = 0;
        void* data = nullptr;
        const shm_mq_result result =
            pg::call([queue, &size, &data]() noexcept { return shm_mq_receive(queue, &size, &data, true); });
        if (result == SHM_MQ_SUCCESS && size > 0) {
            const char* bytes = static_cast<const char*>(data);
            if (bytes[0] == reply_message) return decode_reply(std::string(bytes + 1, size - 1));
            if (bytes[0] == 'E') rethrow_worker_error(bytes + 1, size - 1, describe_job(request));
            continue;  // a notice: the worker's business
        }
        if (result == SHM_MQ_DETACHED)
            fail(sqlstate::internal_error, "claudable: the worker exited without an answer",
                 "It crashed or was killed; see the server log.",
                 "Call again: a retry completes or cleans up what was started.");
        const long waited = elapsed_ms(started);
        if (waited >= timeout_ms)
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: " + std::string(job_verb(request.job)) + " did not finish within claudable.worker_timeout",
                 "The worker keeps running in the background.",
                 "Call again: the call returns the outcome once the worker is done.");
        wait_a_little(std::min<long>(poll_interval_ms, timeout_ms - waited));
    }
}

// ---- worker side ----

void send_reply(const ProvisionReply& reply) {
    const std::string bytes = encode_reply(reply);
    const char* data = bytes.data();
    const Size size = bytes.size();
    pg::call([data, size]() noexcept {
        StringInfoData message;
        pq_beginmessage(&message, reply_message);
        pq_sendbytes(&message, data, static_cast<int>(size));
        pq_endmessage(&message);
    });
}

void worker_main(Datum argument) {
    const dsm_handle handle = DatumGetUInt32(argument);
    SegmentHeader header{};
    const char* request_bytes = pg::call([handle, &header]() noexcept -> const char* {
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
        dsm_segment* segment = dsm_attach(handle);
        if (segment == nullptr) return nullptr;  // the caller gave up before we started
        char* base = static_cast<char*>(dsm_segment_address(segment));
        memcpy(&header, base, sizeof header);
        if (header.magic != segment_magic) return nullptr;
        // From here on every error this worker raises, FATAL included, reaches the caller whole.
        shm_mq* queue = reinterpret_cast<shm_mq*>(base + header.queue_offset);
        shm_mq_set_sender(queue, MyProc);
        pq_redirect_to_shm_mq(segment, shm_mq_attach(queue, segment, nullptr));
        return base + sizeof(SegmentHeader);
    });
    if (request_bytes == nullptr) return;
    try {
        const ProvisionRequest request = decode_request(std::string(request_bytes, header.request_size));
        // Templates usually refuse connections (datallowconn = false), and so may a database
        // a tenant locked; the inspection and DROP OWNED still go in.
        connect_background_worker(header.database_id, header.role_id,
                                  request.job == WorkerJob::inspect_template || request.job == WorkerJob::drop_owned,
                                  request.worker_timeout_ms, "claudable provisioner");
        send_reply(run_worker_job(request));
    } catch (const Failure& failure) {
        pg::send_error(failure.report());
    }
}

}  // namespace

void connect_background_worker(unsigned int database_id, unsigned int role_id, bool bypass_allowconn, int timeout_ms,
                               const char* application_name) {
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_ms);
    const uint32 flags = bypass_allowconn ? BGWORKER_BYPASS_ALLOWCONN : 0;
    pg::call([database_id, role_id, flags, &timeout, application_name]() noexcept {
        BackgroundWorkerInitializeConnectionByOid(database_id, role_id, flags);
        // Nothing a caller or a database-level setting put on the path may run with
        // the owner's rights. Every wait is bounded by claudable.worker_timeout, so a
        // session holding a lock (a tenant's, on its own role) cannot park the worker.
        SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("statement_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("application_name", application_name, PGC_SUSET, PGC_S_OVERRIDE);
        pgstat_report_appname(application_name);
    });
}

ProvisionReply run_in_worker(const ProvisionRequest& request, unsigned int database_id) {
    // A worker that may write is never started during recovery: fail now, not after the timeout.
    if (pg::call([]() noexcept { return RecoveryInProgress(); }))
        fail(sqlstate::read_only_sql_transaction, "claudable: cannot provision a new project on a standby server",
             "Projects that already exist can be looked up here; new ones need the primary.",
             "Call claudable_provision on the primary server.");
    dsm_segment* segment = create_segment(encode_request(request), database_id);
    BackgroundWorkerHandle* handle = register_worker(segment, request.worker_start_timeout_ms);
    // The worker's own lock_timeout / statement_timeout equal worker_timeout: the grace
    // lets its error, which says what it waited for, arrive before the caller gives up.
    constexpr int grace_ms = 2000;
    ProvisionReply reply = receive_answer(
        segment, handle, request,
        request.worker_timeout_ms > INT_MAX - grace_ms ? INT_MAX : request.worker_timeout_ms + grace_ms);
    pg::call([segment]() noexcept { dsm_detach(segment); });
    return reply;
}

}  // namespace claudable

extern "C" PGDLLEXPORT void claudable_provisioning_worker_main(Datum argument) {
    // ERROR: anything but a Failure (std::bad_alloc, ...) then ends the worker with a FATAL
    // that reaches the caller through the queue, instead of a LOG line nobody reads.
    claudable::pg::enter_callback(claudable::worker_main, argument, ERROR);
}
