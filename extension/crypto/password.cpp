#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "crypto/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pg/server.hpp"

namespace claudable {

std::string generate_password() {
    unsigned char raw[24];
    pg::strong_random(raw, sizeof raw);
    unsigned char encoded[4 * sizeof raw / 3 + 1];
    EVP_EncodeBlock(encoded, raw, sizeof raw);
    OPENSSL_cleanse(raw, sizeof raw);
    std::string password(reinterpret_cast<char*>(encoded), 4 * sizeof raw / 3);
    OPENSSL_cleanse(encoded, sizeof encoded);
    for (char& c : password) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return password;
}

}  // namespace claudable
