// Passwords at rest: AES-256-GCM (OpenSSL), and the key's file format. Which key is in
// force and where it is kept is store/key_store.hpp's business.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace claudable {

class SecretKey {
public:
    static constexpr std::size_t size = 32;
    SecretKey() = default;
    SecretKey(const SecretKey&) = delete;
    SecretKey& operator=(const SecretKey&) = delete;
    ~SecretKey();
    unsigned char* data() noexcept { return bytes_.data(); }
    const unsigned char* data() const noexcept { return bytes_.data(); }

private:
    std::array<unsigned char, size> bytes_{};
};

// A fresh key from OpenSSL's CSPRNG.
void generate_key(SecretKey& key);
// Names a key without revealing it: hex of the first 16 bytes of HMAC-SHA-256(key, a
// constant). Stored in claudable.key_ring and shown in errors.
std::string key_fingerprint(const SecretKey& key);

// Reads a key file (64 hex characters and an optional newline). Returns false when it
// does not exist; a file that group or others may read, a symlink or anything but a
// regular file is refused, as PostgreSQL refuses its own private keys.
bool read_key_file(const std::string& path, SecretKey& key);
// Writes `key` to `path` with mode 0600: file and directory fsynced before it returns.
// `replace` false refuses an existing file (two writers agree on one key: the loser fails).
void write_key_file(const std::string& path, const SecretKey& key, bool replace);
// rename(from, to) made durable (the directory fsynced).
void rename_durably(const std::string& from, const std::string& to);

// box = version(1) || nonce(12) || ciphertext || tag(16). `context` is authenticated
// but not stored, so a box copied onto another project's row does not open.
std::string seal(const SecretKey& key, std::string_view plaintext, std::string_view context);
std::string open_sealed(const SecretKey& key, std::string_view box, std::string_view context);

// Overwrites a secret before its memory is released.
void wipe(std::string& secret) noexcept;

}  // namespace claudable
