// When `claudable pooler-sync` syncs next: at once at start and after a notification (or a
// lost connection), but never sooner than `coalesce` after the previous sync ended, so that a
// flood of notifications costs at most one sync per coalescing interval; else `interval` after
// the previous sync (the safety net); after a failure, a backoff that doubles up to
// `max_backoff`. Pure (no clock of its own): private to the library, tested by unit_tests.
#pragma once

#include <algorithm>
#include <chrono>

namespace claudable::detail {

class SyncSchedule {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;
    using Duration = std::chrono::milliseconds;
    static constexpr Duration first_backoff{250};

    SyncSchedule(Duration interval, Duration coalesce, Duration max_backoff)
        : interval_(interval), coalesce_(coalesce), max_backoff_(std::max(max_backoff, first_backoff)) {}

    // A notification arrived, a sync was asked for, or the connection was lost (the next
    // attempt reconnects): a sync is wanted.
    void wanted() noexcept { wanted_ = true; }
    bool is_wanted() const noexcept { return wanted_; }

    // A sync starts: what is notified from now on wants another one.
    void starting() noexcept { wanted_ = false; }

    void succeeded(TimePoint now) noexcept {
        last_end_ = now;
        not_before_ = now + coalesce_;
        backoff_ = first_backoff;
    }

    // The attempt (a connection or a sync) failed: tried again after the current backoff,
    // which then doubles. Returns the wait.
    Duration failed(TimePoint now) noexcept {
        const Duration wait = backoff_;
        wanted_ = true;
        not_before_ = now + wait;
        backoff_ = std::min(backoff_ * 2, max_backoff_);
        return wait;
    }

    // When the next sync is due (in the past: now).
    TimePoint due() const noexcept {
        if (wanted_) return not_before_;
        return std::max(not_before_, last_end_ + interval_);
    }

private:
    Duration interval_;
    Duration coalesce_;
    Duration max_backoff_;
    Duration backoff_ = first_backoff;
    bool wanted_ = true;  // the first sync, at once
    TimePoint last_end_{};
    TimePoint not_before_{};
};

}  // namespace claudable::detail
