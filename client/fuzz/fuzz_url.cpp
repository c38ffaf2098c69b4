// libFuzzer: database_url percent-encodes every part, and mask_url hides exactly the password.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "claudable/secret.hpp"
#include "rules/connection_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    // Split the input into user, password and database at the first two NUL bytes.
    std::string parts[3];
    int part = 0;
    for (char c : input) {
        if (c == '\0' && part < 2) ++part;
        else parts[part] += c;
    }
    const claudable::ConnectionTarget target{parts[0], parts[1], "db.example", 5432, parts[2], ""};
    const std::string url = claudable::database_url(target);
    for (std::size_t i = 0; i < url.size(); ++i) {
        const unsigned char c = url[i];
        if (c < 0x21 || c > 0x7e) std::abort();  // only printable ASCII
    }
    const std::string expected_mask = "postgresql://" + claudable::percent_encode(parts[0]) + ":********@db.example:5432/" +
                                      claudable::percent_encode(parts[2]);
    if (claudable::mask_url(url) != expected_mask) std::abort();
    return 0;
}
