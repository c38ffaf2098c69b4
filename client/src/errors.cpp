#include "claudable/errors.hpp"

namespace claudable {

void throw_for_sqlstate(const std::string& sqlstate, const std::string& message) {
    if (sqlstate == "22023") throw InvalidInput(sqlstate, message);
    if (sqlstate == "42501") throw PermissionDenied(sqlstate, message);
    if (sqlstate == "42710") throw Conflict(sqlstate, message);
    if (sqlstate == "53000" || sqlstate == "57P03" || sqlstate == "40001" || sqlstate.rfind("08", 0) == 0)
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

}  // namespace claudable
