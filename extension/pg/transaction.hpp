// Transactions a background worker runs for itself: it has no client to start them.
#pragma once

#include <optional>

#include "pg/boundary.hpp"

namespace claudable {

// Runs `steps` in a transaction of its own with an active snapshot, commits it, and
// aborts it (then rethrows) if a step or the commit fails.
template <typename Steps>
void in_transaction(Steps&& steps) {
    pg::call([]() noexcept {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
    });
    try {
        steps();
        pg::call([]() noexcept {
            PopActiveSnapshot();
            CommitTransactionCommand();
        });
    } catch (...) {
        pg::call([]() noexcept { AbortCurrentTransaction(); });
        throw;
    }
}

template <typename Step>
auto in_transaction_result(Step&& step) -> decltype(step()) {
    std::optional<decltype(step())> result;
    in_transaction([&] { result = step(); });
    return std::move(*result);
}

// What pg_stat_activity shows as this worker's query.
inline void report_activity(const std::string& what) {
    const char* text = what.c_str();
    pg::call([text]() noexcept { pgstat_report_activity(STATE_RUNNING, text); });
}

}  // namespace claudable
