#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "rules/connection_url.hpp"

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
    if (!target.sslmode.empty())
        url += "?sslmode=" + percent_encode(target.sslmode);
    return url;
}

bool is_valid_host(std::string_view value) {
    if (value.empty() || value.size() > 253) return false;
    const auto is_hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    if (value.find(':') != std::string_view::npos) {  // IPv6, possibly with an embedded IPv4 tail
        for (char c : value)
            if (!is_hex(c) && c != ':' && c != '.') return false;
        return true;
    }
    std::size_t label = 0;
    char previous = '.';
    for (char c : value) {
        const bool name_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                               c == '-' || c == '_';
        if (c == '.') {
            if (label == 0 || previous == '-') return false;
            label = 0;
        } else if (!name_char || (label == 0 && c == '-') || ++label > 63) {
            return false;
        }
        previous = c;
    }
    return label > 0 && previous != '-';
}

bool is_valid_sslmode(std::string_view value) {
    static constexpr std::array<std::string_view, 6> modes = {
        "disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
    for (auto mode : modes)
        if (mode == value) return true;
    return false;
}

}  // namespace claudable
