#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "rules/connection_url.hpp"

#include <arpa/inet.h>

#include <array>

namespace claudable {

std::string percent_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

std::string database_url(const ConnectionTarget& target) {
    // An IPv6 literal must be bracketed; anything else is a name or IPv4 address.
    const bool ipv6_literal = target.host.find(':') != std::string::npos;
    std::string host = ipv6_literal ? "[" + target.host + "]" : percent_encode(target.host);
    std::string url = "postgresql://" + percent_encode(target.username) + ":" +
                      percent_encode(target.password) + "@" + host + ":" +
                      std::to_string(target.port) + "/" + percent_encode(target.database_name);
    // allow and prefer leave TLS to the client's default (libpq's is prefer). Written out,
    // node-postgres reads either as verify-full and refuses a server without a certificate
    // (README, "sslmode in each client"); every other mode means the same to both.
    if (!target.sslmode.empty() && target.sslmode != "allow" && target.sslmode != "prefer")
        url += "?sslmode=" + percent_encode(target.sslmode);
    return url;
}

bool is_valid_host(std::string_view value) {
    if (value.empty() || value.size() > 253) return false;
    const std::string text(value);
    if (value.find(':') != std::string_view::npos) {  // only an IPv6 address has a colon
        in6_addr address{};
        return ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
    }
    const auto is_alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    std::size_t label_start = 0;
    bool last_label_numeric = false;
    while (label_start <= text.size()) {
        std::size_t label_end = text.find('.', label_start);
        if (label_end == std::string::npos) label_end = text.size();
        const std::string_view label(text.data() + label_start, label_end - label_start);
        if (label.empty() || label.size() > 63 || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
        last_label_numeric = true;
        for (char c : label) {
            if (!is_alnum(c) && c != '-' && c != '_') return false;
            if (c < '0' || c > '9') last_label_numeric = false;
        }
        label_start = label_end + 1;
    }
    // A name that ends in digits is read as an IPv4 address by resolvers (127.1, 2130706433,
    // 0x7f.1, 0177.0.0.1 all mean 127.0.0.1 to glibc): only the dotted quad is accepted.
    if (last_label_numeric) {
        in_addr address{};
        return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
    }
    return true;
}

bool is_valid_sslmode(std::string_view value) {
    static constexpr std::array<std::string_view, 6> modes = {
        "disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
    for (auto mode : modes)
        if (mode == value) return true;
    return false;
}

}  // namespace claudable
