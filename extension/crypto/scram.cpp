#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "crypto/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "pg/server.hpp"
#include "rules/failure.hpp"

namespace claudable {
namespace {

constexpr int iterations = 4096;  // SCRAM_DEFAULT_ITERATIONS of PostgreSQL 15
constexpr int salt_length = 16;   // SCRAM_DEFAULT_SALT_LEN
constexpr int key_length = SHA256_DIGEST_LENGTH;

std::string base64(const unsigned char* bytes, int length) {
    std::string encoded(4 * ((length + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), bytes, length);
    encoded.resize(static_cast<std::size_t>(written));
    return encoded;
}

bool printable_ascii(const std::string& text) {
    for (char c : text)
        if (c < 0x21 || c > 0x7e) return false;
    return !text.empty();
}

}  // namespace

std::string scram_sha256_verifier(const std::string& password) {
    if (!printable_ascii(password))
        fail(sqlstate::internal_error, "claudable: a generated password is not printable ASCII");
    unsigned char salt[salt_length];
    pg::strong_random(salt, sizeof salt);
    unsigned char salted[key_length], client_key[key_length], stored_key[key_length], server_key[key_length];
    unsigned int length = 0;
    const bool ok =
        PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, sizeof salt, iterations,
                          EVP_sha256(), key_length, salted) == 1 &&
        HMAC(EVP_sha256(), salted, key_length, reinterpret_cast<const unsigned char*>("Client Key"), 10, client_key,
             &length) != nullptr &&
        SHA256(client_key, key_length, stored_key) != nullptr &&
        HMAC(EVP_sha256(), salted, key_length, reinterpret_cast<const unsigned char*>("Server Key"), 10, server_key,
             &length) != nullptr;
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (!ok) fail(sqlstate::internal_error, "claudable: OpenSSL could not compute a SCRAM verifier");
    return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + base64(salt, salt_length) + "$" +
           base64(stored_key, key_length) + ":" + base64(server_key, key_length);
}

}  // namespace claudable
