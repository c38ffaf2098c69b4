// Transactions a background worker runs for itself: it has no client to start them.
#pragma once

#include <functional>
#include <optional>

namespace claudable {

// Runs `steps` in a transaction of its own with an active snapshot, commits it, and
// aborts it (then rethrows) if a step or the commit fails.
void in_transaction(const std::function<void()>& steps);

template <typename Step>
auto in_transaction_result(Step&& step) -> decltype(step()) {
    std::optional<decltype(step())> result;
    in_transaction([&] { result = step(); });
    return std::move(*result);
}

}  // namespace claudable
