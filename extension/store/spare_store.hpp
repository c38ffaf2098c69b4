// claudable.spares: the spare databases (worker/spare_pool.hpp) as the metadata records
// them. What a spare looks like in the catalogs is judged by claudable.spare_pool(), the
// one definition this code and claudable_check() share.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace claudable {

struct SpareRow {
    std::string name;   // of its database and of its role: claudable_spare_<n>
    std::string state;  // creating | ready | retiring
    bool fits = false;    // made from the template named, as it is now
    bool intact = false;  // nobody logs in or connects, nothing granted or set, both marked
    bool pooled = false;  // has PgBouncer's lookup, or claudable.pooler_auth_user is empty
    bool claimable() const { return state == "ready" && fits && intact && pooled; }
};

// `pooler_auth_user`: claudable.pooler_auth_user ("" when unset); a spare without the
// lookup for that role is not claimable.
std::vector<SpareRow> spare_rows(const std::string& template_name, const std::string& pooler_auth_user);
struct ClaimableSpare {
    std::string name;
    std::string password_sealed;  // "" when the spare has no password yet
    std::string key_fingerprint;
};
// The oldest claimable spare, its row locked FOR UPDATE until the transaction ends; a
// spare another transaction holds is skipped.
std::optional<ClaimableSpare> lock_claimable_spare(const std::string& template_name,
                                                   const std::string& pooler_auth_user);
// Whether a claimable spare exists now (no lock: a hint, not a promise).
bool claimable_spare_exists(const std::string& template_name, const std::string& pooler_auth_user);
// The context a spare's password is sealed for: never a project id (no ':' in those).
std::string spare_seal_context(const std::string& name);
// Locks the spare's row; false when it is gone or another transaction holds it.
bool lock_spare(const std::string& name);
// A name no role or database has yet.
std::string next_spare_name();
// Records a spare about to be made from `template_name` (state creating); 3D000 when
// the template does not exist.
void record_new_spare(const std::string& name, const std::string& template_name);
void record_spare_password(const std::string& name, const std::string& password_sealed,
                           const std::string& key_fingerprint);
void set_spare_state(const std::string& name, const char* state);
void delete_spare(const std::string& name);
// Roles and databases that carry the spare marker but have no row (a restore from
// pg_dumpall, a crash): recorded as retiring, so that the refill drops them.
void record_unlisted_spares();
// The comment on every spare's role and database (claudable.spare_marker()); "" before
// the installation id exists.
std::string spare_marker();

}  // namespace claudable
