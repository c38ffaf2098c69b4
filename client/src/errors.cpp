#include "claudable/errors.hpp"

#include "faults.hpp"

namespace claudable {

void throw_for_sqlstate(const std::string& sqlstate, const std::string& message) {
    // 0A000: what the call asks for is not supported (a branch of a branch).
    if (sqlstate == "22023" || sqlstate == "0A000") throw InvalidInput(sqlstate, message);
    if (sqlstate == "42501") throw PermissionDenied(sqlstate, message);
    if (sqlstate == "42710") throw Conflict(sqlstate, message);
    // 55006: the project's sessions did not end within the server's bounded wait; call again.
    if (sqlstate == "53000" || sqlstate == "57P03" || sqlstate == "40001" || sqlstate == "55006" ||
        detail::ends_session(sqlstate) || sqlstate.rfind("08", 0) == 0)
        throw TransientError(sqlstate, message);
    throw Error(sqlstate, message);
}

int exit_code_for(const Error& error) noexcept {
    if (dynamic_cast<const InvalidInput*>(&error)) return 3;
    if (dynamic_cast<const PermissionDenied*>(&error)) return 4;
    if (dynamic_cast<const Conflict*>(&error)) return 5;
    if (dynamic_cast<const TransientError*>(&error)) return 6;
    if (dynamic_cast<const OutcomeUnknown*>(&error)) return 7;
    return 1;
}

namespace detail {

bool ends_session(const std::string& sqlstate) noexcept { return sqlstate == "57P01" || sqlstate == "57P02"; }

void throw_for_answer(const std::string& sqlstate, const std::string& message) {
    // 08006 as an answer: a fleet directory's connection to the project's server broke
    // during the call, which may have run there (README, "Fleet"). Not "nothing happened".
    if (ends_session(sqlstate) || sqlstate == "08006") throw LostAfterSending(sqlstate, message);
    throw_for_sqlstate(sqlstate, message);
}

bool login_failure_is_transient(const std::string& message) {
    if (message.find("FATAL:") == std::string::npos) return true;
    for (const char* passing : {// 57P03
                                "the database system is starting up", "the database system is shutting down",
                                "the database system is in recovery mode", "the database system is not yet accepting",
                                "the database system is not accepting",
                                // 53300
                                "too many clients already", "remaining connection slots are reserved",
                                // 57P01: a restart or pg_terminate_backend during the login
                                "terminating connection due to administrator command",
                                "terminating connection due to unexpected postmaster exit",
                                // 57P02
                                "terminating connection because of crash of another server process"})
        if (message.find(passing) != std::string::npos) return true;
    return false;
}

}  // namespace detail
}  // namespace claudable
