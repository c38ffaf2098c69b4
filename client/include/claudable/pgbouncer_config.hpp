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
    // Read by name from the row; empty while the server's function has no project_id column.
    std::string project_id;
};

// An entry left out of PgBouncer's files, and why. Never holds the verifier; a name that
// is not usable is shown as "?".
struct SkippedPoolerEntry {
    std::string server;
    std::string database_name;
    std::string project_id;
    std::string reason;  // "an unusable host", "no SCRAM-SHA-256 verifier PgBouncer can use", ...
};

// What write_pgbouncer_config wrote and what it left out.
struct PgbouncerConfigResult {
    std::vector<PoolerEntry> written;
    std::vector<SkippedPoolerEntry> skipped;
};

inline constexpr const char* pgbouncer_databases_file = "pgbouncer-databases.ini";
inline constexpr const char* pgbouncer_auth_file = "userlist.txt";

// Why PgBouncer cannot be given this entry (a name, host, port or verifier that could break
// out of its line or quotes, or a verifier PgBouncer cannot use, such as one with a salt
// longer than 128 base64 characters, which PostgreSQL accepts from ALTER ROLE ... PASSWORD);
// empty when it can. The reason never shows the verifier.
std::string pooler_entry_problem(const PoolerEntry& entry);

// Every usable entry in `written`, every other one in `skipped` with its reason: one
// project's entry never keeps the others out. A database or role name that two entries have
// (one project on two servers of a fleet) is such a reason for each of them: both copies are
// left out, since PgBouncer can send that name's apps to one only, and every other entry is
// written.
PgbouncerConfigResult sort_pooler_entries(const std::vector<PoolerEntry>& entries);

// Refuses the first entry with a problem, a name another entry also has included
// (InvalidInput). The renderers call it: they never render an unusable entry.
void check_pooler_entries(const std::vector<PoolerEntry>& entries);

// "[databases]" and one line per project: name = host=... port=... dbname=... pool_mode=...
std::string render_pgbouncer_databases(const std::vector<PoolerEntry>& entries, const std::string& pool_mode);
// One line per role: "username" "SCRAM-SHA-256$..."
std::string render_pgbouncer_auth_file(const std::vector<PoolerEntry>& entries);

// Writes both files into `directory` (created if missing, mode 0700) with every usable
// entry, each file mode 0600 and replaced atomically; the auth file first, so a RELOAD
// between the two never meets a database whose role it cannot authenticate. A file of either
// name that is a symlink is replaced, never followed. Unusable entries are left out and
// returned in `skipped` (a database or role name on two servers among them); a bad pool
// mode writes nothing and throws.
PgbouncerConfigResult write_pgbouncer_config(const std::string& directory, const std::vector<PoolerEntry>& entries,
                                             const std::string& pool_mode);

}  // namespace claudable
