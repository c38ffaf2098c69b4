// A value that must not reach a log: streaming it prints its mask; reveal() is explicit.
#pragma once

#include <ostream>
#include <string>
#include <utility>

namespace claudable {

class Secret {
public:
    Secret() = default;
    Secret(std::string value, std::string mask) : value_(std::move(value)), mask_(std::move(mask)) {}
    Secret(const Secret&) = default;
    Secret(Secret&&) noexcept = default;
    Secret& operator=(const Secret&) = default;
    Secret& operator=(Secret&&) noexcept = default;
    ~Secret();

    // The secret itself, for the one place that needs it (a connection, an env file).
    const std::string& reveal() const noexcept { return value_; }
    // What humans see: "********", or a URL with its password masked.
    const std::string& masked() const noexcept { return mask_; }
    bool empty() const noexcept { return value_.empty(); }

private:
    std::string value_;
    std::string mask_;
};

inline std::ostream& operator<<(std::ostream& out, const Secret& secret) { return out << secret.masked(); }
inline std::string to_string(const Secret& secret) { return secret.masked(); }

inline constexpr const char* password_mask = "********";

// postgresql://user:password@host/... -> postgresql://user:********@host/... ; a URL
// without a password is returned as is.
std::string mask_url(const std::string& url);
Secret password_secret(std::string password);
Secret url_secret(std::string url);

}  // namespace claudable
