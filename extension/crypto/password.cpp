#include "crypto/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pg/boundary.hpp"

namespace claudable {

std::string generate_password() {
    unsigned char raw[24];
    bool ok = pg::call([&raw]() noexcept { return pg_strong_random(raw, sizeof raw); });
    if (!ok) fail(sqlstate::internal_error, "claudable: could not generate random bytes for a password");
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

std::string scram_verifier(const std::string& username, const std::string& password) {
    const char* role = username.c_str();
    const char* plain = password.c_str();
    char* built = pg::call([role, plain]() noexcept {
        return encrypt_password(PASSWORD_TYPE_SCRAM_SHA_256, role, plain);
    });
    std::string verifier(built);
    pg::call([built]() noexcept { pfree(built); });
    return verifier;
}

}  // namespace claudable
