#include "claudable/pooler_sync.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "claudable/errors.hpp"
#include "pq.hpp"
#include "sync_schedule.hpp"

namespace claudable {
namespace {

using Clock = std::chrono::steady_clock;

// The header of the [databases] file pooler-sync writes (two comment lines, as pgbouncer-config's).
const char* const header = "; Written by `claudable pooler-sync`, which keeps it current: one entry per project.\n"
                           "; Do not edit: it is replaced at the next change.\n";

// The directory's connection stays up for as long as pooler-sync runs: TCP keepalives find a
// directory host that went away without a word (a connection string may set its own).
const std::vector<std::pair<std::string, std::string>> keepalives = {
    {"keepalives", "1"}, {"keepalives_idle", "30"}, {"keepalives_interval", "10"}, {"keepalives_count", "3"}};

bool is_transient(const Error& error) { return dynamic_cast<const TransientError*>(&error) != nullptr; }

std::string seconds_text(std::chrono::milliseconds wait) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2g s", static_cast<double>(wait.count()) / 1000.0);
    return text;
}

// `database "app_db_x" (project "x") on server "a"`: the names sort_pooler_entries lets through.
std::string describe(const SkippedPoolerEntry& entry) {
    std::string text = "database \"" + entry.database_name + "\"";
    if (!entry.project_id.empty()) text += " (project \"" + entry.project_id + "\")";
    if (!entry.server.empty()) text += " on server \"" + entry.server + "\"";
    return text;
}

// Notices (a FATAL that arrives while idle, a server's NOTICE) are not printed: a lost
// connection is found and logged by the loop.
void ignore_notice(void*, const PGresult*) {}

// A fault that lasts (the directory down, PgBouncer restarting) is logged when it begins and
// when its cause changes, not at every attempt; its end once, with the number of attempts.
struct Trouble {
    std::string shown;
    int attempts = 0;
    bool failed(const std::string& cause) {  // true: log it
        ++attempts;
        if (cause == shown) return false;
        shown = cause;
        return true;
    }
    int ended() {  // the failed attempts before this success (0: there was no trouble)
        const int before = attempts;
        attempts = 0;
        shown.clear();
        return before;
    }
};

std::string attempts_text(int attempts) {
    return std::to_string(attempts) + " failed attempt" + (attempts == 1 ? "" : "s");
}

}  // namespace

struct PoolerSync::State {
    PoolerSyncOptions o;
    detail::PgConnection directory{nullptr, PQfinish};
    detail::PgConnection admin{nullptr, PQfinish};
    // What was last written, and whether PgBouncer has still to be told.
    std::optional<std::string> written_databases;
    std::string written_auth;
    std::set<std::string> written_names;
    std::set<std::string> reported_skips;
    bool reload_pending = false;
    bool synced_once = false;

    // One line: a message libpq split over lines (a lost connection) is joined.
    void log(const std::string& line) const {
        if (!o.log) return;
        std::string joined;
        for (char c : line) {
            const bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
            if (blank && (joined.empty() || joined.back() == ' ')) continue;
            joined += blank ? ' ' : c;
        }
        while (!joined.empty() && joined.back() == ' ') joined.pop_back();
        o.log(joined);
    }

    PGconn* connect_directory(bool listen) {
        directory = detail::connect(o.admin_connection, o.connect_timeout_seconds, "claudable pooler-sync", keepalives);
        PQsetNoticeReceiver(directory.get(), ignore_notice, nullptr);
        if (listen) {
            detail::simple_command(directory.get(), std::string("LISTEN ") + pooler_channel, o.admin_connection);
            log(std::string("listening on channel ") + pooler_channel);
        }
        return directory.get();
    }

    void drop_directory_if_broken() {
        if (directory && PQstatus(directory.get()) != CONNECTION_OK) directory.reset();
    }

    // RELOAD on PgBouncer's admin console, on a kept connection; once more on a new one when
    // that connection turns out lost (PgBouncer restarted). RELOAD twice is harmless.
    void reload() {
        for (int attempt = 1;; ++attempt) {
            try {
                if (!admin) {
                    admin = detail::connect(o.pgbouncer_admin, o.connect_timeout_seconds, "claudable pooler-sync");
                    PQsetNoticeReceiver(admin.get(), ignore_notice, nullptr);
                }
                detail::simple_command(admin.get(), "RELOAD", o.pgbouncer_admin);
                return;
            } catch (const TransientError&) {
                admin.reset();
                if (attempt == 2) throw;
            } catch (const Error&) {
                admin.reset();
                throw;
            }
        }
    }

