#include "claudable/client.hpp"

#include <libpq-fe.h>

#include <random>
#include <thread>

namespace claudable {
namespace {

using Clock = std::chrono::steady_clock;

// Lost after it was sent: the server may have run it.
struct ConnectionLost : TransientError { using TransientError::TransientError; };

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// The admin password as it may appear in a message: from a URL's user info or a
// password= keyword, decoded by libpq itself.
std::string admin_password(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (error) PQfreemem(error);
    std::string password;
    if (options) {
        for (PQconninfoOption* o = options; o->keyword; ++o)
            if (std::string(o->keyword) == "password" && o->val) password = o->val;
        PQconninfoFree(options);
    }
    return password;
}

// The password as written in a URL's user info, still percent-encoded (or malformed).
std::string raw_url_password(const std::string& conninfo) {
    const std::size_t scheme = conninfo.find("://");
    if (scheme == std::string::npos) return {};
    const std::size_t authority = scheme + 3;
    const std::size_t at = conninfo.find('@', authority);
    const std::size_t slash = conninfo.find('/', authority);
    if (at == std::string::npos || (slash != std::string::npos && slash < at)) return {};
    const std::size_t colon = conninfo.find(':', authority);
    if (colon == std::string::npos || colon > at) return {};
    return conninfo.substr(colon + 1, at - colon - 1);
}

// libpq's messages never contain the password, but a malformed URL may be echoed in part:
// replace anything that could carry a secret before the message leaves the library.
std::string scrub(std::string message, const std::string& conninfo) {
    auto replace_all = [&message](const std::string& needle) {
        if (needle.empty()) return;
        for (std::size_t at; (at = message.find(needle)) != std::string::npos;)
            message.replace(at, needle.size(), password_mask);
    };
    replace_all(conninfo);
    replace_all(raw_url_password(conninfo));
    replace_all(admin_password(conninfo));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return message;
}

[[noreturn]] void throw_result_error(const PGresult* result, const std::string& conninfo) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
    std::string message = primary ? primary : PQresultErrorMessage(result);
    if (hint) message += " (hint: " + std::string(hint) + ")";
    throw_for_sqlstate(state ? state : "XX000", scrub(message, conninfo));
}

std::string value(const PGresult* result, int row, int column) {
    return PQgetisnull(result, row, column) ? std::string() : std::string(PQgetvalue(result, row, column));
}

ProvisionedProject project_from(const PGresult* result) {
    ProvisionedProject p;
    p.project_id = value(result, 0, 0);
    p.owner_id = value(result, 0, 1);
    p.database_name = value(result, 0, 2);
    p.username = value(result, 0, 3);
    p.password = password_secret(value(result, 0, 4));
    p.host = value(result, 0, 5);
    p.port = std::stoi(value(result, 0, 6));
    p.database_url = url_secret(value(result, 0, 7));
    p.created = value(result, 0, 8) == "t";
    p.created_at = value(result, 0, 9);
    if (!PQgetisnull(result, 0, 10)) p.pooled_database_url = url_secret(value(result, 0, 10));
    return p;
}

const char* const project_columns =
    "project_id, owner_id, database_name, username, password, host, port, database_url, created,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    // Read by name from the row, so a server older than 0.5.0 (no such column) gives NULL.
    " pg_catalog.to_jsonb(r.*) ->> 'pooled_database_url'";

// libpq quotes the offending part of a malformed connection string ("invalid
// percent-encoded token: "..."") and that part may be the password: every quoted part is
// masked, and the string is refused before anything is sent.
void refuse_malformed(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options) PQconninfoFree(options);
    if (!error) return;
    std::string reason = error;
    PQfreemem(error);
    std::string masked;
    bool quoted = false;
    for (char c : reason) {
        if (c == '"') {
            masked += quoted ? std::string(password_mask) + "\"" : "\"";
            quoted = !quoted;
        } else if (!quoted) {
            masked += c;
        }
    }
    throw InvalidInput("22023", "the admin connection string is malformed: " + scrub(masked, conninfo) +
                                    " (quoted parts are masked: they may hold the password)");
}

