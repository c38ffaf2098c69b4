// `claudable pooler-sync`: keeps PgBouncer's [databases] entries current for a fleet (README,
// "Pooled URLs"). It LISTENs on the directory's channel claudable_pooler (the directory's
// claudable_provision and claudable_deprovision NOTIFY it, at the caller's commit, when a
// project was created, placed or removed), reads every project's entry as pgbouncer-config
// does, writes pgbouncer-databases.ini atomically when it changed, and sends RELOAD to
// PgBouncer's admin console. It also syncs once at start, on each (re)connection, and every
// interval as a safety net. Notifications are coalesced: however many arrive, there is at
// most one sync per coalescing interval, and their payload is never read.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "claudable/pgbouncer_config.hpp"

namespace claudable {

inline constexpr const char* pooler_channel = "claudable_pooler";

struct PoolerSyncOptions {
    // The pooler role's connection string or URL on the fleet directory (or on a single
    // server); empty means libpq's defaults (PG* variables, .pgpass).
    std::string admin_connection;
    // Where pgbouncer-databases.ini (and, without auth_user, userlist.txt) is written.
    std::string out_dir;
    std::string pool_mode = "transaction";
    // Each entry names it (auth_user=...): PgBouncer asks the project's own server for the
    // verifier at each login (auth_query through pg_catalog.claudable_pooler_lookup), so no
    // verifier is read or written. Empty: userlist.txt of verifiers too, as pgbouncer-config.
    std::string auth_user;
    // PgBouncer's admin console (postgresql://ADMIN_USER@HOST:PORT/pgbouncer, its password from
    // .pgpass or PGPASSWORD); empty: no RELOAD is sent.
    std::string pgbouncer_admin;
    // A sync at least this often, notified or not.
    std::chrono::milliseconds interval{30000};
    // At least this long between the end of one sync and the start of the next: notifications
    // that arrive meanwhile make one sync together.
    std::chrono::milliseconds coalesce{200};
    // After a failure (the directory or a server unreachable, PgBouncer down), the next
    // attempt waits from 250 ms, doubling, up to this.
    std::chrono::milliseconds max_backoff{5000};
    // sync_once(): how long transient faults are retried.
    std::chrono::milliseconds retry_budget{10000};
    int connect_timeout_seconds = 5;
    // One line per event, without a newline: never a password, a verifier or a URL.
    std::function<void(const std::string&)> log;
};

// What one sync did.
struct PoolerSyncReport {
    PgbouncerConfigResult entries;  // written and skipped
    std::size_t servers = 0;        // servers among the written entries (a single server: 1)
    bool changed = false;           // the files were written (always on the first sync)
    std::size_t added = 0;          // databases added and removed since the previous sync
    std::size_t removed = 0;
    bool reloaded = false;          // PgBouncer accepted RELOAD
};

class PoolerSync {
public:
    explicit PoolerSync(PoolerSyncOptions options);
    ~PoolerSync();
    PoolerSync(const PoolerSync&) = delete;
    PoolerSync& operator=(const PoolerSync&) = delete;

    // One sync (`--once`): reads the entries, writes the files, sends RELOAD (when an admin
    // console is given). Transient faults are retried within retry_budget; then, and for any
    // other fault, throws Error. Files written but PgBouncer not reloaded: TransientError.
    PoolerSyncReport sync_once();

    // Runs until a byte 'q' can be read from `wake_fd` (a signal handler writes it; -1: runs
    // until the process ends); a byte 's' asks for a sync now. A fault before the first
    // successful sync that no retry can mend (a refused login, a malformed URL, a missing
    // grant) is thrown; every fault after it is logged and retried with backoff.
    void run(int wake_fd);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace claudable
