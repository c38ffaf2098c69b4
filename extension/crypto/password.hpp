// Project passwords: generated from pg_strong_random, handed to PostgreSQL only as
// a SCRAM-SHA-256 verifier (crypto/scram.hpp).
#pragma once

#include <string>

namespace claudable {

// 24 random bytes as 32 base64url characters (192 bits, no padding, URL-safe).
std::string generate_password();

}  // namespace claudable
