// Errors carry the SQLSTATE; their type says what the caller can do about them.
// No message ever holds the admin URL or a password.
#pragma once

#include <stdexcept>
#include <string>

namespace claudable {

class Error : public std::runtime_error {
public:
    Error(std::string sqlstate, const std::string& message)
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::string sqlstate_;
};

struct InvalidInput : Error { using Error::Error; };      // 22023; 0A000 (a branch of a branch)
struct PermissionDenied : Error { using Error::Error; };  // 42501
struct Conflict : Error { using Error::Error; };          // 42710, name collisions
// Connection lost or refused, 53000, 57P03, 40001, 55006 (the project's sessions did not end
// within the server's bounded wait), and a session the server ended (57P01 admin_shutdown: a
// restart or pg_terminate_backend; 57P02 crash_shutdown).
struct TransientError : Error { using Error::Error; };
// The call never reached the server (connecting failed, or the request could not be sent):
// safe to run again whatever it was.
struct NotSent : TransientError { using TransientError::TransientError; };
// The connection broke after a deprovision, rotate, snapshot or restore was sent: it may or
// may not have happened. Never re-run on its own; look before calling again (README).
struct OutcomeUnknown : Error { using Error::Error; };

// Throws the Error subclass that matches `sqlstate`.
[[noreturn]] void throw_for_sqlstate(const std::string& sqlstate, const std::string& message);

// The CLI's exit code for an error (README lists them): 3 invalid input, 4 permission,
// 5 conflict, 6 unavailable or transient, 7 outcome unknown, 1 anything else.
int exit_code_for(const Error& error) noexcept;

}  // namespace claudable