    // A RELOAD that failed (PgBouncer down or restarting) is tried again on its own every half
    // second, without reading the entries again, and does not hold up the syncs that
    // notifications ask for: PgBouncer reads the file anyway when it starts.
    static constexpr std::chrono::milliseconds reload_retry{500};
    std::exception_ptr reload_failure;
    Trouble reload_trouble;
    Clock::time_point next_reload{};
    // The directory's connection and the syncs on it.
    Trouble directory_trouble;

    // Sends RELOAD if one is pending. A failure is logged once (and its end once); one that no
    // retry mends (a refused login) before the first sync is done is thrown.
    bool try_reload() {
        if (!reload_pending) return true;
        try {
            reload();
        } catch (const Error& error) {
            reload_failure = std::current_exception();
            next_reload = Clock::now() + reload_retry;
            const std::string why = "PgBouncer could not be reloaded (SQLSTATE " + error.sqlstate() + "): " + error.what();
            if (reload_trouble.failed(why)) log(why + "; trying again every " + seconds_text(reload_retry));
            if (!synced_once && !is_transient(error)) throw;
            return false;
        }
        if (const int attempts = reload_trouble.ended()) log("PgBouncer reloaded after " + attempts_text(attempts));
        reload_failure = nullptr;
        reload_pending = false;
        return true;
    }

    PoolerSyncReport sync(PGconn* conn) {
        std::vector<PoolerEntry> entries = detail::read_pooler_entries(conn, o.admin_connection, o.auth_user.empty());
        // One order whatever order the servers answer in: the file changes only when the entries do.
        std::sort(entries.begin(), entries.end(), [](const PoolerEntry& a, const PoolerEntry& b) {
            return std::tie(a.database_name, a.server, a.username, a.host, a.port) <
                   std::tie(b.database_name, b.server, b.username, b.host, b.port);
        });
        PgbouncerFiles files = render_pgbouncer_files(entries, o.pool_mode, o.auth_user, header);
        PoolerSyncReport report;
        report.entries = files.result;
        std::set<std::string> servers, names;
        for (const PoolerEntry& e : files.result.written) {
            servers.insert(e.server);
            names.insert(e.database_name);
        }
        report.servers = servers.size();

        // Each skipped entry is named when it first shows, not at every sync.
        std::set<std::string> skips;
        for (const SkippedPoolerEntry& skipped : files.result.skipped)
            skips.insert("skipped " + describe(skipped) + ": it has " + skipped.reason +
                         "; its pooled URL does not work until it is fixed");
        for (const std::string& line : skips)
            if (!reported_skips.count(line)) log(line);
        reported_skips = std::move(skips);

        report.changed = !written_databases || *written_databases != files.databases ||
                         (files.with_auth_file && written_auth != files.auth);
        if (report.changed) {
            write_pgbouncer_files(o.out_dir, files);
            for (const std::string& name : names) report.added += written_names.count(name) ? 0 : 1;
            for (const std::string& name : written_names) report.removed += names.count(name) ? 0 : 1;
            written_databases = std::move(files.databases);
            written_auth = std::move(files.auth);
            written_names = std::move(names);
            reload_pending = !o.pgbouncer_admin.empty();
        }
        const bool was_pending = reload_pending;
        report.reloaded = was_pending && try_reload();
        if (report.changed)
            log(std::to_string(report.entries.written.size()) + " database entries (" + std::to_string(report.servers) +
                " server" + (report.servers == 1 ? "" : "s") + "), " +
                (synced_once ? "+" + std::to_string(report.added) + " -" + std::to_string(report.removed)
                             : std::string("at start")) +
                ", " + std::to_string(report.entries.skipped.size()) + " skipped: wrote " + o.out_dir + "/" +
                pgbouncer_databases_file +
                (o.auth_user.empty() ? std::string(" and ") + pgbouncer_auth_file : std::string()) +
                (report.reloaded             ? "; PgBouncer reloaded"
                 : o.pgbouncer_admin.empty() ? "; no admin console given: RELOAD PgBouncer"
                                             : "; PgBouncer not reloaded yet"));
        synced_once = true;
        return report;
    }
};

PoolerSync::PoolerSync(PoolerSyncOptions options) : state_(std::make_unique<State>()) {
    state_->o = std::move(options);
    if (!state_->o.auth_user.empty()) check_pooler_auth_user(state_->o.auth_user);
    if (state_->o.out_dir.empty()) throw InvalidInput("22023", "an output directory is needed");
    if (state_->o.interval.count() <= 0 || state_->o.coalesce.count() < 0)
        throw InvalidInput("22023", "the interval must be positive and the coalescing interval not negative");
}

PoolerSync::~PoolerSync() = default;

