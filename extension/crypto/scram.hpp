// SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) in the form PostgreSQL stores them:
//   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>     (base64 each)
// PostgreSQL's own builder (encrypt_password) runs its 4096 PBKDF2 rounds as separate
// HMAC calls, each an OpenSSL 3 provider lookup: 4-5 ms per verifier here, half of a
// claim's time. OpenSSL's PKCS5_PBKDF2_HMAC keys the HMAC once: about 1 ms.
// PostgreSQL checks every verifier this builds when the role logs in, and
// claudable_check() compares each project's stored password with its role's verifier
// (match_verifier), never with PostgreSQL's check, whose cost the verifier sets.
#pragma once

#include <string>

namespace claudable {

// A verifier for `password` with a fresh 16-byte salt and PostgreSQL 15's 4096 rounds.
// `password` must be printable ASCII (what generate_password makes), for which SASLprep
// changes nothing; anything else is refused.
std::string scram_sha256_verifier(const std::string& password);

enum class VerifierMatch {
    same_password,             // written by claudable for `password`
    other_password,            // claudable's shape, another password
    not_written_by_claudable,  // another shape (rounds, salt or key length, encoding): never computed
};
// Whether `verifier` (a role's rolpassword) is one scram_sha256_verifier wrote for `password`.
// Its cost is bounded by this file's rounds, whatever the verifier says: a tenant may set its
// own verifier with any iteration count, and PostgreSQL's own check would run them all
// without looking at cancel or statement_timeout.
VerifierMatch match_verifier(const std::string& password, const std::string& verifier);

}  // namespace claudable
