#include "testing/fault_injection.hpp"

#ifdef CLAUDABLE_FAULT_INJECTION

#include "pg/boundary.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"

namespace claudable {
namespace {

char* fault_point_setting = nullptr;

bool check_fault_point(char** value, void** extra, GucSource source) noexcept {
    if (*value == nullptr || **value == '\0') return true;
    for (const char* point : fault_points)
        if (strcmp(*value, point) == 0) return true;
    GUC_check_errdetail("Known fault points: after_reservation, after_role, after_database, before_ready, "
                        "deprovision_marked, deprovision_locked_out.");
    return false;
}

}  // namespace

void define_fault_injection_setting() {
    pg::call([]() noexcept {
        DefineCustomStringVariable("claudable.fault_point",
                                   "Test builds only: the provisioning step at which the worker parks.", nullptr,
                                   &fault_point_setting, "", PGC_SUSET, 0, check_fault_point, nullptr, nullptr);
    });
}

std::string armed_fault_point() {
    return fault_point_setting != nullptr ? fault_point_setting : "";
}

void reach_fault_point(const std::string& armed, const char* point) {
    if (armed != point) return;
    pg::report_activity(std::string("claudable: fault point ") + point);
    auto wait_for_release = [] {
        pg::query("SELECT pg_catalog.pg_advisory_xact_lock($1, 0)", {pg::int4_param(fault_lock_class)});
    };
    if (pg::call([]() noexcept { return IsTransactionState(); }))
        wait_for_release();  // the lock is then held until the enclosing step commits
    else
        in_transaction(wait_for_release);
}

}  // namespace claudable

#endif
