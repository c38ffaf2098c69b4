// The `claudable` command: the deploy path and operators' shell access to the extension.
// Exit codes (README): 0 ok, 1 other failure, 2 usage, 3 invalid input, 4 permission or
// ownership, 5 conflict, 6 server unavailable or transient fault after retries, 7 the
// outcome of a deprovision, rotate, snapshot or restore is unknown (the connection broke
// after it was sent),
// 8 pgbouncer-config (or pooler-sync --once) wrote every usable entry and skipped at least
// one (named on stderr).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "claudable/client.hpp"
#include "claudable/env_file.hpp"
#include "claudable/pooler_sync.hpp"

extern char** environ;

namespace {

using claudable::ProvisionedProject;
using nlohmann::json;

// pgbouncer-config wrote the files but left at least one project's entry out.
constexpr int exit_entries_skipped = 8;

json null_if_empty(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

// `database "app_db_x" (project "x") on server "a"`: the names sort_pooler_entries lets through.
std::string describe(const claudable::SkippedPoolerEntry& entry) {
    std::string text = "database \"" + entry.database_name + "\"";
    if (!entry.project_id.empty()) text += " (project \"" + entry.project_id + "\")";
    if (!entry.server.empty()) text += " on server \"" + entry.server + "\"";
    return text;
}

struct Options {
    std::string admin_url;
    bool json_output = false;
    double retry_seconds = 10;
    std::string project_id;
    std::string owner_id;
    std::string bootstrap_file;
    std::string snapshot_id;
    std::string branch_id;
    std::optional<std::string> label;
    std::string source = "current";
    std::optional<std::string> expires_at;
    std::string projects_dir;
    std::vector<std::string> command;
    std::vector<std::string> pass;
    std::string out_dir;
    std::string pool_mode = "transaction";
    std::string auth_user;
    std::string pgbouncer_admin_url;
    double interval_seconds = 30;
    double coalesce_seconds = 0.2;
    bool once = false;
};

// pooler-sync's log: one line per event on stderr, after a UTC time stamp.
void log_pooler_sync(const std::string& line) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const long millis =
        static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::cerr << stamp << "." << std::setfill('0') << std::setw(3) << millis << std::setfill(' ')
              << "Z claudable pooler-sync: " << line << std::endl;
}

// SIGTERM, SIGINT: pooler-sync stops; SIGHUP: it syncs now. The handler only writes a byte
// to a pipe that the loop polls.
int wake_write_fd = -1;
extern "C" void wake_pooler_sync(int signal_number) {
    const char byte = signal_number == SIGHUP ? 's' : 'q';
    const int saved = errno;
    if (wake_write_fd >= 0) (void)!::write(wake_write_fd, &byte, 1);
    errno = saved;
}
int pooler_sync_wake_fd() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    wake_write_fd = fds[1];
    struct sigaction action {};
    action.sa_handler = wake_pooler_sync;
    sigemptyset(&action.sa_mask);
    for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(signal_number, &action, nullptr);
    return fds[0];
}

json to_json(const ProvisionedProject& p) {
    return json{{"project_id", p.project_id}, {"owner_id", p.owner_id},   {"database_name", p.database_name},
                {"username", p.username},     {"password", p.password.reveal()}, {"host", p.host},
                {"port", p.port},             {"database_url", p.database_url.reveal()},
                {"created", p.created},       {"created_at", p.created_at},
                {"pooled_database_url", p.pooled_database_url.empty() ? json(nullptr) : json(p.pooled_database_url.reveal())}};
}

json to_json(const claudable::Snapshot& s) {
    return json{{"snapshot_id", s.snapshot_id},
                {"project_id", s.project_id},
                {"label", s.label ? json(*s.label) : json(nullptr)},
                {"size_bytes", s.size_bytes ? json(*s.size_bytes) : json(nullptr)},
                {"created_at", s.created_at}};
}

// The human form of a row: one `key value` per line.
template <typename Value>
void line(const char* key, const Value& value) {
    std::cout << std::left << std::setw(15) << key << value << "\n";
}

