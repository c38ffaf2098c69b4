// Fault points for the crash tests. They exist only in a build made with
// `make FAULT_INJECTION=1` (which `make test` uses); a production build compiles
// them to nothing and does not even define the setting claudable.fault_point.
//
// When the superuser-only setting names a point, the worker reports
// "claudable: fault point <name>" in pg_stat_activity and then waits for the
// advisory lock (fault_lock_class, 0). A test that holds that lock keeps the worker
// parked there, to kill it (kill -9, immediate shutdown) or to let it go on.
#pragma once

#include <string>

namespace claudable {

inline constexpr const char* fault_points[] = {
    "before_reservation", "after_reservation", "after_role",   "after_database", "before_ready",  "deprovision_marked",
    "deprovision_locked_out",
    // inside the one transaction that claims a spare (worker/provisioner.cpp)
    "claim_locked",      "claim_renamed", "claim_recorded",
    // snapshots, restores and branches (worker/snapshots.cpp, worker/branches.cpp); *_copied,
    // *_swapped and *_adopted sit inside the transaction that would commit the step
    "snapshot_recorded", "snapshot_copied", "restore_recorded", "restore_staged", "restore_swapped",
    "branch_reserved",   "branch_copied",   "branch_adopted",
    // a worker that stays, after it answered and before it waits (worker/provisioning_worker.cpp)
    "after_answer"};
inline constexpr int fault_lock_class = 0x636c6402;

#ifdef CLAUDABLE_FAULT_INJECTION
void define_fault_injection_setting();
std::string armed_fault_point();  // the session's claudable.fault_point, or ""
void reach_fault_point(const std::string& armed, const char* point);
#else
inline void define_fault_injection_setting() {}
inline std::string armed_fault_point() { return {}; }
inline void reach_fault_point(const std::string&, const char*) {}
#endif

}  // namespace claudable
