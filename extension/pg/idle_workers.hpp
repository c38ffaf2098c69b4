// Provisioning workers that stay for the next call: after its job, a worker connected to
// the metadata database waits up to claudable.worker_idle_timeout for another call of the
// same database and role, so a burst of calls forks one worker per concurrent call, not
// one per call. A worker connected elsewhere (a template, another project's database)
// never stays: it would keep CREATE DATABASE from copying that template.
//
// Without shared_preload_libraries there is no shmem_request_hook, so, as autoprewarm
// does, the small table of idle workers is placed in the main shared memory segment's
// spare room by the first backend that needs it. If there is none, nothing stays and
// every call starts its own worker, as before.
//
// Internal to pg/: these run inside pg::call bodies (background_worker.cpp). None raises
// an error except wait_for_next_call, through CHECK_FOR_INTERRUPTS.
#pragma once

#include "pg/headers.hpp"

namespace claudable::pg::idle_workers {

struct Handoff {
    int slot = -1;  // -1: no idle worker took the call
    int pid = 0;
};

// Caller side: hands the call in `segment` to an idle worker connected to `database` as
// `role` and wakes it.
Handoff hand_over(dsm_handle segment, Oid database, Oid role) noexcept;
// Whether the worker that took the call is still alive (it may die before it attaches).
bool still_alive(const Handoff& handoff) noexcept;
// A caller found no free background worker slot: idle workers of any database leave.
void ask_all_to_leave() noexcept;

// Worker side, before it answers its caller: from here on a call of `database` and `role`
// may be handed to this worker. The caller's next call can come the moment it has the
// answer, before the worker gets to wait: offered only after answering, that call would
// find no worker and fork one. Nothing when `idle_ms` is 0 (the worker leaves after).
void offer_for_next_call(Oid database, Oid role, long idle_ms) noexcept;
// Worker side, after answering: waits, idle, up to `idle_ms` for a call handed to it.
// Returns its segment, or DSM_HANDLE_INVALID when none came (the worker then leaves).
dsm_handle wait_for_next_call(long idle_ms);

}  // namespace claudable::pg::idle_workers
