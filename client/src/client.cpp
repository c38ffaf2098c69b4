#include "claudable/client.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <random>
#include <thread>

#include "faults.hpp"
#include "pq.hpp"

namespace claudable {
namespace {

using detail::scrub;

using Clock = std::chrono::steady_clock;
using detail::LostAfterSending;

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

}  // namespace

// libpq's messages never contain the password, but a malformed URL may be echoed in part:
// replace anything that could carry a secret before the message leaves the library.
std::string detail::scrub(std::string message, const std::string& conninfo) {
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

namespace {

[[noreturn]] void throw_result_error(const PGresult* result, const std::string& conninfo) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
    std::string message = primary ? primary : PQresultErrorMessage(result);
    if (hint) message += " (hint: " + std::string(hint) + ")";
    detail::throw_for_answer(state ? state : "XX000", scrub(message, conninfo));
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

std::unique_ptr<PGconn, void (*)(PGconn*)> open_connection(
    const std::string& conninfo, int connect_timeout, const char* application_name = "claudable client",
    const std::vector<std::pair<std::string, std::string>>& defaults = {}) {
    refuse_malformed(conninfo);
    const std::string timeout = std::to_string(connect_timeout);
    // The defaults come first: the connection string (dbname, expanded) overrides them.
    std::vector<const char*> keywords, values;
    for (const auto& [keyword, value] : defaults) {
        keywords.push_back(keyword.c_str());
        values.push_back(value.c_str());
    }
    keywords.insert(keywords.end(), {"dbname", "connect_timeout", "application_name", nullptr});
    values.insert(values.end(), {conninfo.c_str(), timeout.c_str(), application_name, nullptr});
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn(
        PQconnectdbParams(keywords.data(), values.data(), static_cast<int>(defaults.size()) + 1), PQfinish);
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        std::string message = conn ? PQerrorMessage(conn.get()) : "out of memory";
        while (!message.empty() && message.back() == '\n') message.pop_back();
        if (!detail::login_failure_is_transient(message))
            throw Error("08001", "the server refused the admin login: " + scrub(message, conninfo) +
                                     " (check the admin URL's role, password and database, and pg_hba.conf; not retried)");
        // A refused or lost connection, or a session ended during the login (57P01, 57P02),
        // may be a restart: worth a retry.
        throw NotSent("08001", "cannot connect to the server: " + scrub(message, conninfo));
    }
    return conn;
}

}  // namespace

struct Client::Connection {
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn{nullptr, PQfinish};
    // A FATAL that arrived while the connection was idle (libpq hands it to the notice
    // receiver, as no request is waiting for an answer).
    bool ended_while_idle = false;
    // libpq's own receiver (it ignores its argument), for every other notice.
    PQnoticeReceiver previous_receiver = nullptr;

    void adopt(std::unique_ptr<PGconn, void (*)(PGconn*)> opened) {
        conn = std::move(opened);
        ended_while_idle = false;
        previous_receiver = PQsetNoticeReceiver(conn.get(), &Connection::receive_notice, this);
    }

    static void receive_notice(void* self, const PGresult* notice) {
        auto* connection = static_cast<Connection*>(self);
        const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
        if (severity != nullptr && std::string(severity) == "FATAL") {
            connection->ended_while_idle = true;  // handled: the next call reconnects
            return;
        }
        if (connection->previous_receiver) connection->previous_receiver(nullptr, notice);
    }

    // Whether the server ended this session while it sat idle between calls (a restart:
    // 57P01; a crash of another backend: 57P02; pg_terminate_backend): its FATAL and the end of
    // the connection then wait unread on the socket. Read without blocking, before anything is
    // written; a request sent on a new connection afterwards provably never reached this one.
    // A session that ends after this look is caught by execute(), as lost after sending.
    bool ended_before_sending() {
        for (int round = 0; round < 16 && !ended_while_idle; ++round) {
            pollfd socket{PQsocket(conn.get()), POLLIN, 0};
            const int ready = ::poll(&socket, 1, 0);
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) break;  // nothing waiting (or poll failed: let the request find out)
            if (!PQconsumeInput(conn.get()) || PQstatus(conn.get()) != CONNECTION_OK) return true;
        }
        return ended_while_idle;
    }
};

Client::Client(std::string admin_connection, ClientOptions options)
    : admin_connection_(std::move(admin_connection)), options_(std::move(options)),
      connection_(std::make_unique<Connection>()) {}

Client::~Client() = default;

Client::Connection& Client::connection() {
    if (!connection_->conn || PQstatus(connection_->conn.get()) != CONNECTION_OK ||
        connection_->ended_before_sending()) {
        connection_->conn.reset();
        connection_->adopt(open_connection(admin_connection_, options_.connect_timeout_seconds));
    }
    return *connection_;
}

