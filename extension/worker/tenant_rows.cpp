#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/tenant_rows.hpp"

#include "pg/background_worker.hpp"
#include "rules/failure.hpp"

namespace claudable {

void change_tenant_rows(const std::string& what, const std::string& username, int worker_timeout_ms,
                        const std::function<void()>& step) {
    pg::set_lock_timeout(tenant_lock_wait_ms);
    try {
        step();
    } catch (const Failure& failure) {
        pg::set_lock_timeout(worker_timeout_ms);
        if (!failure.from_postgres() || failure.sqlstate() != "55P03") throw;
        // The transaction is aborted by in_transaction, with this report instead.
        throw Failure(ErrorReport{
            "55P03",
            "claudable: " + what + " stopped: a session holds a lock on role \"" + username + "\" or its database",
            "Another session (a session of the project's own role, after ALTER ROLE or ALTER DATABASE in a "
            "transaction still open) held the row for more than " + std::to_string(tenant_lock_wait_ms) +
                " ms; nothing was changed, and no other project waited.",
            "End that transaction (pg_stat_activity shows it as 'idle in transaction' for role \"" + username +
                "\") or terminate the session, then call again."});
    }
    pg::set_lock_timeout(worker_timeout_ms);
}

}  // namespace claudable
