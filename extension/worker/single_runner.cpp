#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/single_runner.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <ctime>

namespace claudable {
namespace {

bool lock_is_held(const std::string& lock_path) {
    UniqueFd lock{::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (lock.fd < 0) return false;
    return ::flock(lock.fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

// A mark left by a worker that never ran (a crash, no free slot) counts as stale after 10 s.
bool claim_the_start(const std::string& pending) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        UniqueFd file{::open(pending.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
        if (file.fd >= 0) return true;
        struct stat st {};
        if (errno != EEXIST || ::stat(pending.c_str(), &st) != 0 || ::time(nullptr) - st.st_mtime < 10) return false;
        ::unlink(pending.c_str());
    }
    return false;
}

}  // namespace

bool should_start_runner(const std::string& path) {
    return !lock_is_held(path + ".lock") && claim_the_start(path + ".pending");
}

void start_failed(const std::string& path) {
    ::unlink((path + ".pending").c_str());
}

RunnerLock::RunnerLock(std::string path)
    : path_(std::move(path)),
      file_(::open((path_ + ".lock").c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) {}

bool RunnerLock::try_take() {
    const bool taken = file_.fd >= 0 && ::flock(file_.fd, LOCK_EX | LOCK_NB) == 0;
    // The start this mark announced has happened, whether or not this worker got the lock:
    // the holder looks at its work again before it stops. A mark left behind by a worker
    // that lost the race would keep every caller of the next 10 s from starting one, and
    // work queued after the holder's last look would wait for a later caller.
    ::unlink((path_ + ".pending").c_str());
    return taken;
}

void RunnerLock::release() {
    if (file_.fd >= 0) ::flock(file_.fd, LOCK_UN);
}

}  // namespace claudable