PoolerSyncReport PoolerSync::sync_once() {
    State& s = *state_;
    static thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const auto started = Clock::now();
    std::chrono::milliseconds backoff{100};
    for (;;) {
        try {
            PGconn* conn = s.directory ? s.directory.get() : s.connect_directory(false);
            PoolerSyncReport report = s.sync(conn);
            if (s.reload_pending) {
                try {
                    std::rethrow_exception(s.reload_failure);
                } catch (const TransientError& error) {
                    throw TransientError(error.sqlstate(),
                                         std::string("the entries are written but PgBouncer could not be reloaded: ") +
                                             error.what());
                } catch (const Error& error) {
                    throw Error(error.sqlstate(),
                                std::string("the entries are written but PgBouncer could not be reloaded: ") + error.what());
                }
            }
            return report;
        } catch (const TransientError& error) {
            s.drop_directory_if_broken();
            const auto pause = std::chrono::duration_cast<std::chrono::milliseconds>(backoff * jitter(random));
            if (Clock::now() - started + pause > s.o.retry_budget) throw;
            s.log(std::string("retrying after a transient fault: ") + error.what());
            std::this_thread::sleep_for(pause);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        }
    }
}

void PoolerSync::run(int wake_fd) {
    State& s = *state_;
    detail::SyncSchedule schedule(s.o.interval, s.o.coalesce, s.o.max_backoff);
    const std::string backoff_text = " (from " + seconds_text(detail::SyncSchedule::first_backoff) + ", doubling, up to " +
                                     seconds_text(std::max(s.o.max_backoff, detail::SyncSchedule::first_backoff)) + ")";
    auto drain_notifications = [&] {
        if (!s.directory) return;
        while (PGnotify* notification = PQnotifies(s.directory.get())) {
            // The payload is never read: anyone who may connect to the directory may NOTIFY.
            schedule.wanted();
            PQfreemem(notification);
        }
    };
    for (;;) {
        auto now = Clock::now();
        if (s.reload_pending && now >= s.next_reload && now < schedule.due()) {
            s.try_reload();
            now = Clock::now();
        }
        if (now >= schedule.due()) {
            if (!s.directory) {
                try {
                    s.connect_directory(true);
                    schedule.wanted();  // anything may have changed while it was not listening
                } catch (const Error& error) {
                    s.directory.reset();
                    if (!s.synced_once && !is_transient(error)) throw;
                    schedule.failed(Clock::now());
                    const std::string why = "cannot listen on the directory (SQLSTATE " + error.sqlstate() + "): " + error.what();
                    if (s.directory_trouble.failed(why)) s.log(why + "; trying again with backoff" + backoff_text);
                    continue;
                }
            }
            schedule.starting();
            try {
                s.sync(s.directory.get());
                schedule.succeeded(Clock::now());
                if (const int attempts = s.directory_trouble.ended()) s.log("synced after " + attempts_text(attempts));
            } catch (const Error& error) {
                if (!s.synced_once && !is_transient(error)) throw;
                s.drop_directory_if_broken();
                schedule.failed(Clock::now());
                const std::string why = "cannot sync (SQLSTATE " + error.sqlstate() + "): " + error.what();
                if (s.directory_trouble.failed(why)) s.log(why + "; trying again with backoff" + backoff_text);
            }
            drain_notifications();  // those that arrived during the sync
            continue;
        }
        const auto until = s.reload_pending ? std::min(schedule.due(), s.next_reload) : schedule.due();
        const auto wait = std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1);
        pollfd fds[2];
        int count = 0, directory_at = -1, wake_at = -1;
        if (s.directory) {
            directory_at = count;
            fds[count++] = pollfd{PQsocket(s.directory.get()), POLLIN, 0};
        }
        if (wake_fd >= 0) {
            wake_at = count;
            fds[count++] = pollfd{wake_fd, POLLIN, 0};
        }
        const int ready = ::poll(fds, count, static_cast<int>(std::min<long long>(wait, 60000)));
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw Error("58000", std::string("poll failed: ") + std::strerror(errno));
        }
        if (wake_at >= 0 && fds[wake_at].revents != 0) {
            char bytes[64];
            const ssize_t got = ::read(wake_fd, bytes, sizeof bytes);
            for (ssize_t i = 0; i < got; ++i) {
                if (bytes[i] == 'q') {
                    s.log("stopped");
                    return;
                }
                if (bytes[i] == 's') schedule.wanted();
            }
            if (got == 0) {  // the writing end is gone: nobody can stop it any more but by a signal
                ::close(wake_fd);
                wake_fd = -1;
            }
        }
        if (directory_at >= 0 && fds[directory_at].revents != 0) {
            if (!PQconsumeInput(s.directory.get()) || PQstatus(s.directory.get()) != CONNECTION_OK) {
                s.log("the connection to the directory was lost (" +
                      detail::scrub(PQerrorMessage(s.directory.get()), s.o.admin_connection) + "); reconnecting");
                s.directory.reset();
                schedule.wanted();
            } else {
                drain_notifications();
            }
        }
    }
}

}  // namespace claudable
