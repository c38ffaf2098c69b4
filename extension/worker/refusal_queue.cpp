#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/refusal_queue.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "pg/background_worker.hpp"
#include "pg/server.hpp"
#include "store/project_store.hpp"
#include "rules/unique_fd.hpp"
#include "worker/single_runner.hpp"
#include "pg/transaction.hpp"

namespace claudable {
namespace {

// In the data directory, one queue per metadata database: it follows the server (base
// backups, a promoted standby drains what it queued), and holds no secret.
std::string queue_path(unsigned int database_id) {
    return pg::data_directory() + "/claudable_refusals." + std::to_string(database_id);
}

// Ids are validated, a role name is not: no tab or line break may split a record.
std::string field(std::string value) {
    for (char& c : value)
        if (static_cast<unsigned char>(c) < ' ') c = '?';
    return value;
}

std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> parts(1);
    for (char c : line) {
        if (c == separator) parts.emplace_back();
        else parts.back() += c;
    }
    return parts;
}

// Appends one record. The drainer renames the queue away under the same lock, so an
// appender that locked a file already renamed writes to the new one instead.
bool append(const std::string& path, const std::string& record) {
    for (int attempt = 0; attempt < 8; ++attempt) {
        UniqueFd file{::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)};
        if (file.fd < 0 || ::flock(file.fd, LOCK_EX) != 0) return false;
        struct stat opened {}, named {};
        if (::fstat(file.fd, &opened) != 0) return false;
        if (::stat(path.c_str(), &named) != 0 || named.st_ino != opened.st_ino) continue;  // renamed meanwhile
        return ::write(file.fd, record.data(), record.size()) == static_cast<ssize_t>(record.size());
    }
    return false;
}

std::string read_all(int fd) {
    std::string content;
    char buffer[8192];
    for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) content.append(buffer, static_cast<std::size_t>(got));
    return content;
}

// Moves the queue aside (quickly, under its lock), records what it held, then removes it.
// A crash between the commit and the unlink records those refusals twice, never zero times.
bool drain_once(const std::string& path) {
    const std::string draining = path + ".draining";
    if (::access(draining.c_str(), F_OK) != 0) {  // none left over from an earlier drainer
        UniqueFd queue{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
        if (queue.fd < 0 || ::flock(queue.fd, LOCK_EX) != 0) return false;
        struct stat st {};
        if (::fstat(queue.fd, &st) != 0 || st.st_size == 0) return false;
        if (::rename(path.c_str(), draining.c_str()) != 0) return false;
    }
    UniqueFd file{::open(draining.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (file.fd < 0) return false;
    std::vector<std::string> records = split(read_all(file.fd), '\n');
    // One entry per (action, project, actor) in queue order, whatever owner_id each call gave
    // (the caller chooses it freely): its first owner_id and time, its last time and how
    // many; record_refusals merges it into that key's event of the last minute.
    struct Burst {
        std::vector<std::string> key;
        std::string first, last;
        long long count = 0;
    };
    std::vector<Burst> bursts;
    for (const auto& record : records) {
        std::vector<std::string> f = split(record, '\t');
        if (f.size() != 5) continue;  // the empty tail, or a torn line
        const std::string at = f[4];
        f.resize(4);
        Burst* burst = nullptr;
        for (Burst& b : bursts)
            if (b.key[0] == f[0] && b.key[1] == f[1] && b.key[3] == f[3]) burst = &b;
        if (burst == nullptr || std::stod(at) - std::stod(burst->first) >= refusal_window_seconds) {
            bursts.push_back(Burst{f, at, at, 0});
            burst = &bursts.back();
        }
        burst->last = at;
        ++burst->count;
    }
    in_transaction([&] {
        for (const Burst& b : bursts) {
            pg::check_for_interrupts();
            const std::vector<std::string>& f = b.key;
            AuditEvent event{f[0], f[1], f[2], names_for(f[1]).database_name, f[3], "failed",
                             "42501: owner_id does not match the registered owner"};
            event.at_unix_seconds = b.first;
            // One LOG line per event, not per refused call: a flood stays a line a minute.
            if (record_refusals(event, b.last, b.count))
                pg::log("claudable: refused " + f[0] + " of project \"" + f[1] + "\" for owner \"" + f[2] +
                        "\" by \"" + f[3] + "\": registered to another owner" +
                        (b.count > 1 ? " (" + std::to_string(b.count) + " times; later ones within a minute are counted in claudable.events.repeats)" : ""));
        }
    });
    ::unlink(draining.c_str());
    return true;
}

}  // namespace

void queue_refusal(const Refusal& refusal) {
    {  // every failure below is a POSIX one, reported and absorbed; PostgreSQL's propagate
        const unsigned int database_id = pg::current_database_id();
        const double now = pg::now_unix_seconds();
        char at[32];
        snprintf(at, sizeof at, "%.6f", now);
        const std::string path = queue_path(database_id);
        const std::string record = field(refusal.action) + "\t" + field(refusal.project_id) + "\t" +
                                   field(refusal.owner_id) + "\t" + field(refusal.actor) + "\t" + at + "\n";
        if (!append(path, record)) {
            pg::log("claudable: refused " + refusal.action + " of project \"" + refusal.project_id + "\" for owner \"" +
                    refusal.owner_id + "\": registered to another owner (could not queue it for the audit trail: " +
                    std::string(std::strerror(errno)) + ")");
            return;
        }
        if (should_start_runner(path + ".drainer") && !pg::start_detached_worker(pg::DetachedWorker::refusal_drainer))
            start_failed(path + ".drainer");
    }
}

void run_refusal_drainer(unsigned int database_id, unsigned int role_id) {
    pg::connect_background_worker(database_id, role_id, false, 0, "claudable refusal drainer");
    drain_refusals();
}

void drain_refusals() {
    const std::string path = queue_path(pg::current_database_id());
    RunnerLock lock(path + ".drainer");
    if (!lock.try_take()) return;  // the running drainer looks at the queue again before it stops
    for (;;) {
        while (drain_once(path)) {
        }
        lock.release();
        // A refusal queued after the last look, by a caller that saw this drainer running.
        struct stat st {};
        const bool more = ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
        if (!more || !lock.try_take()) return;
    }
}

}  // namespace claudable
