// Refusals raised in a calling backend (a wrong owner_id) are audited without one
// background worker per refused call. The refusal's transaction is rolled back with the
// error, so its event cannot be inserted there: it is appended to a small queue file of
// this metadata database instead (outside any transaction), and one drainer worker at a
// time moves the queue into claudable.events. A burst of refusals starts one drainer.
#pragma once

#include <string>

namespace claudable {

struct Refusal {
    std::string action;  // provision, deprovision, rotate
    std::string project_id;
    std::string owner_id;
    std::string actor;  // the caller's session_user
};

// Caller side: queue the refusal, then start a drainer unless one is running. A queue
// file that cannot be written costs the audit row, not the caller's answer (the LOG line
// remains); a PostgreSQL error is raised as always.
void queue_refusal(const Refusal& refusal);

// The body of claudable_refusal_drainer_main (pg/background_worker.cpp): connects to the
// metadata database and moves the queue into claudable.events.
void run_refusal_drainer(unsigned int database_id, unsigned int role_id);
void drain_refusals();

}  // namespace claudable
