#include "pg/background_worker.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "pg/boundary.hpp"
#include "pg/idle_workers.hpp"
#include "worker/provisioning_worker.hpp"
#include "worker/refusal_queue.hpp"
#include "worker/spare_pool.hpp"

extern "C" {
PGDLLEXPORT void claudable_provisioning_worker_main(Datum argument);
PGDLLEXPORT void claudable_refusal_drainer_main(Datum argument);
PGDLLEXPORT void claudable_spare_refiller_main(Datum argument);
}

namespace claudable::pg {

// The segment: this header, the payload (sized to its content), then the answer queue. A
// message larger than the ring (a long error) streams through it while the caller reads.
struct SegmentHeader {
    std::uint32_t magic;
    Oid database_id;
    Oid role_id;
    std::uint64_t payload_size;
    std::uint64_t queue_offset;
};
constexpr std::uint32_t segment_magic = 0x636c6403;  // "cld" v3
constexpr Size queue_size = 16384;

struct WorkerCall {
    dsm_segment* segment;
    BackgroundWorkerHandle* handle;  // of a worker started for this call; null when an idle one took it
    idle_workers::Handoff handoff;
    shm_mq_handle* queue;
};

namespace {

BackgroundWorker worker_entry(const char* function, const char* type) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "claudable");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
    snprintf(worker.bgw_name, BGW_MAXLEN, "%s for PID %d", type, MyProcPid);
    snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
    return worker;
}

}  // namespace

long long now_us() {
    return call([]() noexcept { return static_cast<long long>(GetCurrentTimestamp()); });
}

long long now_ms() {
    return call([]() noexcept { return static_cast<long long>(GetCurrentTimestamp() / 1000); });
}

WorkerCall* start_worker_call(const std::string& payload, unsigned int database_id, int start_timeout_ms) {
    const char* bytes = payload.data();
    const Size size = payload.size();
    WorkerCall* worker_call = call([bytes, size, database_id]() noexcept {
        const Size queue_offset = MAXALIGN(sizeof(SegmentHeader) + size);
        dsm_segment* segment = dsm_create(queue_offset + queue_size, 0);
        char* base = static_cast<char*>(dsm_segment_address(segment));
        auto* header = reinterpret_cast<SegmentHeader*>(base);
        header->magic = segment_magic;
        header->database_id = database_id != InvalidOid ? database_id : MyDatabaseId;
        header->role_id = GetUserId();  // the function's owner: SECURITY DEFINER
        header->payload_size = size;
        header->queue_offset = queue_offset;
        memcpy(base + sizeof(SegmentHeader), bytes, size);
        shm_mq_set_receiver(shm_mq_create(base + queue_offset, queue_size), MyProc);
        auto* created = static_cast<WorkerCall*>(palloc0(sizeof(WorkerCall)));
        created->segment = segment;
        created->handoff = idle_workers::Handoff{};
        return created;
    });
    // A worker that stays after its call serves this database and role only.
    auto hand_over = [worker_call]() noexcept {
        char* base = static_cast<char*>(dsm_segment_address(worker_call->segment));
        auto* header = reinterpret_cast<SegmentHeader*>(base);
        worker_call->handoff =
            idle_workers::hand_over(dsm_segment_handle(worker_call->segment), header->database_id, header->role_id);
        if (worker_call->handoff.slot < 0) return false;
        worker_call->queue =
            shm_mq_attach(reinterpret_cast<shm_mq*>(base + header->queue_offset), worker_call->segment, nullptr);
        return true;
    };
    const long long started = now_ms();
    for (;;) {
        if (database_id == 0 && call(hand_over)) return worker_call;
        const bool registered = call([worker_call]() noexcept {
            BackgroundWorker worker = worker_entry("claudable_provisioning_worker_main", "claudable provisioner");
            worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(worker_call->segment));
            worker.bgw_notify_pid = MyProcPid;
            if (!RegisterDynamicBackgroundWorker(&worker, &worker_call->handle)) return false;
            char* base = static_cast<char*>(dsm_segment_address(worker_call->segment));
            auto* header = reinterpret_cast<SegmentHeader*>(base);
            worker_call->queue = shm_mq_attach(reinterpret_cast<shm_mq*>(base + header->queue_offset),
                                               worker_call->segment, worker_call->handle);
            return true;
        });
        if (registered) return worker_call;
        call([]() noexcept { idle_workers::ask_all_to_leave(); });  // idle workers of other databases hold slots
        const long long waited = now_ms() - started;
        if (waited >= start_timeout_ms)
            fail(sqlstate::insufficient_resources, "claudable: no background worker slot is free to run the call",
                 "Waited " + std::to_string(waited) + " ms (claudable.worker_start_timeout).",
                 "Raise max_worker_processes (a restart is needed), or retry when fewer projects are being provisioned.");
        pause_ms(static_cast<long>(std::min<long long>(100, start_timeout_ms - waited)));
    }
}