// libpq gives a failed login no SQLSTATE, only the server's FATAL inside its message. A FATAL
// sent while the server starts, stops or is full is worth a retry; any other is the server
// refusing this login (password, role, database, CONNECT, pg_hba.conf), which no retry changes.
bool server_refused_login(const std::string& message) {
    if (message.find("FATAL:") == std::string::npos) return false;
    for (const char* passing : {"the database system is starting up", "the database system is shutting down",
                                "the database system is in recovery mode", "the database system is not yet accepting",
                                "the database system is not accepting", "too many clients already",
                                "remaining connection slots are reserved"})
        if (message.find(passing) != std::string::npos) return false;
    return true;
}

std::unique_ptr<PGconn, void (*)(PGconn*)> open_connection(const std::string& conninfo, int connect_timeout) {
    refuse_malformed(conninfo);
    const std::string timeout = std::to_string(connect_timeout);
    const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {conninfo.c_str(), timeout.c_str(), "claudable client", nullptr};
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdbParams(keywords, values, 1), PQfinish);
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        std::string message = conn ? PQerrorMessage(conn.get()) : "out of memory";
        while (!message.empty() && message.back() == '\n') message.pop_back();
        if (server_refused_login(message))
            throw Error("08001", "the server refused the admin login: " + scrub(message, conninfo) +
                                     " (check the admin URL's role, password and database, and pg_hba.conf; not retried)");
        // A refused or lost connection may be a restart: worth a retry.
        throw NotSent("08001", "cannot connect to the server: " + scrub(message, conninfo));
    }
    return conn;
}

}  // namespace

struct Client::Connection {
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn{nullptr, PQfinish};
};

Client::Client(std::string admin_connection, ClientOptions options)
    : admin_connection_(std::move(admin_connection)), options_(std::move(options)),
      connection_(std::make_unique<Connection>()) {}

Client::~Client() = default;

Client::Connection& Client::connection() {
    if (!connection_->conn || PQstatus(connection_->conn.get()) != CONNECTION_OK)
        connection_->conn = open_connection(admin_connection_, options_.connect_timeout_seconds);
    return *connection_;
}

template <typename Call>
auto Client::with_retries(Retry retry, const char* function, Call&& call) -> decltype(call()) {
    const auto started = Clock::now();
    auto backoff = options_.first_backoff;
    for (int attempt = 1;; ++attempt) {
        try {
            return call();
        } catch (const ConnectionLost& error) {
            connection_->conn.reset();
            if (retry == Retry::only_if_not_sent)
                throw OutcomeUnknown(error.sqlstate(),
                                     std::string("the connection was lost after ") + function +
                                         " was sent: it may or may not have taken effect, so it was not sent again "
                                         "(" + error.what() + ")");
            if (!pause_before_retry(started, backoff, attempt, error)) throw;
        } catch (const TransientError& error) {
            // Not sent, or answered by the server with a transient refusal: nothing happened.
            connection_->conn.reset();  // the next attempt reconnects
            if (!pause_before_retry(started, backoff, attempt, error)) throw;
        }
    }
}

bool Client::pause_before_retry(std::chrono::steady_clock::time_point started, std::chrono::milliseconds& backoff,
                                int attempt, const Error& error) {
    static thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const auto pause = std::chrono::duration_cast<std::chrono::milliseconds>(backoff * jitter(random));
    if (Clock::now() - started + pause > options_.retry_budget) return false;
    if (options_.on_retry) options_.on_retry(attempt, error);
    std::this_thread::sleep_for(pause);
    backoff = std::min(backoff * 2, options_.max_backoff);
    return true;
}

namespace {

// Sent and answered in two steps, so that a request that never left (a connection that
// broke while idle) is told apart from one lost after it was sent.
Result execute(PGconn* conn, const std::string& sql, const std::vector<std::string>& params,
               const std::string& conninfo) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    if (PQstatus(conn) != CONNECTION_OK ||
        !PQsendQueryParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0))
        throw NotSent("08006", "the request could not be sent: " + scrub(PQerrorMessage(conn), conninfo));
    Result result;
    while (PGresult* next = PQgetResult(conn)) {
        if (!result) result.reset(next);
        else PQclear(next);
    }
    if (!result || PQstatus(conn) != CONNECTION_OK)
        throw ConnectionLost("08006", "the connection to the server was lost: " +
                                          scrub(PQerrorMessage(conn), conninfo));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_result_error(result.get(), conninfo);
    return result;
}

}  // namespace

