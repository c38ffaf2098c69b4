#include "pg/idle_workers.hpp"

#include <cstring>

namespace claudable::pg::idle_workers {
namespace {

constexpr int slot_count = 32;

struct Slot {
    int pid;             // 0: free
    Oid database;
    Oid role;
    PGPROC* proc;        // whose latch wakes it
    dsm_handle call;     // a call handed to it, or DSM_HANDLE_INVALID
    bool leave;          // asked to leave: a caller needs its background worker slot
};

struct Table {
    slock_t mutex;
    Slot slots[slot_count];
};

Table* table = nullptr;
bool table_unavailable = false;
int my_slot = -1;
bool offered = false;  // this worker's slot takes a new call: set before it answers, cleared when one comes
bool leaves_slot_at_exit = false;

Table* the_table() noexcept {
    if (table != nullptr || table_unavailable) return table;
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        bool found = false;
        LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
        auto* shared = static_cast<Table*>(ShmemInitStruct("claudable idle workers", sizeof(Table), &found));
        if (!found) {
            memset(shared, 0, sizeof(Table));
            SpinLockInit(&shared->mutex);
            for (Slot& slot : shared->slots) slot.call = DSM_HANDLE_INVALID;
        }
        LWLockRelease(AddinShmemInitLock);
        table = shared;
    }
    PG_CATCH();
    {  // no room left in shared memory: every call starts its own worker
        MemoryContextSwitchTo(context);
        FlushErrorState();
        LWLockReleaseAll();
        table_unavailable = true;
    }
    PG_END_TRY();
    return table;
}

void forget_me(int, Datum) {
    if (table == nullptr || my_slot < 0) return;
    SpinLockAcquire(&table->mutex);
    Slot& slot = table->slots[my_slot];
    if (slot.pid == MyProcPid) {
        slot.pid = 0;
        slot.call = DSM_HANDLE_INVALID;
        slot.leave = false;
    }
    SpinLockRelease(&table->mutex);
    my_slot = -1;
}

// This worker's slot, taken on its first offer; -1 when the table is full.
int take_slot(Oid database, Oid role) noexcept {
    if (my_slot >= 0) return my_slot;
    Table* t = the_table();
    if (t == nullptr) return -1;
    SpinLockAcquire(&t->mutex);
    for (int i = 0; i < slot_count; ++i)
        if (t->slots[i].pid == 0) {
            t->slots[i] = Slot{MyProcPid, database, role, MyProc, DSM_HANDLE_INVALID, false};
            my_slot = i;
            break;
        }
    SpinLockRelease(&t->mutex);
    if (my_slot >= 0 && !leaves_slot_at_exit) {
        on_shmem_exit(forget_me, 0);
        leaves_slot_at_exit = true;
    }
    return my_slot;
}

}  // namespace

Handoff hand_over(dsm_handle segment, Oid database, Oid role) noexcept {
    Table* t = the_table();
    if (t == nullptr) return {};
    Handoff handoff;
    PGPROC* proc = nullptr;
    SpinLockAcquire(&t->mutex);
    for (int i = 0; i < slot_count; ++i) {
        Slot& slot = t->slots[i];
        if (slot.pid != 0 && slot.call == DSM_HANDLE_INVALID && !slot.leave && slot.database == database &&
            slot.role == role) {
            slot.call = segment;
            handoff = Handoff{i, slot.pid};
            proc = slot.proc;
            break;
        }
    }
    SpinLockRelease(&t->mutex);
    if (proc != nullptr) SetLatch(&proc->procLatch);
    return handoff;
}

bool still_alive(const Handoff& handoff) noexcept {
    if (table == nullptr || handoff.slot < 0) return true;
    SpinLockAcquire(&table->mutex);
    const bool alive = table->slots[handoff.slot].pid == handoff.pid;
    SpinLockRelease(&table->mutex);
    return alive;
}

void ask_all_to_leave() noexcept {
    Table* t = the_table();
    if (t == nullptr) return;
    PGPROC* idle[slot_count];
    int count = 0;
    SpinLockAcquire(&t->mutex);
    for (Slot& slot : t->slots)
        if (slot.pid != 0 && slot.call == DSM_HANDLE_INVALID) {
            slot.leave = true;
            idle[count++] = slot.proc;
        }
    SpinLockRelease(&t->mutex);
    for (int i = 0; i < count; ++i) SetLatch(&idle[i]->procLatch);
}

void offer_for_next_call(Oid database, Oid role, long idle_ms) noexcept {
    offered = false;
    if (idle_ms <= 0) {  // leaves after this call (the setting was reloaded to 0): the slot is another's
        forget_me(0, 0);
        return;
    }
    const int mine = take_slot(database, role);
    if (mine < 0) return;
    SpinLockAcquire(&table->mutex);
    table->slots[mine].call = DSM_HANDLE_INVALID;  // the last call is done: a new one may be handed over
    SpinLockRelease(&table->mutex);
    offered = true;
}

dsm_handle wait_for_next_call(long idle_ms) {
    if (!offered || my_slot < 0) return DSM_HANDLE_INVALID;  // not offered: the table is full, or idle_ms is 0
    offered = false;  // what comes, or the end of the wait, ends this offer
    Slot& slot = table->slots[my_slot];
    pgstat_report_activity(STATE_IDLE, nullptr);
    const TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), idle_ms);
    for (;;) {
        SpinLockAcquire(&table->mutex);
        dsm_handle call = slot.call;
        const bool done = call == DSM_HANDLE_INVALID && (slot.leave || GetCurrentTimestamp() >= deadline);
        if (done) {  // under the lock: a call handed over from now on finds the slot free
            slot.pid = 0;
            slot.leave = false;
            my_slot = -1;
        }
        SpinLockRelease(&table->mutex);
        if (call != DSM_HANDLE_INVALID || done) return call;
        const long remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(remaining, 1L),
                         PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
    }
}

}  // namespace claudable::pg::idle_workers