void print_project(const ProvisionedProject& p, bool as_json) {
    if (as_json) {
        std::cout << to_json(p).dump() << "\n";
        return;
    }
    line("project_id", p.project_id);
    line("owner_id", p.owner_id);
    line("database_name", p.database_name);
    line("username", p.username);
    line("password", p.password);  // streams its mask
    line("host", p.host);
    line("port", p.port);
    line("database_url", p.database_url);
    line("created", p.created ? "true" : "false");
    line("created_at", p.created_at);
    if (!p.pooled_database_url.empty()) line("pooled_url", p.pooled_database_url);
}

void print_snapshot(const claudable::Snapshot& s, bool as_json) {
    if (as_json) {
        std::cout << to_json(s).dump() << "\n";
        return;
    }
    line("snapshot_id", s.snapshot_id);
    line("project_id", s.project_id);
    line("label", s.label.value_or(""));
    line("size_bytes", s.size_bytes ? std::to_string(*s.size_bytes) : "-");
    line("created_at", s.created_at);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw claudable::Error("58030", "cannot read " + path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

claudable::Client make_client(const Options& options) {
    std::string admin = options.admin_url;
    if (admin.empty())
        if (const char* from_env = std::getenv("DB_ADMIN_URL")) admin = from_env;
    claudable::ClientOptions client_options;
    client_options.retry_budget = std::chrono::milliseconds(static_cast<long>(options.retry_seconds * 1000));
    client_options.on_retry = [](int attempt, const claudable::Error& error) {
        std::cerr << "claudable: retrying after a transient fault (attempt " << attempt << "): " << error.what() << "\n";
    };
    return claudable::Client(admin, client_options);
}

int run(int argc, char** argv) {
    Options o;
    CLI::App app{"claudable: provision per-project PostgreSQL databases through the claudable extension"};
    app.require_subcommand(1);
    // The release version (client/CMakeLists.txt), which the extension and the Node package share.
    app.set_version_flag("--version", std::string("claudable ") + CLAUDABLE_VERSION);
    // Global options may stand anywhere on the line, after the subcommand too (as in gh,
    // kubectl): a subcommand hands options it does not know to the app. Set before the
    // subcommands are added, which copy it.
    app.fallthrough();
    app.add_option("--admin-url", o.admin_url,
                   "Admin connection string or URL (default: $DB_ADMIN_URL, then libpq's PG* variables)");
    app.add_flag("--json", o.json_output, "Print JSON for programs (includes password and database_url)");
    app.add_option("--retry-seconds", o.retry_seconds, "How long to retry transient faults (default 10)")
        ->check(CLI::NonNegativeNumber);

    auto project_args = [&o](CLI::App* sub) {
        sub->add_option("PROJECT", o.project_id, "project_id")->required();
        sub->add_option("OWNER", o.owner_id, "owner_id")->required();
    };
    CLI::App* provision = app.add_subcommand("provision", "Create the project's database, or return it");
    project_args(provision);
    provision->add_option("--bootstrap", o.bootstrap_file,
                          "SQL file run in the new database as the project's role, only when this call created it")
        ->check(CLI::ExistingFile);
    CLI::App* deprovision = app.add_subcommand("deprovision", "Drop the project's database and role");
    project_args(deprovision);
    CLI::App* rotate = app.add_subcommand("rotate", "Give the project a new password");
    project_args(rotate);
    CLI::App* snapshot = app.add_subcommand("snapshot", "Keep a copy of the project's database as it is now");
    project_args(snapshot);
    snapshot->add_option("--label", o.label, "A label for the snapshot (at most 200 characters, no control characters)")
        ->type_name("TEXT");
    snapshot->footer("Not sent again once it reached the server (a second call would make a second snapshot): a "
                     "connection lost after that exits 7; look with `claudable snapshots` before calling again.");
    CLI::App* snapshots = app.add_subcommand("snapshots", "List the project's snapshots, newest first");
    project_args(snapshots);
    CLI::App* restore = app.add_subcommand(
        "restore", "Put the project's database back as it was at SNAPSHOT (same URL and password)");
    project_args(restore);
    restore->add_option("SNAPSHOT", o.snapshot_id, "snapshot_id (snap-...)")->required();
    restore->footer("The database as it was before is kept as a new snapshot, labelled \"before restore of SNAPSHOT\". "
                    "The project's sessions are ended. Not sent again once it reached the server: a connection lost "
                    "after that exits 7; look with `claudable snapshots` before calling again.");
    CLI::App* drop_snapshot = app.add_subcommand("drop-snapshot", "Drop one of the project's snapshots");
    project_args(drop_snapshot);
    drop_snapshot->add_option("SNAPSHOT", o.snapshot_id, "snapshot_id (snap-...)")->required();
    CLI::App* branch = app.add_subcommand(
        "branch", "Create the project PROJECT~BRANCH (a database of its own, with its own role), or return it");
    project_args(branch);
    branch->add_option("BRANCH", o.branch_id, "branch_id: 1 to 63 of A-Z, a-z, 0-9, '_' and '-', starting with a "
                                              "letter or digit")
        ->required();
    branch->add_option("--source", o.source, "What the branch starts from: current (default), empty, or a snapshot_id")
        ->type_name("current|empty|SNAPSHOT");
    branch->add_option("--expires-at", o.expires_at,
                       "When claudable_reconcile() may deprovision it: an RFC 3339 time with its offset "
                       "(2026-12-31T00:00:00Z); default: the server's claudable.branch_ttl")
        ->type_name("TIME");
    branch->footer("A second call with the same BRANCH returns the existing branch (created false), whatever --source "
                   "it names. A branch is a project: provision, rotate, deprovision, snapshot and env take PROJECT~BRANCH "
                   "with the parent's OWNER.");
    CLI::App* list = app.add_subcommand("list", "List provisioned projects (claudable_databases())");
    CLI::App* check = app.add_subcommand("check", "Report problems (claudable_check())");
    CLI::App* env = app.add_subcommand(
        "env", "Provision or look up, then write DATABASE_URL and DIRECT_URL to DIR/PROJECT/.env.production");
    project_args(env);
    env->add_option("--projects-dir", o.projects_dir, "Directory that holds one directory per project")->required();
    CLI::App* exec = app.add_subcommand(
        "exec", "Provision or look up, then run CMD with DATABASE_URL and DIRECT_URL in its environment");
    project_args(exec);
    exec->add_option("--pass", o.pass,
                     "Also give CMD this variable of the environment (repeatable; DB_ADMIN_URL, PG*, DATABASE_URL and "
                     "DIRECT_URL are refused)")
        ->allow_extra_args(false)
        ->type_name("NAME");
    exec->add_option("CMD", o.command, "Command and arguments, after --")->required();
    exec->footer("CMD gets PATH, HOME, NODE_ENV, PORT, TZ and LANG from this environment, the variables named with "
                 "--pass, DATABASE_URL (the pooled URL when the server has a pooler, else the direct one) and "
                 "DIRECT_URL (the direct URL): nothing else.");
    CLI::App* pgbouncer = app.add_subcommand(
        "pgbouncer-config", "Write PgBouncer's [databases] entries and auth file (SCRAM verifiers) for every project");
    pgbouncer->add_option("--out", o.out_dir, "Directory for pgbouncer-databases.ini and userlist.txt")->required();
    pgbouncer->add_option("--pool-mode", o.pool_mode, "PgBouncer pool_mode of each entry (default transaction)")
        ->check(CLI::IsMember({"transaction", "session", "statement"}));
    pgbouncer->footer("An entry PgBouncer cannot use (a role whose verifier is not a usable SCRAM-SHA-256 verifier, "
                      "a name or host that could break a line) is skipped and named on stderr, every other entry is "
                      "written, and the exit code is 8. With --json, stdout lists the written and skipped entries.");

    CLI::App* pooler_sync = app.add_subcommand(
        "pooler-sync", "Keep PgBouncer's [databases] entries current: LISTEN on the directory, write, RELOAD PgBouncer");
    pooler_sync->add_option("--out", o.out_dir, "Directory for pgbouncer-databases.ini (and userlist.txt without --auth-user)")
        ->required();
    pooler_sync->add_option("--auth-user", o.auth_user,
                            "Each entry names this auth_user: PgBouncer asks the project's server for verifiers "
                            "(auth_query), and no userlist.txt of verifiers is written")
        ->type_name("NAME");
    pooler_sync->add_option("--pgbouncer-admin-url", o.pgbouncer_admin_url,
                            "PgBouncer's admin console, for RELOAD (postgresql://USER@HOST:PORT/pgbouncer; its "
                            "password from ~/.pgpass or PGPASSWORD)")
        ->type_name("URL");
    pooler_sync->add_option("--pool-mode", o.pool_mode, "PgBouncer pool_mode of each entry (default transaction)")
        ->check(CLI::IsMember({"transaction", "session", "statement"}));
    pooler_sync->add_option("--interval-seconds", o.interval_seconds,
                            "Sync at least this often, notified or not (default 30)")
        ->check(CLI::PositiveNumber);
    pooler_sync->add_option("--coalesce-seconds", o.coalesce_seconds,
                            "At least this long between two syncs: notifications meanwhile make one sync (default 0.2)")
        ->check(CLI::NonNegativeNumber);
    pooler_sync->add_flag("--once", o.once, "One sync (and RELOAD), then exit: for cron and tests");
    pooler_sync->footer(
        "Listens on the channel claudable_pooler of the directory (--admin-url, else $DB_ADMIN_URL, as the pooler "
        "role), which claudable_provision and claudable_deprovision notify; syncs at start, on each notification and "
        "every --interval-seconds; writes the files atomically when they change and then sends RELOAD. Reconnects "
        "with backoff. Logs one line per change on stderr, counts only. SIGTERM or SIGINT stops it, SIGHUP makes it "
        "sync now. An entry PgBouncer cannot use is skipped and named on stderr (--once then exits 8).");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }

    try {
        if (provision->parsed()) {
            auto client = make_client(o);
            ProvisionedProject p = client.provision(o.project_id, o.owner_id);
            if (p.created && !o.bootstrap_file.empty()) claudable::run_sql(p.database_url, read_file(o.bootstrap_file));
            print_project(p, o.json_output);
        } else if (rotate->parsed()) {
            print_project(make_client(o).rotate_password(o.project_id, o.owner_id), o.json_output);
        } else if (deprovision->parsed()) {
            const bool removed = make_client(o).deprovision(o.project_id, o.owner_id);
            if (o.json_output)
                std::cout << json{{"project_id", o.project_id}, {"deprovisioned", removed}}.dump() << "\n";
            else
                std::cout << (removed ? "deprovisioned " : "nothing to deprovision for ") << o.project_id << "\n";
        } else if (snapshot->parsed()) {
            print_snapshot(make_client(o).snapshot(o.project_id, o.owner_id, o.label), o.json_output);
        } else if (snapshots->parsed()) {
            auto rows = make_client(o).snapshots(o.project_id, o.owner_id);
            if (o.json_output) {
                json out = json::array();
                for (const auto& s : rows) out.push_back(to_json(s));
                std::cout << out.dump() << "\n";
            } else {
                std::cout << "snapshot_id\tcreated_at\tsize_bytes\tlabel\n";
                for (const auto& s : rows)
                    std::cout << s.snapshot_id << "\t" << s.created_at << "\t"
                              << (s.size_bytes ? std::to_string(*s.size_bytes) : "-") << "\t" << s.label.value_or("")
                              << "\n";
            }
        } else if (restore->parsed()) {
            print_project(make_client(o).restore(o.project_id, o.owner_id, o.snapshot_id), o.json_output);
        } else if (drop_snapshot->parsed()) {
            const bool dropped = make_client(o).drop_snapshot(o.project_id, o.owner_id, o.snapshot_id);
            if (o.json_output)
                std::cout << json{{"project_id", o.project_id}, {"snapshot_id", o.snapshot_id}, {"dropped", dropped}}.dump()
                          << "\n";
            else if (dropped)
                std::cout << "dropped snapshot " << o.snapshot_id << " of " << o.project_id << "\n";
            else
                std::cout << "nothing to drop: " << o.project_id << " has no snapshot " << o.snapshot_id << "\n";
        } else if (branch->parsed()) {
            // A time that is not RFC 3339 with an offset is refused before anything is sent.
            std::optional<claudable::Timestamp> expires_at;
            if (o.expires_at) expires_at = claudable::parse_timestamp(*o.expires_at);
            print_project(make_client(o).branch(o.project_id, o.owner_id, o.branch_id, o.source, expires_at),
                          o.json_output);
        } else if (list->parsed()) {
            auto rows = make_client(o).list();
            if (o.json_output) {
                json out = json::array();
                for (const auto& d : rows)
                    out.push_back({{"project_id", d.project_id}, {"owner_id", d.owner_id},
                                   {"database_name", d.database_name}, {"username", d.username},
                                   {"status", d.status},
                                   {"size_bytes", d.size_bytes ? json(*d.size_bytes) : json(nullptr)},
                                   {"connections", d.connections}, {"created_at", d.created_at},
                                   {"updated_at", d.updated_at}});
                std::cout << out.dump() << "\n";
            } else {
                std::cout << "project_id\towner_id\tdatabase_name\tstatus\tsize_bytes\tconnections\n";
                for (const auto& d : rows)
                    std::cout << d.project_id << "\t" << d.owner_id << "\t" << d.database_name << "\t" << d.status
                              << "\t" << (d.size_bytes ? std::to_string(*d.size_bytes) : "-") << "\t"
                              << d.connections << "\n";
            }
        } else if (check->parsed()) {
            auto rows = make_client(o).check();
            if (o.json_output) {
                json out = json::array();
                for (const auto& f : rows) out.push_back({{"severity", f.severity}, {"object", f.object}, {"problem", f.problem}});
                std::cout << out.dump() << "\n";
            } else {
                for (const auto& f : rows) std::cout << f.severity << "\t" << f.object << "\t" << f.problem << "\n";
                if (rows.empty()) std::cout << "no problems found\n";
            }
        } else if (env->parsed()) {
            ProvisionedProject p = make_client(o).provision(o.project_id, o.owner_id);
            claudable::write_env_file(o.projects_dir, p.project_id,
                                      claudable::app_database_variables(p.database_url.reveal(),
                                                                        p.pooled_database_url.reveal()));
            std::cout << "DATABASE_URL and DIRECT_URL written to " << o.projects_dir << "/" << p.project_id
                      << "/.env.production (mode 0600)\n";
        } else if (pgbouncer->parsed()) {
            const std::vector<claudable::PoolerEntry> entries = make_client(o).pooler_entries();
            // Every usable entry is written; one that is not (a verifier a tenant set with
            // ALTER ROLE ... PASSWORD that PgBouncer cannot use) is left out and named here,
            // by its names and the reason only: never its verifier.
            const claudable::PgbouncerConfigResult result =
                claudable::write_pgbouncer_config(o.out_dir, entries, o.pool_mode);
            std::set<std::string> servers;
            for (const auto& e : result.written) servers.insert(e.server);
            for (const auto& skipped : result.skipped)
                std::cerr << "claudable: pgbouncer-config skipped " << describe(skipped) << ": it has "
                          << skipped.reason << "; its pooled URL does not work until it is fixed\n";
            if (o.json_output) {
                json written = json::array(), skipped = json::array();
                for (const auto& e : result.written)
                    written.push_back({{"database", e.database_name}, {"project_id", null_if_empty(e.project_id)},
                                       {"server", null_if_empty(e.server)}});
                for (const auto& e : result.skipped)
                    skipped.push_back({{"database", e.database_name}, {"project_id", null_if_empty(e.project_id)},
                                       {"server", null_if_empty(e.server)}, {"reason", e.reason}});
                std::cout << json{{"databases", result.written.size()}, {"servers", servers.size()},
                                  {"directory", o.out_dir}, {"written", written}, {"skipped", skipped}}
                                 .dump()
                          << "\n";
            } else {
                std::cout << "wrote " << result.written.size() << " database entries (" << servers.size() << " server"
                          << (servers.size() == 1 ? "" : "s") << ") to " << o.out_dir << "/"
                          << claudable::pgbouncer_databases_file << " and their roles' SCRAM verifiers to "
                          << o.out_dir << "/" << claudable::pgbouncer_auth_file << "; RELOAD PgBouncer to use them\n";
            }
            if (!result.skipped.empty()) {
                std::cerr << "claudable: pgbouncer-config skipped " << result.skipped.size() << " of " << entries.size()
                          << " entries and wrote the other " << result.written.size() << " (exit code "
                          << exit_entries_skipped << ")\n";
                return exit_entries_skipped;
            }
        } else if (pooler_sync->parsed()) {
            claudable::PoolerSyncOptions options;
            options.admin_connection = o.admin_url;
            if (options.admin_connection.empty())
                if (const char* from_env = std::getenv("DB_ADMIN_URL")) options.admin_connection = from_env;
            options.out_dir = o.out_dir;
            options.pool_mode = o.pool_mode;
            options.auth_user = o.auth_user;
            options.pgbouncer_admin = o.pgbouncer_admin_url;
            options.interval = std::chrono::milliseconds(static_cast<long>(o.interval_seconds * 1000));
            options.coalesce = std::chrono::milliseconds(static_cast<long>(o.coalesce_seconds * 1000));
            options.retry_budget = std::chrono::milliseconds(static_cast<long>(o.retry_seconds * 1000));
            options.log = log_pooler_sync;
            claudable::PoolerSync sync(std::move(options));
            if (!o.once) {
                sync.run(pooler_sync_wake_fd());
                return 0;
            }
            const claudable::PoolerSyncReport report = sync.sync_once();
            const auto& result = report.entries;
            if (o.json_output) {
                json written = json::array(), skipped = json::array();
                for (const auto& e : result.written)
                    written.push_back({{"database", e.database_name}, {"project_id", null_if_empty(e.project_id)},
                                       {"server", null_if_empty(e.server)}});
                for (const auto& e : result.skipped)
                    skipped.push_back({{"database", e.database_name}, {"project_id", null_if_empty(e.project_id)},
                                       {"server", null_if_empty(e.server)}, {"reason", e.reason}});
                std::cout << json{{"databases", result.written.size()}, {"servers", report.servers},
                                  {"directory", o.out_dir}, {"changed", report.changed},
                                  {"reloaded", report.reloaded}, {"written", written}, {"skipped", skipped}}
                                 .dump()
                          << "\n";
            } else {
                std::cout << "wrote " << result.written.size() << " database entries (" << report.servers << " server"
                          << (report.servers == 1 ? "" : "s") << ") to " << o.out_dir << "/"
                          << claudable::pgbouncer_databases_file
                          << (o.auth_user.empty() ? std::string(" and ") + claudable::pgbouncer_auth_file : "")
                          << (report.reloaded ? "; PgBouncer reloaded" : "; RELOAD PgBouncer to use them") << "\n";
            }
            if (!result.skipped.empty()) {
                std::cerr << "claudable: pooler-sync skipped " << result.skipped.size() << " of "
                          << result.skipped.size() + result.written.size() << " entries and wrote the other "
                          << result.written.size() << " (exit code " << exit_entries_skipped << ")\n";
                return exit_entries_skipped;
            }
        } else if (exec->parsed()) {
            // A name that may never pass is refused before anything is provisioned.
            claudable::check_app_variable_names(o.pass);
            ProvisionedProject p = make_client(o).provision(o.project_id, o.owner_id);
            // The app gets its own URLs, the base list and what --pass names: none of the
            // admin's credentials, none of the platform's other variables.
            std::vector<std::string> current;
            for (char** entry = environ; *entry != nullptr; ++entry) current.emplace_back(*entry);
            std::vector<std::string> environment = claudable::environment_for_app(
                current, claudable::app_database_variables(p.database_url.reveal(), p.pooled_database_url.reveal()),
                o.pass);
            std::vector<char*> envp;
            for (auto& e : environment) envp.push_back(e.data());
            envp.push_back(nullptr);
            std::vector<char*> args;
            for (auto& a : o.command) args.push_back(a.data());
            args.push_back(nullptr);
            std::cout.flush();
            ::execvpe(args[0], args.data(), envp.data());
            std::cerr << "claudable: cannot run " << o.command[0] << ": " << std::strerror(errno) << "\n";
            return 127;
        }
    } catch (const claudable::Error& error) {
        std::cerr << "claudable: " << error.what() << " (SQLSTATE " << error.sqlstate() << ")\n";
        return claudable::exit_code_for(error);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "claudable: " << e.what() << "\n";
        return 1;
    }
}
