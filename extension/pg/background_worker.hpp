// This library's dynamic background workers, declared without PostgreSQL headers: the
// worker/ files decide what a worker does and what it answers; this is how it is started,
// how the answer crosses (a segment sized to the request, a shm_mq for the answer), and
// where PostgreSQL enters it.
#pragma once

#include <string>

namespace claudable::pg {

// ---- a worker that answers its caller -------------------------------------------------
struct WorkerCall;  // opaque; its segment belongs to the caller's transaction

// Hands `payload` (in a segment sized to it) to a worker connected to `database_id` (0:
// this database) as the current user: an idle one of this database if there is one
// (pg/idle_workers.hpp), else a new one (entry: claudable_provisioning_worker_main).
// Registration is retried while no slot is free, for up to `start_timeout_ms`; then 53000.
WorkerCall* start_worker_call(const std::string& payload, unsigned int database_id, int start_timeout_ms);

enum class Arrival { message, nothing_yet, worker_gone };
// The worker's next message (its type byte and the rest), or nothing after `wait_ms`
// (cancel and statement_timeout end the wait), or the worker gone without another one.
Arrival next_message(WorkerCall* call, char& type, std::string& bytes, long wait_ms);
// Raises an error the worker sent ('E'): every field kept, at most ERROR (a worker's FATAL
// ends the worker, not the caller), with `context` as a context line.
[[noreturn]] void raise_worker_error(const std::string& bytes, const std::string& context);
void finish_worker_call(WorkerCall* call);

// Worker side: what the caller asked, with this worker's errors (FATAL included) sent to
// the caller from now on. `found` is false when the caller gave up before the worker started.
struct WorkerStart {
    bool found = false;
    unsigned int database_id = 0;
    unsigned int role_id = 0;
    std::string payload;
};
WorkerStart attach_to_caller(unsigned int segment);
void send_to_caller(char type, const std::string& bytes);
// Detaches from the call's segment: from here on, errors go to the server log only.
void finish_with_caller();
// Before answering: another call of this database and role may be handed to this worker
// from now on (pg/idle_workers.hpp). Nothing when `idle_ms` is 0.
void offer_for_next_call(unsigned int database_id, unsigned int role_id, long idle_ms);
// After answering: waits, idle, up to `idle_ms` for a call handed to this worker; its
// segment, or 0 when none came (or it was never offered) and the worker should exit.
unsigned int await_next_call(long idle_ms);
// The bound on every lock wait and statement of the next job (lock_timeout, statement_timeout).
void set_worker_timeout(int timeout_ms);
// lock_timeout alone, for one step (worker/tenant_rows.hpp).
void set_lock_timeout(int timeout_ms);

// ---- a worker nobody waits for ---------------------------------------------------------
enum class DetachedWorker {
    refusal_drainer,  // entry claudable_refusal_drainer_main: worker/refusal_queue.hpp
    spare_refiller,   // entry claudable_spare_refiller_main: worker/spare_pool.hpp
};
// Starts one connected to this database as the current user. False when no slot is free.
bool start_detached_worker(DetachedWorker kind);

// Connects the calling worker to `database_id` as `role_id` and pins what no caller or
// database setting may change for it: search_path (pg_catalog, pg_temp), read-write, and
// every wait bounded by `timeout_ms` (lock_timeout, statement_timeout; 0: none).
void connect_background_worker(unsigned int database_id, unsigned int role_id, bool bypass_allowconn, int timeout_ms,
                               const char* application_name);

// Milliseconds on the server's clock, for the caller's deadlines.
// Microseconds since 2000-01-01 (GetCurrentTimestamp): comparable across processes.
long long now_us();
long long now_ms();

}  // namespace claudable::pg
