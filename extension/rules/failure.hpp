// The one error type that travels through the extension's C++ code.
//
// Both a PostgreSQL ERROR caught at the boundary and a refusal raised by our own
// code become a Failure; at the boundary back into PostgreSQL it becomes an
// ereport(ERROR) with the same SQLSTATE, message, detail and hint.
#pragma once

#include <stdexcept>
#include <string>

namespace claudable {

// Every field of a PostgreSQL error that a client can see, so none is lost on its way
// through C++ (or from a worker to its caller).
struct ErrorReport {
    std::string sqlstate;  // five characters, e.g. "22023"
    std::string message;
    std::string detail;
    std::string hint;
    std::string context;
    std::string schema_name;
    std::string table_name;
    std::string column_name;
    std::string datatype_name;
    std::string constraint_name;
};

class Failure : public std::runtime_error {
public:
    // `from_postgres`: a PostgreSQL ERROR caught at the boundary. elog.h's rule holds for
    // it: whoever catches it rethrows it or aborts the transaction, never goes on.
    explicit Failure(ErrorReport report, bool from_postgres = false)
        : std::runtime_error(report.message), report_(std::move(report)), from_postgres_(from_postgres) {}

    const ErrorReport& report() const noexcept { return report_; }
    const std::string& sqlstate() const noexcept { return report_.sqlstate; }
    bool from_postgres() const noexcept { return from_postgres_; }

private:
    ErrorReport report_;
    bool from_postgres_;
};

// SQLSTATEs the extension raises itself (PostgreSQL's errcodes.txt names).
namespace sqlstate {
inline constexpr const char* invalid_parameter_value = "22023";
inline constexpr const char* insufficient_privilege = "42501";
inline constexpr const char* duplicate_object = "42710";
inline constexpr const char* undefined_object = "42704";
inline constexpr const char* insufficient_resources = "53000";
inline constexpr const char* config_file_error = "F0000";
inline constexpr const char* object_not_in_prerequisite_state = "55000";
inline constexpr const char* read_only_sql_transaction = "25006";
inline constexpr const char* internal_error = "XX000";
inline constexpr const char* data_corrupted = "XX001";
}  // namespace sqlstate

[[noreturn]] inline void fail(const char* state, std::string message,
                              std::string detail = {}, std::string hint = {}) {
    throw Failure(ErrorReport{state, std::move(message), std::move(detail), std::move(hint)});
}

}  // namespace claudable