// claudable_provision and claudable_rotate_password return the same row.
ProvisionedProject Client::project_row(const char* function, const std::string& project_id,
                                       const std::string& owner_id) {
    const std::string sql = std::string("SELECT ") + project_columns + " FROM " + function + "($1, $2) AS r";
    // Provisioning is idempotent; a rotation is not: it is re-sent only if it never left.
    const Retry retry = std::string(function) == "claudable_provision" ? Retry::idempotent : Retry::only_if_not_sent;
    return with_retries(retry, function, [&] {
        Result r = execute(connection().conn.get(), sql, {project_id, owner_id}, admin_connection_);
        return project_from(r.get());
    });
}

ProvisionedProject Client::provision(const std::string& project_id, const std::string& owner_id) {
    return project_row("claudable_provision", project_id, owner_id);
}

ProvisionedProject Client::rotate_password(const std::string& project_id, const std::string& owner_id) {
    return project_row("claudable_rotate_password", project_id, owner_id);
}

bool Client::deprovision(const std::string& project_id, const std::string& owner_id) {
    return with_retries(Retry::only_if_not_sent, "claudable_deprovision", [&] {
        Result r = execute(connection().conn.get(), "SELECT claudable_deprovision($1, $2)", {project_id, owner_id},
                           admin_connection_);
        return value(r.get(), 0, 0) == "t";
    });
}

std::vector<DatabaseInfo> Client::list() {
    return with_retries(Retry::idempotent, "list", [&] {
        Result r = execute(connection().conn.get(),
                           "SELECT project_id, owner_id, database_name, username, status, size_bytes, connections,"
                           " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                           " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                           " FROM claudable_databases() ORDER BY project_id",
                           {}, admin_connection_);
        std::vector<DatabaseInfo> rows;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            DatabaseInfo d;
            d.project_id = value(r.get(), i, 0);
            d.owner_id = value(r.get(), i, 1);
            d.database_name = value(r.get(), i, 2);
            d.username = value(r.get(), i, 3);
            d.status = value(r.get(), i, 4);
            if (!PQgetisnull(r.get(), i, 5)) d.size_bytes = std::stoll(value(r.get(), i, 5));
            d.connections = std::stoi(value(r.get(), i, 6));
            d.created_at = value(r.get(), i, 7);
            d.updated_at = value(r.get(), i, 8);
            rows.push_back(std::move(d));
        }
        return rows;
    });
}

std::vector<Finding> Client::check() {
    return with_retries(Retry::idempotent, "claudable_check", [&] {
        Result r = execute(connection().conn.get(), "SELECT severity, object, problem FROM claudable_check()", {},
                           admin_connection_);
        std::vector<Finding> rows;
        for (int i = 0; i < PQntuples(r.get()); ++i)
            rows.push_back(Finding{value(r.get(), i, 0), value(r.get(), i, 1), value(r.get(), i, 2)});
        return rows;
    });
}

std::vector<PoolerEntry> Client::pooler_entries() {
    return with_retries(Retry::idempotent, "pooler entries", [&] {
        Result probe = execute(connection().conn.get(),
                               "SELECT pg_catalog.to_regprocedure('claudable_fleet_pooler_entries()') IS NOT NULL",
                               {}, admin_connection_);
        const bool directory = value(probe.get(), 0, 0) == "t";
        Result r = execute(connection().conn.get(),
                           directory ? "SELECT server, database_name, username, host, port, scram_verifier"
                                       "  FROM claudable_fleet_pooler_entries()"
                                     : "SELECT '', database_name, username, host, port, scram_verifier"
                                       "  FROM claudable_pooler_entries()",
                           {}, admin_connection_);
        std::vector<PoolerEntry> rows;
        for (int i = 0; i < PQntuples(r.get()); ++i)
            rows.push_back(PoolerEntry{value(r.get(), i, 0), value(r.get(), i, 1), value(r.get(), i, 2),
                                       value(r.get(), i, 3), std::stoi(value(r.get(), i, 4)), value(r.get(), i, 5)});
        return rows;
    });
}

void run_sql(const Secret& database_url, const std::string& sql, int connect_timeout_seconds) {
    auto conn = open_connection(database_url.reveal(), connect_timeout_seconds);
    Result r(PQexec(conn.get(), sql.c_str()));
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY)
        throw_result_error(r.get(), database_url.reveal());
}

}  // namespace claudable
