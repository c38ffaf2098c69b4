// claudable::Client: the deploy path's view of the claudable extension, over libpq.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "claudable/errors.hpp"
#include "claudable/pgbouncer_config.hpp"
#include "claudable/secret.hpp"

namespace claudable {

// The row of claudable_provision / claudable_rotate_password.
struct ProvisionedProject {
    std::string project_id;
    std::string owner_id;
    std::string database_name;
    std::string username;
    Secret password;
    std::string host;
    int port = 0;
    Secret database_url;
    bool created = false;
    std::string created_at;  // ISO 8601, UTC
    // The URL through the pooler; empty before claudable 0.5.0 or without claudable.pooler_host.
    Secret pooled_database_url;
};

// A row of claudable.databases.
struct DatabaseInfo {
    std::string project_id;
    std::string owner_id;
    std::string database_name;
    std::string username;
    std::string status;
    std::optional<std::int64_t> size_bytes;
    int connections = 0;
    std::string created_at;
    std::string updated_at;
};

// A row of claudable_snapshot / claudable_snapshots. No secret.
struct Snapshot {
    std::string snapshot_id;           // "snap-" and 12 lowercase hex characters
    std::string project_id;
    std::optional<std::string> label;  // a restore's is "before restore of <snapshot_id>"
    std::optional<std::int64_t> size_bytes;
    std::string created_at;            // ISO 8601, UTC
};

// A point in time, as claudable_branch's expires_at.
using Timestamp = std::chrono::system_clock::time_point;

// An RFC 3339 time with its offset ("2026-12-31T00:00:00Z", "2027-01-01T02:00:00+02:00"; a
// fraction is cut to microseconds). Anything else throws InvalidInput without echoing the
// text, a time without an offset too: the server would read it in its session's TimeZone.
Timestamp parse_timestamp(std::string_view text);
// UTC with microseconds ("2026-12-31T00:00:00.000000Z"), as the rows' created_at.
std::string format_timestamp(Timestamp time);

// A row of claudable_check().
struct Finding {
    std::string severity;
    std::string object;
    std::string problem;
};

struct ClientOptions {
    // Transient faults are retried with capped exponential backoff and jitter until this
    // much time has passed since the call began.
    std::chrono::milliseconds retry_budget{10000};
    std::chrono::milliseconds first_backoff{100};
    std::chrono::milliseconds max_backoff{2000};
    int connect_timeout_seconds = 5;
    // Called before each retry (for logs); gets the attempt number and the masked error.
    std::function<void(int, const Error&)> on_retry;
};

class Client {
public:
    // `admin_connection` is a libpq connection string or URL (the DB_ADMIN_URL
    // convention); empty means libpq's defaults (PG* variables, .pgpass).
    explicit Client(std::string admin_connection, ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    ProvisionedProject provision(const std::string& project_id, const std::string& owner_id);
    bool deprovision(const std::string& project_id, const std::string& owner_id);
    ProvisionedProject rotate_password(const std::string& project_id, const std::string& owner_id);
    std::vector<DatabaseInfo> list();
    std::vector<Finding> check();

    // Snapshots, restore and branches (claudable 0.7.0). A snapshot and a restore are not
    // idempotent (each makes a snapshot): they are re-sent only when they never reached the
    // server, and one whose connection broke after it was sent is OutcomeUnknown. Listing,
    // dropping and branching are idempotent and are retried as provisioning is.
    Snapshot snapshot(const std::string& project_id, const std::string& owner_id,
                      const std::optional<std::string>& label = std::nullopt);
    // Newest first.
    std::vector<Snapshot> snapshots(const std::string& project_id, const std::string& owner_id);
    // The project's database as it was at `snapshot_id`, with the same URL and password
    // (created = false); the state before is kept as a snapshot labelled
    // "before restore of <snapshot_id>".
    ProvisionedProject restore(const std::string& project_id, const std::string& owner_id,
                               const std::string& snapshot_id);
    // true: dropped; false: the project has no such snapshot (nothing done).
    bool drop_snapshot(const std::string& project_id, const std::string& owner_id, const std::string& snapshot_id);
    // The project "<project_id>~<branch_id>", made on the first call from `source` ("current",
    // "empty" or a snapshot id of the project) and returned as it is on every later call
    // (created = false, whatever source it names). Without `expires_at` the server's
    // claudable.branch_ttl decides. A branch is a project: provision, rotate_password,
    // deprovision and snapshot take its project id with the parent's owner.
    ProvisionedProject branch(const std::string& project_id, const std::string& owner_id,
                              const std::string& branch_id, const std::string& source = "current",
                              std::optional<Timestamp> expires_at = std::nullopt);
    // Every project a pooler should serve: claudable_fleet_pooler_entries() on a fleet
    // directory (every server), claudable_pooler_entries() on a server.
    std::vector<PoolerEntry> pooler_entries();

private:
    struct Connection;
    // Transient faults are retried for idempotent calls; the others are re-sent only when
    // they never reached the server, and a connection lost after sending them (or a session
    // the server ended while they ran: 57P01, 57P02) is reported as OutcomeUnknown.
    enum class Retry { idempotent, only_if_not_sent };
    template <typename Call>
    auto with_retries(Retry retry, const char* function, Call&& call) -> decltype(call());
    bool pause_before_retry(std::chrono::steady_clock::time_point started, std::chrono::milliseconds& backoff,
                            int attempt, const Error& error);
    Connection& connection();
    // A call of `function` with `arguments` (nullopt: NULL) that returns claudable's project row.
    ProvisionedProject project_row(Retry retry, const char* function,
                                   const std::vector<std::optional<std::string>>& arguments);

    std::string admin_connection_;
    ClientOptions options_;
    std::unique_ptr<Connection> connection_;
};

// Runs `sql` (one or more statements) in the database behind `database_url`, as the role
// in it. Used for bootstrap files; throws Error like the Client.
void run_sql(const Secret& database_url, const std::string& sql, int connect_timeout_seconds = 5);

}  // namespace claudable
