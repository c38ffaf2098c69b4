// SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) in the form PostgreSQL stores them:
//   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>     (base64 each)
// PostgreSQL's own builder (encrypt_password) runs its 4096 PBKDF2 rounds as separate
// HMAC calls, each an OpenSSL 3 provider lookup: 4-5 ms per verifier here, half of a
// claim's time. OpenSSL's PKCS5_PBKDF2_HMAC keys the HMAC once: about 1 ms.
// PostgreSQL checks every verifier this builds when the role logs in, and
// claudable_check() compares each project's stored password with its role's verifier.
#pragma once

#include <string>

namespace claudable {

// A verifier for `password` with a fresh 16-byte salt and PostgreSQL 15's 4096 rounds.
// `password` must be printable ASCII (what generate_password makes), for which SASLprep
// changes nothing; anything else is refused.
std::string scram_sha256_verifier(const std::string& password);

}  // namespace claudable
