// Passwords at rest: AES-256-GCM (OpenSSL) under a key that lives in a file, never in a table.
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

// Reads the key file (64 hex characters). When it does not exist it is created
// atomically with mode 0600 from OpenSSL's CSPRNG; a file that group or others may
// read is refused, as PostgreSQL refuses its own private keys.
void load_or_create_key(const std::string& path, SecretKey& key);

// The key of `path`, read (or created) once per backend and then kept in memory: the
// warm path then costs no file system call. A session that sets another
// claudable.key_file reads that one; a key file replaced on disk is seen by new sessions.
const SecretKey& key_for(const std::string& path);

// box = version(1) || nonce(12) || ciphertext || tag(16). `context` is authenticated
// but not stored, so a box copied onto another project's row does not open.
std::string seal(const SecretKey& key, std::string_view plaintext, std::string_view context);
std::string open_sealed(const SecretKey& key, std::string_view box, std::string_view context);

// Overwrites a secret before its memory is released.
void wipe(std::string& secret) noexcept;

}  // namespace claudable
