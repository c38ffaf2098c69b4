#include "provisioning_worker.hpp"

#include <cstdio>
#include <cstring>

#include "pg_boundary.hpp"
#include "provision_exchange.hpp"

extern "C" PGDLLEXPORT void claudable_provisioning_worker_main(Datum argument);

namespace claudable {
namespace {

constexpr long poll_interval_ms = 1000;

template <std::size_t N>
void copy_into(char (&field)[N], const std::string& value) {
    snprintf(field, N, "%s", value.c_str());
}

ProvisionExchange* create_exchange(dsm_segment** segment) {
    return pg::call([segment]() noexcept {
        *segment = dsm_create(sizeof(ProvisionExchange), 0);
        auto* exchange = static_cast<ProvisionExchange*>(dsm_segment_address(*segment));
        memset(exchange, 0, sizeof(ProvisionExchange));
        return exchange;
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

void wait_for_worker(BackgroundWorkerHandle* handle, int timeout_ms) {
    const TimestampTz started = pg::call([]() noexcept { return GetCurrentTimestamp(); });
    for (;;) {
        BgwHandleStatus status = pg::call([handle]() noexcept {
            pid_t pid;
            return GetBackgroundWorkerPid(handle, &pid);
        });
        if (status == BGWH_STOPPED) return;
        if (status == BGWH_POSTMASTER_DIED)
            fail("57P01", "claudable: the server shut down while the project was being provisioned",
                 {}, "Call claudable_provision again once the server is back: the call is idempotent.");
        long waited = elapsed_ms(started);
        if (waited >= timeout_ms)
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: provisioning did not finish within claudable.worker_timeout",
                 "The worker keeps running in the background.",
                 "Call claudable_provision again: it returns the project once the worker is done.");
        wait_a_little(std::min<long>(poll_interval_ms, timeout_ms - waited));
    }
}

ProvisionReply read_reply(const ProvisionExchange& exchange, const std::string& project_id) {
    pg_read_barrier();
    switch (exchange.outcome) {
        case WorkerOutcome::ready: {
            ProvisionReply reply;
            reply.created = exchange.created;
            reply.found = exchange.found;
            ProjectRecord& r = reply.record;
            r.project_id = project_id;
            r.owner_id = exchange.owner_id;
            r.database_name = exchange.database_name;
            r.username = exchange.username;
            r.host = exchange.recorded_host;
            r.port = exchange.recorded_port;
            r.status = "ready";
            r.created_at = exchange.created_at;
            r.key_fingerprint = exchange.key_fingerprint;
            r.sealed_password.assign(reinterpret_cast<const char*>(exchange.sealed_password),
                                     static_cast<std::size_t>(exchange.sealed_length));
            return reply;
        }
        case WorkerOutcome::failed:
            throw Failure(ErrorReport{exchange.sqlstate, exchange.message, exchange.detail, exchange.hint});
        case WorkerOutcome::none:
            break;
    }
    fail(sqlstate::internal_error, "claudable: the provisioning worker exited without an answer",
         "It was terminated or crashed; see the server log.",
         "Call claudable_provision again: a retry completes or cleans up what was started.");
}

// ---- worker side ----

void write_reply(ProvisionExchange& exchange, const ProvisionReply& reply) {
    exchange.created = reply.created;
    exchange.found = reply.found;
    copy_into(exchange.database_name, reply.record.database_name);
    copy_into(exchange.username, reply.record.username);
    copy_into(exchange.recorded_host, reply.record.host);
    exchange.recorded_port = reply.record.port;
    exchange.created_at = reply.record.created_at;
    copy_into(exchange.key_fingerprint, reply.record.key_fingerprint);
    if (reply.record.sealed_password.size() > max_sealed_bytes)
        fail(sqlstate::internal_error, "claudable: stored password is larger than the reply can carry");
    std::memcpy(exchange.sealed_password, reply.record.sealed_password.data(), reply.record.sealed_password.size());
    exchange.sealed_length = static_cast<std::int32_t>(reply.record.sealed_password.size());
    pg_write_barrier();
    exchange.outcome = WorkerOutcome::ready;
}

void write_failure(ProvisionExchange& exchange, const ErrorReport& report) {
    copy_into(exchange.sqlstate, report.sqlstate);
    copy_into(exchange.message, report.message);
    copy_into(exchange.detail, report.detail);
    copy_into(exchange.hint, report.hint);
    pg_write_barrier();
    exchange.outcome = WorkerOutcome::failed;
}

void worker_main(Datum argument) {
    const dsm_handle handle = DatumGetUInt32(argument);
    ProvisionExchange* exchange = pg::call([handle]() noexcept {
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
        dsm_segment* segment = dsm_attach(handle);
        return segment != nullptr ? static_cast<ProvisionExchange*>(dsm_segment_address(segment)) : nullptr;
    });
    if (exchange == nullptr || exchange->magic != exchange_magic) return;  // the caller gave up before we started
    // Templates usually refuse connections (datallowconn = false), and so may a database
    // a tenant locked; the inspection and DROP OWNED still go in.
    const WorkerJob job = static_cast<WorkerJob>(exchange->job);
    connect_background_worker(exchange->database_id, exchange->role_id,
                              job == WorkerJob::inspect_template || job == WorkerJob::drop_owned,
                              exchange->worker_timeout_ms, "claudable provisioner");

    ProvisionRequest request;
    request.project_id = exchange->project_id;
    request.owner_id = exchange->owner_id;
    request.template_name = exchange->template_name;
    request.key_file = exchange->key_file;
    request.host = exchange->host;
    request.port = exchange->port;
    request.job = static_cast<WorkerJob>(exchange->job);
    request.fault_point = exchange->fault_point;
    request.actor = exchange->actor;
    request.connection_limit = exchange->connection_limit;
    request.role_settings = exchange->role_settings;
    request.max_projects = exchange->max_projects;
    request.max_projects_per_owner = exchange->max_projects_per_owner;
    request.worker_start_timeout_ms = exchange->worker_start_timeout_ms;
    request.worker_timeout_ms = exchange->worker_timeout_ms;
    try {
        write_reply(*exchange, run_worker_job(request));
    } catch (const Failure& failure) {
        write_failure(*exchange, failure.report());
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
    if (request.key_file.size() >= MAXPGPATH)
        fail(sqlstate::config_file_error, "claudable: claudable.key_file is longer than the server's path limit");
    dsm_segment* segment = nullptr;
    ProvisionExchange* exchange = create_exchange(&segment);
    exchange->magic = exchange_magic;
    pg::call([exchange, database_id]() noexcept {
        exchange->database_id = database_id != InvalidOid ? database_id : MyDatabaseId;
        exchange->role_id = GetUserId();  // the function's owner: SECURITY DEFINER
    });
    copy_into(exchange->project_id, request.project_id);
    copy_into(exchange->owner_id, request.owner_id);
    copy_into(exchange->template_name, request.template_name);
    copy_into(exchange->key_file, request.key_file);
    copy_into(exchange->host, request.host);
    exchange->port = request.port;
    exchange->job = static_cast<std::int32_t>(request.job);
    copy_into(exchange->fault_point, request.fault_point);
    copy_into(exchange->actor, request.actor);
    exchange->connection_limit = request.connection_limit;
    if (request.role_settings.size() >= max_role_settings_bytes)
        fail(sqlstate::invalid_parameter_value, "claudable.role_settings is longer than 1023 bytes");
    copy_into(exchange->role_settings, request.role_settings);
    exchange->max_projects = request.max_projects;
    exchange->max_projects_per_owner = request.max_projects_per_owner;
    exchange->worker_start_timeout_ms = request.worker_start_timeout_ms;
    exchange->worker_timeout_ms = request.worker_timeout_ms;
    pg_write_barrier();

    BackgroundWorkerHandle* handle = register_worker(segment, request.worker_start_timeout_ms);
    // The worker's own lock_timeout / statement_timeout equal worker_timeout: the grace
    // lets its error, which says what it waited for, arrive before the caller gives up.
    constexpr int grace_ms = 2000;
    wait_for_worker(handle, request.worker_timeout_ms > INT_MAX - grace_ms ? INT_MAX
                                                                           : request.worker_timeout_ms + grace_ms);
    ProvisionReply reply = read_reply(*exchange, request.project_id);
    pg::call([segment]() noexcept { dsm_detach(segment); });
    return reply;
}

}  // namespace claudable

extern "C" PGDLLEXPORT void claudable_provisioning_worker_main(Datum argument) {
    claudable::pg::enter_callback(claudable::worker_main, argument, LOG);
}
