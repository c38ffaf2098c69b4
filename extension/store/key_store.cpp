#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "store/key_store.hpp"

#include <memory>
#include <optional>
#include <vector>

#include <openssl/crypto.h>

#include "rules/failure.hpp"
#include "store/project_store.hpp"
#include "pg/server.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"

namespace claudable {
namespace {

inline constexpr const char* undefined_file = "58P01";

struct CachedKey {
    std::string fingerprint;
    std::string key_file;  // where it was read: a session that sets another claudable.key_file reads that
    std::unique_ptr<SecretKey> key;
};
// Keys read by this backend; a handful at most (one per rotation it lived through).
std::vector<CachedKey> key_cache;

// Returns the cached key (the cache owns it) as a pointer: gcc 14 warns that a returned reference
// may dangle when an argument is a temporary (the strings), though the key is not one of them.
const SecretKey* remember(const std::string& fingerprint, const std::string& key_file, std::unique_ptr<SecretKey> key) {
    key_cache.push_back(CachedKey{fingerprint, key_file, std::move(key)});
    return key_cache.back().key.get();
}

void forget_all_but(const std::string& fingerprint) {
    std::vector<CachedKey> kept;
    for (auto& entry : key_cache)
        if (entry.fingerprint == fingerprint) kept.push_back(std::move(entry));
    key_cache = std::move(kept);
}

std::optional<std::string> active_fingerprint() {
    auto rows = pg::query("SELECT k.fingerprint FROM claudable.key_ring AS k WHERE k.state = 'active'");
    if (rows.empty()) return std::nullopt;
    return rows[0][0];
}

std::optional<std::string> ring_state(const std::string& fingerprint) {
    auto rows = pg::query("SELECT k.state FROM claudable.key_ring AS k WHERE k.fingerprint = $1",
                          {pg::text_param(fingerprint)});
    if (rows.empty()) return std::nullopt;
    return rows[0][0];
}

std::string where_kept(const std::string& key_file) {
    return key_file.empty() ? "claudable.key_material" : "key file \"" + key_file + "\"";
}

const char* const restore_hint =
    "Restore the key with the recorded fingerprint: on a server restored with pg_dump, run "
    "SELECT claudable_import_key('<file>') with the file claudable_export_key() wrote on the original server; "
    "with claudable.key_file set, copy the original key file to that path on this server (mode 0600, owned by "
    "the server's user). A new key would make every stored password unreadable, so none is created.";

[[noreturn]] void refuse_missing(const std::string& fingerprint, const std::string& key_file) {
    fail(undefined_file, "claudable: the key that sealed the stored passwords is missing",
         "Key " + fingerprint + " is recorded in claudable.key_ring but not found in " + where_kept(key_file) + ".",
         restore_hint);
}

[[noreturn]] void refuse_wrong(const std::string& found, const std::string& wanted, const std::string& key_file) {
    const std::optional<std::string> state = ring_state(found);
    std::string detail = where_kept(key_file) + " holds key " + found;
    if (state && *state == "retired")
        detail += ", which claudable_rotate_key() retired";
    else
        detail += ", which this installation never recorded";
    detail += "; the passwords are sealed with key " + wanted + ".";
    fail(sqlstate::config_file_error, "claudable: the key in " + where_kept(key_file) +
             " is not the key that sealed the stored passwords", detail,
         key_file.empty() ? restore_hint
                          : "Copy the current key file from the primary (after claudable_rotate_key() it changed "
                            "there) or restore it from where you keep it.");
}

std::unique_ptr<SecretKey> load_from_database(const std::string& fingerprint) {
    auto rows = pg::query("SELECT m.material FROM claudable.key_material AS m WHERE m.fingerprint = $1",
                          {pg::text_param(fingerprint)});
    if (rows.empty() || !rows[0][0] || rows[0][0]->size() != SecretKey::size) refuse_missing(fingerprint, "");
    auto key = std::make_unique<SecretKey>();
    std::copy(rows[0][0]->begin(), rows[0][0]->end(), key->data());
    OPENSSL_cleanse(rows[0][0]->data(), rows[0][0]->size());
    return key;
}

// The key file, or the <key_file>.next that an interrupted claudable_rotate_key() left
// (then the rename is finished here).
std::unique_ptr<SecretKey> load_from_file(const std::string& fingerprint, const std::string& key_file) {
    auto key = std::make_unique<SecretKey>();
    const bool present = read_key_file(key_file, *key);
    if (present && key_fingerprint(*key) == fingerprint) return key;
    const std::string next = key_file + ".next";
    auto candidate = std::make_unique<SecretKey>();
    if (read_key_file(next, *candidate) && key_fingerprint(*candidate) == fingerprint) {
        try {
            rename_durably(next, key_file);
        } catch (const Failure&) {
            // The key is right; a later reader or the DBA finishes the rename.
        }
        return candidate;
    }
    if (!present) refuse_missing(fingerprint, key_file);
    refuse_wrong(key_fingerprint(*key), fingerprint, key_file);
}

void record_active(const std::string& fingerprint, const SecretKey& key, const std::string& key_file) {
    pg::query("INSERT INTO claudable.key_ring (fingerprint, state) VALUES ($1, 'active')",
              {pg::text_param(fingerprint)});
    if (key_file.empty())
        pg::query("INSERT INTO claudable.key_material (fingerprint, material) VALUES ($1, $2)",
                  {pg::text_param(fingerprint),
                   pg::bytea_param(std::string_view(reinterpret_cast<const char*>(key.data()), SecretKey::size))});
}

std::int64_t sealed_rows() {
    return pg::as_int64(pg::query("SELECT pg_catalog.count(*) FROM claudable.projects").at(0)[0]);
}

}  // namespace

const SecretKey& key_with_fingerprint(const std::string& fingerprint, const std::string& key_file) {
    if (fingerprint.empty())
        fail(undefined_file, "claudable: no key is recorded for the stored password", {}, restore_hint);
    for (const auto& entry : key_cache)
        if (entry.fingerprint == fingerprint && entry.key_file == key_file) return *entry.key;
    return *remember(fingerprint, key_file,
                     key_file.empty() ? load_from_database(fingerprint) : load_from_file(fingerprint, key_file));
}

void forget_cached_keys() {
    key_cache.clear();
}

void verify_key_source(const std::string& fingerprint, const std::string& key_file) {
    if (key_file.empty())
        load_from_database(fingerprint);
    else
        load_from_file(fingerprint, key_file);
}

std::optional<ActiveKey> existing_active_key(const std::string& key_file) {
    const std::optional<std::string> fingerprint = active_fingerprint();
    if (!fingerprint) return std::nullopt;
    return ActiveKey{&key_with_fingerprint(*fingerprint, key_file), *fingerprint};
}

ActiveKey active_key(const std::string& key_file, bool may_create) {
    if (std::optional<std::string> fingerprint = active_fingerprint())
        return ActiveKey{&key_with_fingerprint(*fingerprint, key_file), *fingerprint};
    const std::int64_t sealed = sealed_rows();
    if (!may_create || sealed > 0)
        fail(undefined_file,
             sealed > 0 ? "claudable: no key is recorded, but " + std::to_string(sealed) +
                              " stored passwords are sealed"
                        : std::string("claudable: no key is recorded yet"),
             {}, restore_hint);
    auto key = std::make_unique<SecretKey>();
    // An operator may have placed the external key file before the first project.
    if (key_file.empty() || !read_key_file(key_file, *key)) {
        generate_key(*key);
        if (!key_file.empty()) write_key_file(key_file, *key, false);
    }
    const std::string fingerprint = key_fingerprint(*key);
    record_active(fingerprint, *key, key_file);
    pg::log("claudable: created key " + fingerprint + " in " + where_kept(key_file));
    const SecretKey* kept = remember(fingerprint, key_file, std::move(key));
    return ActiveKey{kept, fingerprint};
}

std::string rotate_key(const std::string& key_file, const std::string& actor) {
    auto fresh = std::make_unique<SecretKey>();
    generate_key(*fresh);
    const std::string fingerprint = key_fingerprint(*fresh);
    const std::string next = key_file + ".next";
    if (!key_file.empty()) write_key_file(next, *fresh, true);

    std::string retired;
    std::size_t resealed = 0;
    in_transaction([&] {
        lock_provisioning(LockStrength::exclusive);
        std::optional<std::string> old = active_fingerprint();
        if (!old)
            fail(sqlstate::object_not_in_prerequisite_state, "claudable: there is no key to rotate yet", {},
                 "The first provisioned project creates the key.");
        retired = *old;
        key_with_fingerprint(retired, key_file);  // refuses a missing or wrong key before anything changes
        auto rows = pg::query(
            "SELECT p.project_id, p.password_sealed, p.key_fingerprint FROM claudable.projects AS p"
            " ORDER BY p.project_id FOR UPDATE");
        std::vector<std::pair<std::string, std::string>> resealed_rows;
        for (const auto& row : rows) {
            pg::check_for_interrupts();
            const std::string project_id = row[0].value_or("");
            std::string password;
            try {
                password = open_sealed(key_with_fingerprint(row[2].value_or(""), key_file), row[1].value_or(""),
                                       project_id);
            } catch (const Failure& failure) {
                if (failure.from_postgres()) throw;
                fail(sqlstate::data_corrupted,
                     "claudable: the stored password of project \"" + project_id + "\" does not decrypt",
                     "Nothing was changed: " + failure.report().message,
                     "See claudable_check(); rotate that project's password or deprovision it, then rotate the key.");
            }
            resealed_rows.emplace_back(project_id, seal(*fresh, password, project_id));
            wipe(password);
        }
        pg::query("UPDATE claudable.key_ring SET state = 'retired', retired_at = pg_catalog.now() WHERE state = 'active'");
        record_active(fingerprint, *fresh, key_file);
        pg::query("DELETE FROM claudable.key_material WHERE fingerprint <> $1", {pg::text_param(fingerprint)});
        for (const auto& [project_id, box] : resealed_rows) replace_sealed_password(project_id, box, fingerprint);
        resealed = resealed_rows.size();
        record_event(AuditEvent{"rotate_key", "", "", "", actor, "succeeded",
                                std::to_string(resealed) + " passwords re-sealed; key " + retired +
                                    " retired, key " + fingerprint + " active"});
    });
    if (!key_file.empty()) rename_durably(next, key_file);
    forget_all_but(fingerprint);
    if (key_cache.empty()) remember(fingerprint, key_file, std::move(fresh));
    pg::log("claudable: rotated the key: " + std::to_string(resealed) + " passwords re-sealed, key " + retired +
            " retired, key " + fingerprint + " active");
    return fingerprint;
}

std::string export_active_key(const std::string& key_file, const std::string& path) {
    std::optional<std::string> fingerprint = active_fingerprint();
    if (!fingerprint)
        fail(sqlstate::object_not_in_prerequisite_state, "claudable: there is no key to export yet");
    write_key_file(path, key_with_fingerprint(*fingerprint, key_file), false);
    return *fingerprint;
}

std::string import_key(const std::string& path) {
    SecretKey key;
    if (!read_key_file(path, key))
        fail(undefined_file, "claudable: key file \"" + path + "\" does not exist");
    const std::string fingerprint = key_fingerprint(key);
    const std::optional<std::string> active = active_fingerprint();
    if (active && *active != fingerprint) refuse_wrong(fingerprint, *active, "");
    if (!active) {
        pg::query("INSERT INTO claudable.key_ring (fingerprint, state) VALUES ($1, 'active')",
                  {pg::text_param(fingerprint)});
        pg::query("UPDATE claudable.projects SET key_fingerprint = $1 WHERE key_fingerprint IS NULL",
                  {pg::text_param(fingerprint)});
    }
    pg::query("INSERT INTO claudable.key_material (fingerprint, material) VALUES ($1, $2)"
              " ON CONFLICT (fingerprint) DO NOTHING",
              {pg::text_param(fingerprint),
               pg::bytea_param(std::string_view(reinterpret_cast<const char*>(key.data()), SecretKey::size))});
    return fingerprint;
}

std::string adopt_key_of_0_2_0(const std::string& key_file, const std::string& data_directory) {
    const std::string path = key_file.empty() ? data_directory + "/claudable.key" : key_file;
    SecretKey key;
    if (!read_key_file(path, key)) return {};
    const std::string fingerprint = key_fingerprint(key);
    record_active(fingerprint, key, key_file);
    pg::query("UPDATE claudable.projects SET key_fingerprint = $1 WHERE key_fingerprint IS NULL",
              {pg::text_param(fingerprint)});
    return fingerprint;
}

}  // namespace claudable
