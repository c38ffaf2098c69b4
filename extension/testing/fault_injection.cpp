#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "testing/fault_injection.hpp"

#ifdef CLAUDABLE_FAULT_INJECTION

#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"

namespace claudable {

void reach_fault_point(const std::string& armed, const char* point) {
    if (armed != point) return;
    pg::report_activity(std::string("claudable: fault point ") + point);
    auto wait_for_release = [] {
        pg::query("SELECT pg_catalog.pg_advisory_xact_lock($1, 0)", {pg::int4_param(fault_lock_class)});
    };
    if (pg::transaction_active())
        wait_for_release();  // the lock is then held until the enclosing step commits
    else
        in_transaction(wait_for_release);
}

}  // namespace claudable

#endif
