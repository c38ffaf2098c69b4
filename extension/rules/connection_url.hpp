// The DATABASE_URL handed to an app: postgresql://user:password@host:port/database[?sslmode=...]
#pragma once

#include <string>
#include <string_view>

namespace claudable {

struct ConnectionTarget {
    std::string username;
    std::string password;
    std::string host;
    int port = 5432;
    std::string database_name;
    std::string sslmode;  // empty: no query string
};

// RFC 3986: everything outside the unreserved set is percent-encoded.
std::string percent_encode(std::string_view text);
std::string database_url(const ConnectionTarget& target);

// libpq accepts exactly these sslmode values.
bool is_valid_sslmode(std::string_view value);

// A host a URL and a conninfo can carry as it is, and that every resolver reads alike: a DNS
// name (labels of letters, digits, '-' and '_' that start and end with a letter or digit, at
// most 63 each, the last not all digits), a dotted-quad IPv4 address or an IPv6 address
// (without brackets or zone), at most 253 characters. Anything else (a socket directory, a
// space, '@', '/', a quote, host:port, 127.1) would make a URL that no client reads back as
// written, or one that clients resolve differently.
bool is_valid_host(std::string_view value);

}  // namespace claudable
