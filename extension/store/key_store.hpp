// Which key seals the stored passwords, and where it is kept.
//
//  * claudable.key_file empty (the default): in claudable.key_material, a table of the
//    metadata database that travels with streaming replication and base backups but is
//    never written by pg_dump.
//  * claudable.key_file set: in that file only, outside the data directory and every
//    backup; the operator places it on every server.
//
// claudable.key_ring records every key's fingerprint and which one is active, so a
// missing or wrong key is refused before anything is sealed with it. A key is created
// only by a provisioning worker on a primary, and only while no sealed row exists.
#pragma once

#include <optional>
#include <string>

#include "crypto/secret_box.hpp"

namespace claudable {

// The key that sealed a row (its fingerprint in claudable.projects), read once per
// backend and then kept in memory. Never creates a key. Throws 58P01 when it is missing
// and F0000 when the key found is another one.
const SecretKey& key_with_fingerprint(const std::string& fingerprint, const std::string& key_file);

// A worker that serves several calls forgets the keys it read before each next call, so
// every call reads the key where it is kept now, as a new worker would.
void forget_cached_keys();

// The same, read from where it is kept now, bypassing this backend's memory: what
// claudable_check() reports on. Throws like key_with_fingerprint.
void verify_key_source(const std::string& fingerprint, const std::string& key_file);

struct ActiveKey {
    const SecretKey* key;
    std::string fingerprint;
};
// The key new passwords are sealed with. In a worker, inside a transaction that holds
// claudable.provisioning_lock: creates the first key when none is recorded and no row
// is sealed (`may_create`), and refuses otherwise.
ActiveKey active_key(const std::string& key_file, bool may_create);
// The active key if there is one (never creating it); throws like key_with_fingerprint
// when it is recorded but missing.
std::optional<ActiveKey> existing_active_key(const std::string& key_file);

// Worker only: a new key, every sealed password re-sealed under it, the old one retired
// and forgotten, in one transaction; with claudable.key_file the new file is written as
// <key_file>.next first and renamed into place after the commit (a reader that finds the
// rename unfinished takes the .next file). Returns the new fingerprint.
std::string rotate_key(const std::string& key_file, const std::string& actor);

// claudable_export_key / claudable_import_key: moving the active key by hand.
std::string export_active_key(const std::string& key_file, const std::string& path);
std::string import_key(const std::string& path);
// The 0.2.0 -> 0.3.0 upgrade: adopts the key file 0.2.0 used.
std::string adopt_key_of_0_2_0(const std::string& key_file, const std::string& data_directory);

}  // namespace claudable
