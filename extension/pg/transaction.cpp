#include "pg/transaction.hpp"

#include "pg/boundary.hpp"

namespace claudable {

void in_transaction(const std::function<void()>& steps) {
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

}  // namespace claudable