Arrival next_message(WorkerCall* worker_call, char& type, std::string& bytes, long wait_ms) {
    for (int look = 0; look < 2; ++look) {
        Size size = 0;
        void* data = nullptr;
        shm_mq_handle* queue = worker_call->queue;
        const shm_mq_result result =
            call([queue, &size, &data]() noexcept { return shm_mq_receive(queue, &size, &data, true); });
        if (result == SHM_MQ_SUCCESS && size > 0) {
            type = static_cast<const char*>(data)[0];
            bytes.assign(static_cast<const char*>(data) + 1, size - 1);
            return Arrival::message;
        }
        if (result == SHM_MQ_DETACHED) return Arrival::worker_gone;
        // An idle worker that took the call and died before it attached leaves no trace in the queue.
        const idle_workers::Handoff handoff = worker_call->handoff;
        if (!call([handoff]() noexcept { return idle_workers::still_alive(handoff); })) return Arrival::worker_gone;
        if (look == 0) pause_ms(wait_ms);
    }
    return Arrival::nothing_yet;
}

void raise_worker_error(const std::string& bytes, const std::string& context) {
    const char* data = bytes.data();
    const Size size = bytes.size();
    const char* job = context.c_str();
    call([data, size, job]() noexcept {
        StringInfoData message;
        initStringInfo(&message);
        appendBinaryStringInfo(&message, data, static_cast<int>(size));
        ErrorData error;
        memset(&error, 0, sizeof error);
        pq_parse_errornotice(&message, &error);
        error.elevel = Min(error.elevel, ERROR);
        error.context = error.context != nullptr && error.context[0] != '\0'
                            ? psprintf("%s\nclaudable worker: %s", error.context, job)
                            : psprintf("claudable worker: %s", job);
        ThrowErrorData(&error);
    });
    fail(sqlstate::internal_error, "claudable: a worker error was not raised");  // ThrowErrorData does not return
}

void finish_worker_call(WorkerCall* worker_call) {
    call([worker_call]() noexcept {
        dsm_detach(worker_call->segment);
        pfree(worker_call);
    });
}

namespace {
dsm_segment* caller_segment = nullptr;  // of the call this worker is serving
}  // namespace

WorkerStart attach_to_caller(unsigned int segment_handle) {
    WorkerStart start;
    SegmentHeader header{};
    const char* payload = call([segment_handle, &header]() noexcept -> const char* {
        pqsignal(SIGTERM, die);
        pqsignal(SIGHUP, SignalHandlerForConfigReload);
        BackgroundWorkerUnblockSignals();
        dsm_segment* segment = dsm_attach(segment_handle);
        if (segment == nullptr) return nullptr;  // the caller gave up before we started
        char* base = static_cast<char*>(dsm_segment_address(segment));
        memcpy(&header, base, sizeof header);
        if (header.magic != segment_magic) {
            dsm_detach(segment);
            return nullptr;
        }
        caller_segment = segment;
        // From here on every error this worker raises, FATAL included, reaches the caller whole.
        shm_mq* queue = reinterpret_cast<shm_mq*>(base + header.queue_offset);
        shm_mq_set_sender(queue, MyProc);
        pq_redirect_to_shm_mq(segment, shm_mq_attach(queue, segment, nullptr));
        return base + sizeof(SegmentHeader);
    });
    if (payload == nullptr) return start;
    start.found = true;
    start.database_id = header.database_id;
    start.role_id = header.role_id;
    start.payload.assign(payload, header.payload_size);
    return start;
}

