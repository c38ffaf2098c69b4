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

struct InvalidInput : Error { using Error::Error; };      // 22023
struct PermissionDenied : Error { using Error::Error; };  // 42501
struct Conflict : Error { using Error::Error; };          // 42710, name collisions
struct TransientError : Error { using Error::Error; };    // connection lost/refused, 53000, 57P03, 40001

// Throws the Error subclass that matches `sqlstate`.
[[noreturn]] void throw_for_sqlstate(const std::string& sqlstate, const std::string& message);

// The CLI's exit code for an error (README lists them): 3 invalid input, 4 permission,
// 5 conflict, 6 unavailable or transient, 1 anything else.
int exit_code_for(const Error& error) noexcept;

}  // namespace claudable
