// One detached worker at a time for a job nobody waits for (the refusal drainer, the
// spare refiller), coordinated through files in the data directory, which only the
// server's OS user can touch (unlike an advisory lock key, which any role that can
// connect may take):
//
//   <path>.lock     held (flock LOCK_EX) by the running worker for its whole run
//   <path>.pending  made (O_EXCL) by the caller that starts one, removed by the worker
//                   once it holds the lock, so a burst of callers starts one worker
#pragma once

#include <string>

#include "rules/unique_fd.hpp"

namespace claudable {

// Caller side: true when a worker should be started now (none holds the lock and no
// other caller is starting one). The caller then starts it, or calls start_failed().
bool should_start_runner(const std::string& path);
void start_failed(const std::string& path);

// Worker side.
class RunnerLock {
public:
    explicit RunnerLock(std::string path);
    // Takes the lock if nobody holds it; the pending mark is removed either way.
    bool try_take();
    void release();

private:
    std::string path_;
    UniqueFd file_;
};

}  // namespace claudable