void finish_with_caller() {
    call([]() noexcept {
        if (caller_segment != nullptr) dsm_detach(caller_segment);  // output goes to the log again
        caller_segment = nullptr;
    });
}

void offer_for_next_call(unsigned int database_id, unsigned int role_id, long idle_ms) {
    call([database_id, role_id, idle_ms]() noexcept { idle_workers::offer_for_next_call(database_id, role_id, idle_ms); });
}

unsigned int await_next_call(long idle_ms) {
    return call([idle_ms]() noexcept { return static_cast<unsigned int>(idle_workers::wait_for_next_call(idle_ms)); });
}

void send_to_caller(char type, const std::string& bytes) {
    const char* data = bytes.data();
    const Size size = bytes.size();
    call([type, data, size]() noexcept {
        StringInfoData message;
        pq_beginmessage(&message, type);
        pq_sendbytes(&message, data, static_cast<int>(size));
        pq_endmessage(&message);
    });
}

bool start_detached_worker(DetachedWorker kind) {
    const bool drainer = kind == DetachedWorker::refusal_drainer;
    return call([drainer]() noexcept {
        BackgroundWorker worker = drainer ? worker_entry("claudable_refusal_drainer_main", "claudable refusal drainer")
                                          : worker_entry("claudable_spare_refiller_main", "claudable spare refiller");
        worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
        const Oid role = GetUserId();  // the function's owner: SECURITY DEFINER
        memcpy(worker.bgw_extra, &role, sizeof role);
        return RegisterDynamicBackgroundWorker(&worker, nullptr);
    });
}

void set_worker_timeout(int timeout_ms) {
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_ms);
    call([&timeout]() noexcept {
        SetConfigOption("statement_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
    });
}

void set_lock_timeout(int timeout_ms) {
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_ms);
    call([&timeout]() noexcept { SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE); });
}

void connect_background_worker(unsigned int database_id, unsigned int role_id, bool bypass_allowconn, int timeout_ms,
                               const char* application_name) {
    const uint32 flags = bypass_allowconn ? BGWORKER_BYPASS_ALLOWCONN : 0;
    call([database_id, role_id, flags, application_name]() noexcept {
        BackgroundWorkerInitializeConnectionByOid(database_id, role_id, flags);
        // Nothing a caller or a database-level setting put on the path may run with
        // the owner's rights.
        SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
        // A database's owner may ALTER DATABASE ... SET role: the worker stays the owner.
        SetConfigOption("role", "none", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("application_name", application_name, PGC_SUSET, PGC_S_OVERRIDE);
        pgstat_report_appname(application_name);
    });
    // Every wait is bounded by claudable.worker_timeout, so a session holding a lock (a
    // tenant's, on its own role) cannot park the worker.
    set_worker_timeout(timeout_ms);
}

namespace {

void provisioning_worker_entry(Datum argument) {
    run_provisioning_worker(DatumGetUInt32(argument));
}

// A detached worker's database is its argument, its role the start's bgw_extra.
Oid detached_worker_role() {
    Oid role_id;
    memcpy(&role_id, MyBgworkerEntry->bgw_extra, sizeof role_id);
    call([]() noexcept {
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
    });
    return role_id;
}

void refusal_drainer_entry(Datum argument) {
    run_refusal_drainer(DatumGetObjectId(argument), detached_worker_role());
}

void spare_refiller_entry(Datum argument) {
    run_spare_refiller(DatumGetObjectId(argument), detached_worker_role());
}

}  // namespace
}  // namespace claudable::pg

// ERROR for the provisioning worker: anything but a Failure (std::bad_alloc, ...) then
// ends it with a FATAL that reaches the caller through the queue. The detached workers
// have nobody to tell: LOG.
extern "C" void claudable_provisioning_worker_main(Datum argument) {
    claudable::pg::enter_callback(claudable::pg::provisioning_worker_entry, argument, ERROR);
}
extern "C" void claudable_refusal_drainer_main(Datum argument) {
    claudable::pg::enter_callback(claudable::pg::refusal_drainer_entry, argument, LOG);
}
extern "C" void claudable_spare_refiller_main(Datum argument) {
    claudable::pg::enter_callback(claudable::pg::spare_refiller_entry, argument, LOG);
}
