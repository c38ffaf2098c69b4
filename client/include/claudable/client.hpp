// claudable::Client: the deploy path's view of the claudable extension, over libpq.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
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
    ProvisionedProject project_row(const char* function, const std::string& project_id,
                                   const std::string& owner_id);

    std::string admin_connection_;
    ClientOptions options_;
    std::unique_ptr<Connection> connection_;
};

// Runs `sql` (one or more statements) in the database behind `database_url`, as the role
// in it. Used for bootstrap files; throws Error like the Client.
void run_sql(const Secret& database_url, const std::string& sql, int connect_timeout_seconds = 5);

}  // namespace claudable
