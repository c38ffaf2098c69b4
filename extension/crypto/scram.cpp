#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "crypto/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstring>

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

// StoredKey and ServerKey of `password` under `salt`, with this file's fixed rounds.
bool derive_keys(const std::string& password, const unsigned char* salt, unsigned char* stored_key,
                 unsigned char* server_key) {
    unsigned char salted[key_length], client_key[key_length];
    unsigned int length = 0;
    const bool ok =
        PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, salt_length, iterations,
                          EVP_sha256(), key_length, salted) == 1 &&
        HMAC(EVP_sha256(), salted, key_length, reinterpret_cast<const unsigned char*>("Client Key"), 10, client_key,
             &length) != nullptr &&
        SHA256(client_key, key_length, stored_key) != nullptr &&
        HMAC(EVP_sha256(), salted, key_length, reinterpret_cast<const unsigned char*>("Server Key"), 10, server_key,
             &length) != nullptr;
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return ok;
}

// `text` as exactly `length` bytes of base64 (with its padding), or false.
bool decode_exactly(const std::string& text, unsigned char* out, int length) {
    const std::size_t encoded_length = 4 * ((static_cast<std::size_t>(length) + 2) / 3);
    if (text.size() != encoded_length) return false;
    std::string decoded(encoded_length, '\0');
    const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                        reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (written != static_cast<int>(encoded_length / 4 * 3)) return false;
    memcpy(out, decoded.data(), static_cast<std::size_t>(length));
    return base64(out, length) == text;  // the canonical encoding, no stray bits or padding
}

}  // namespace

std::string scram_sha256_verifier(const std::string& password) {
    if (!printable_ascii(password))
        fail(sqlstate::internal_error, "claudable: a generated password is not printable ASCII");
    unsigned char salt[salt_length], stored_key[key_length], server_key[key_length];
    pg::strong_random(salt, sizeof salt);
    if (!derive_keys(password, salt, stored_key, server_key))
        fail(sqlstate::internal_error, "claudable: OpenSSL could not compute a SCRAM verifier");
    return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + base64(salt, salt_length) + "$" +
           base64(stored_key, key_length) + ":" + base64(server_key, key_length);
}

VerifierMatch match_verifier(const std::string& password, const std::string& verifier) {
    // Only the shape scram_sha256_verifier writes is computed: its rounds, salt and key
    // lengths. Anything else (a tenant's 2,000,000,000 rounds, a 1 MB salt) was not written
    // by claudable and costs nothing to tell.
    static const std::string head = "SCRAM-SHA-256$" + std::to_string(iterations) + ":";
    if (verifier.compare(0, head.size(), head) != 0) return VerifierMatch::not_written_by_claudable;
    const std::size_t dollar = verifier.find('$', head.size());
    const std::size_t colon = dollar == std::string::npos ? dollar : verifier.find(':', dollar + 1);
    if (colon == std::string::npos) return VerifierMatch::not_written_by_claudable;
    unsigned char salt[salt_length], stored[key_length], server[key_length];
    if (!decode_exactly(verifier.substr(head.size(), dollar - head.size()), salt, salt_length) ||
        !decode_exactly(verifier.substr(dollar + 1, colon - dollar - 1), stored, key_length) ||
        !decode_exactly(verifier.substr(colon + 1), server, key_length) || !printable_ascii(password))
        return VerifierMatch::not_written_by_claudable;
    unsigned char expected_stored[key_length], expected_server[key_length];
    if (!derive_keys(password, salt, expected_stored, expected_server))
        fail(sqlstate::internal_error, "claudable: OpenSSL could not compute a SCRAM verifier");
    const bool same = CRYPTO_memcmp(stored, expected_stored, key_length) == 0 &&
                      CRYPTO_memcmp(server, expected_server, key_length) == 0;
    return same ? VerifierMatch::same_password : VerifierMatch::other_password;
}

}  // namespace claudable