template <typename Call>
auto Client::with_retries(Retry retry, const char* function, Call&& call) -> decltype(call()) {
    const auto started = Clock::now();
    auto backoff = options_.first_backoff;
    for (int attempt = 1;; ++attempt) {
        try {
            return call();
        } catch (const LostAfterSending& error) {
            connection_->conn.reset();
            if (retry == Retry::only_if_not_sent)
                throw OutcomeUnknown("08006",
                                     (detail::ends_session(error.sqlstate())
                                          ? "the server ended the session (" + error.sqlstate() + ") after "
                                          : std::string("the connection was lost after ")) +
                                         function +
                                         " was sent: it may or may not have taken effect, so it was not sent again "
                                         "(" + error.what() + ")");
            if (!pause_before_retry(started, backoff, attempt, error)) throw;
        } catch (const TransientError& error) {
            // Not sent (connecting failed, or a kept connection the server had ended was
            // replaced before anything was written), or answered by the server with a
            // transient refusal (53000, 57P03, 40001, 08): nothing happened.
            connection_->conn.reset();  // the next attempt reconnects
            // 55006 (the project's sessions did not end within the server's bounded wait) comes
            // from the worker in the middle of its job, so it is no proof that nothing happened:
            // a call that is not idempotent (a snapshot, a restore) is not sent again.
            if (retry == Retry::only_if_not_sent && error.sqlstate() == "55006") throw;
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
// A parameter that is nullopt is sent as NULL.
Result execute(PGconn* conn, const std::string& sql, const std::vector<std::optional<std::string>>& params,
               const std::string& conninfo) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
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
        throw LostAfterSending("08006", "the connection to the server was lost: " +
                                            scrub(PQerrorMessage(conn), conninfo));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_result_error(result.get(), conninfo);
    return result;
}

}  // namespace

// claudable_provision, claudable_rotate_password, claudable_restore and claudable_branch
// return the same row.
ProvisionedProject Client::project_row(Retry retry, const char* function,
                                       const std::vector<std::optional<std::string>>& arguments) {
    std::string placeholders;  // "$1, $2, ...": built from the count alone, never from input
    for (std::size_t i = 1; i <= arguments.size(); ++i) placeholders += (i > 1 ? ", $" : "$") + std::to_string(i);
    const std::string sql = std::string("SELECT ") + project_columns + " FROM " + function + "(" + placeholders + ") AS r";
    return with_retries(retry, function, [&] {
        Result r = execute(connection().conn.get(), sql, arguments, admin_connection_);
        return project_from(r.get());
    });
}

// Provisioning is idempotent; a rotation is not: it is re-sent only if it never left.
ProvisionedProject Client::provision(const std::string& project_id, const std::string& owner_id) {
    return project_row(Retry::idempotent, "claudable_provision", {project_id, owner_id});
}

ProvisionedProject Client::rotate_password(const std::string& project_id, const std::string& owner_id) {
    return project_row(Retry::only_if_not_sent, "claudable_rotate_password", {project_id, owner_id});
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

namespace {

const char* const snapshot_columns =
    "snapshot_id, project_id, label, size_bytes,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

Snapshot snapshot_from(const PGresult* result, int row) {
    Snapshot s;
    s.snapshot_id = value(result, row, 0);
    s.project_id = value(result, row, 1);
    if (!PQgetisnull(result, row, 2)) s.label = value(result, row, 2);
    if (!PQgetisnull(result, row, 3)) s.size_bytes = std::stoll(value(result, row, 3));
    s.created_at = value(result, row, 4);
    return s;
}

}  // namespace

// Each call makes a snapshot: re-sent only if it never left.
Snapshot Client::snapshot(const std::string& project_id, const std::string& owner_id,
                          const std::optional<std::string>& label) {
    return with_retries(Retry::only_if_not_sent, "claudable_snapshot", [&] {
        Result r = execute(connection().conn.get(),
                           std::string("SELECT ") + snapshot_columns + " FROM claudable_snapshot($1, $2, $3)",
                           {project_id, owner_id, label}, admin_connection_);
        if (PQntuples(r.get()) != 1) throw Error("XX000", "claudable_snapshot returned no row");
        return snapshot_from(r.get(), 0);
    });
}

std::vector<Snapshot> Client::snapshots(const std::string& project_id, const std::string& owner_id) {
    return with_retries(Retry::idempotent, "claudable_snapshots", [&] {
        // The function's order (newest first) is kept: a function scan returns its rows as given.
        Result r = execute(connection().conn.get(),
                           std::string("SELECT ") + snapshot_columns + " FROM claudable_snapshots($1, $2)",
                           {project_id, owner_id}, admin_connection_);
        std::vector<Snapshot> rows;
        for (int i = 0; i < PQntuples(r.get()); ++i) rows.push_back(snapshot_from(r.get(), i));
        return rows;
    });
}

// A second restore would make a second before-restore snapshot: re-sent only if it never left.
ProvisionedProject Client::restore(const std::string& project_id, const std::string& owner_id,
                                   const std::string& snapshot_id) {
    return project_row(Retry::only_if_not_sent, "claudable_restore", {project_id, owner_id, snapshot_id});
}

// Dropping twice is harmless (the second call says false).
bool Client::drop_snapshot(const std::string& project_id, const std::string& owner_id, const std::string& snapshot_id) {
    return with_retries(Retry::idempotent, "claudable_drop_snapshot", [&] {
        Result r = execute(connection().conn.get(), "SELECT claudable_drop_snapshot($1, $2, $3)",
                           {project_id, owner_id, snapshot_id}, admin_connection_);
        return value(r.get(), 0, 0) == "t";
    });
}

// A second call with the same branch_id returns the branch the first one made.
ProvisionedProject Client::branch(const std::string& project_id, const std::string& owner_id,
                                  const std::string& branch_id, const std::string& source,
                                  std::optional<Timestamp> expires_at) {
    std::optional<std::string> expires;
    if (expires_at) expires = format_timestamp(*expires_at);
    return project_row(Retry::idempotent, "claudable_branch", {project_id, owner_id, branch_id, source, expires});
}

namespace {
// A port as the pooler entries give it; 0 (an unusable port: that entry is skipped) for
// anything but a number, so that one row never fails the whole listing.
int port_of(const std::string& text) {
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return 0;
    return std::stoi(text);
}
}  // namespace

std::vector<PoolerEntry> detail::read_pooler_entries(PGconn* conn, const std::string& conninfo, bool with_verifiers) {
    Result probe = execute(conn, "SELECT pg_catalog.to_regprocedure('claudable_fleet_pooler_entries()') IS NOT NULL", {},
                           conninfo);
    const bool directory = value(probe.get(), 0, 0) == "t";
    // project_id is read by name from the row: NULL while the function returns no such column.
    // Without verifiers the column is not read at all.
    const std::string verifier = with_verifiers ? "scram_verifier" : "''";
    Result r = execute(conn,
                       directory ? "SELECT server, database_name, username, host, port, " + verifier +
                                       ", pg_catalog.to_jsonb(r.*) ->> 'project_id'"
                                       "  FROM claudable_fleet_pooler_entries() AS r"
                                 : "SELECT '', database_name, username, host, port, " + verifier +
                                       ", pg_catalog.to_jsonb(r.*) ->> 'project_id'"
                                       "  FROM claudable_pooler_entries() AS r",
                       {}, conninfo);
    std::vector<PoolerEntry> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i)
        rows.push_back(PoolerEntry{value(r.get(), i, 0), value(r.get(), i, 1), value(r.get(), i, 2), value(r.get(), i, 3),
                                   port_of(value(r.get(), i, 4)), value(r.get(), i, 5), value(r.get(), i, 6)});
    return rows;
}

std::vector<PoolerEntry> Client::pooler_entries() {
    return with_retries(Retry::idempotent, "pooler entries", [&] {
        return detail::read_pooler_entries(connection().conn.get(), admin_connection_, true);
    });
}

detail::PgConnection detail::connect(const std::string& conninfo, int connect_timeout, const char* application_name,
                                     const std::vector<std::pair<std::string, std::string>>& defaults) {
    return open_connection(conninfo, connect_timeout, application_name, defaults);
}

void detail::simple_command(PGconn* conn, const std::string& sql, const std::string& conninfo) {
    if (PQstatus(conn) != CONNECTION_OK || !PQsendQuery(conn, sql.c_str()))
        throw NotSent("08006", "the request could not be sent: " + scrub(PQerrorMessage(conn), conninfo));
    Result result;
    while (PGresult* next = PQgetResult(conn)) {
        if (!result) result.reset(next);
        else PQclear(next);
    }
    if (!result || PQstatus(conn) != CONNECTION_OK)
        throw LostAfterSending("08006", "the connection was lost: " + scrub(PQerrorMessage(conn), conninfo));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY)
        throw_result_error(result.get(), conninfo);
}

void run_sql(const Secret& database_url, const std::string& sql, int connect_timeout_seconds) {
    auto conn = open_connection(database_url.reveal(), connect_timeout_seconds);
    Result r(PQexec(conn.get(), sql.c_str()));
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY)
        throw_result_error(r.get(), database_url.reveal());
}

}  // namespace claudable
