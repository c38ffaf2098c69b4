#include "pg/server.hpp"

#include "pg/boundary.hpp"

namespace claudable::pg {

void report_activity(const std::string& what) {
    const char* text = what.c_str();
    call([text]() noexcept { pgstat_report_activity(STATE_RUNNING, text); });
}

void strong_random(unsigned char* buffer, std::size_t size) {
    if (!call([buffer, size]() noexcept { return pg_strong_random(buffer, size); }))
        fail(sqlstate::internal_error, "claudable: could not generate random bytes");
}

void check_for_interrupts() {
    call([]() noexcept { CHECK_FOR_INTERRUPTS(); });
}

bool recovery_in_progress() {
    return call([]() noexcept { return RecoveryInProgress(); });
}

bool transaction_active() {
    return call([]() noexcept { return IsTransactionState(); });
}

bool is_superuser() {
    return call([]() noexcept { return superuser(); });
}

std::string session_user_name() {
    return call([]() noexcept { return GetUserNameFromId(GetSessionUserId(), false); });
}

std::string data_directory() {
    return call([]() noexcept { return static_cast<const char*>(DataDir); });
}

unsigned int current_database_id() {
    return call([]() noexcept { return static_cast<unsigned int>(MyDatabaseId); });
}

double now_unix_seconds() {
    return call([]() noexcept {
        return static_cast<double>(GetCurrentTimestamp()) / USECS_PER_SEC +
               static_cast<double>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
    });
}

void reload_configuration() {
    call([]() noexcept {
        ConfigReloadPending = false;
        ProcessConfigFile(PGC_SIGHUP);
    });
}

void pause_ms(long ms) {
    call([ms]() noexcept {
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    });
}

}  // namespace claudable::pg
