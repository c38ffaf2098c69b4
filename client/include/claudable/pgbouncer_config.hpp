// PgBouncer's view of the projects (`claudable pgbouncer-config`): a [databases] entry per
// project pointing at the server that holds it, and an auth file of the roles' SCRAM
// verifiers. With those, PgBouncer checks each client's SCRAM proof and logs in to the
// server by SCRAM pass-through: no plain password is written anywhere.
#pragma once

#include <string>
#include <vector>

namespace claudable {

// A row of claudable_pooler_entries() (one server) or claudable_fleet_pooler_entries()
// (a fleet directory; `server` names the server, empty on a single server).
struct PoolerEntry {
    std::string server;
    std::string database_name;
    std::string username;
    std::string host;
    int port = 0;
    std::string scram_verifier;
};

inline constexpr const char* pgbouncer_databases_file = "pgbouncer-databases.ini";
inline constexpr const char* pgbouncer_auth_file = "userlist.txt";

// Every entry's names, host and verifier are checked before anything is rendered: a value
// that could break out of its line or quotes is refused (InvalidInput), and so is one
// database name on two servers (Conflict).
void check_pooler_entries(const std::vector<PoolerEntry>& entries);

// "[databases]" and one line per project: name = host=... port=... dbname=... pool_mode=...
std::string render_pgbouncer_databases(const std::vector<PoolerEntry>& entries, const std::string& pool_mode);
// One line per role: "username" "SCRAM-SHA-256$..."
std::string render_pgbouncer_auth_file(const std::vector<PoolerEntry>& entries);

// Writes both files into `directory` (created if missing, mode 0700), each mode 0600 and
// replaced atomically; the auth file first, so a RELOAD between the two never meets a
// database whose role it cannot authenticate. A file of either name that is a symlink is
// replaced, never followed.
void write_pgbouncer_config(const std::string& directory, const std::vector<PoolerEntry>& entries,
                            const std::string& pool_mode);

}  // namespace claudable
