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
// empty when it can. The reason never shows the verifier. Without `needs_verifier` (entries
// that name PgBouncer's auth_user: PgBouncer asks the server for the verifier at each login)
// the verifier is not looked at.
std::string pooler_entry_problem(const PoolerEntry& entry, bool needs_verifier = true);

// Every usable entry in `written`, every other one in `skipped` with its reason: one
// project's entry never keeps the others out. A database or role name that two entries have
// (one project on two servers of a fleet) is such a reason for each of them: both copies are
// left out, since PgBouncer can send that name's apps to one only, and every other entry is
// written.
PgbouncerConfigResult sort_pooler_entries(const std::vector<PoolerEntry>& entries, bool needs_verifier = true);

// Refuses the first entry with a problem, a name another entry also has included
// (InvalidInput). The renderers call it: they never render an unusable entry.
void check_pooler_entries(const std::vector<PoolerEntry>& entries, bool needs_verifier = true);

// Refuses (InvalidInput) a role name PgBouncer's auth_user cannot be given in a line of its
// configuration (the characters claudable's own names are made of, 1 to 63 of them).
void check_pooler_auth_user(const std::string& auth_user);

// "[databases]" and one line per project: name = host=... port=... dbname=... pool_mode=...
// With `auth_user`, each line also names it (auth_user=...): PgBouncer then logs in to the
// project's server as that role to ask for the verifier of the role a client names (its
// auth_query, README "Install" step 5b), and no auth file of verifiers is needed; the
// verifiers of the entries are not looked at. `header`: the comment lines the file starts
// with, each "; ..." and ending in a newline (empty: pgbouncer-config's).
std::string render_pgbouncer_databases(const std::vector<PoolerEntry>& entries, const std::string& pool_mode,
                                       const std::string& auth_user = {}, const std::string& header = {});
// One line per role: "username" "SCRAM-SHA-256$..."
std::string render_pgbouncer_auth_file(const std::vector<PoolerEntry>& entries);

// Both files as they would be written, and what went into them: every usable entry (sorted as
// sort_pooler_entries sorts them). `auth` is empty and `with_auth_file` false with an
// auth_user: then only the [databases] file is written. A bad pool mode or auth_user throws.
struct PgbouncerFiles {
    PgbouncerConfigResult result;
    std::string databases;
    std::string auth;
    bool with_auth_file = true;
};
PgbouncerFiles render_pgbouncer_files(const std::vector<PoolerEntry>& entries, const std::string& pool_mode,
                                      const std::string& auth_user = {}, const std::string& header = {});

// Writes `files` into `directory` (created if missing, mode 0700), each file mode 0600 and
// replaced atomically, the auth file first; a file of either name that is a symlink is
// replaced, never followed.
void write_pgbouncer_files(const std::string& directory, const PgbouncerFiles& files);

// Writes both files into `directory` (created if missing, mode 0700) with every usable
// entry, each file mode 0600 and replaced atomically; the auth file first, so a RELOAD
// between the two never meets a database whose role it cannot authenticate. A file of either
// name that is a symlink is replaced, never followed. Unusable entries are left out and
// returned in `skipped` (a database or role name on two servers among them); a bad pool
// mode writes nothing and throws.
PgbouncerConfigResult write_pgbouncer_config(const std::string& directory, const std::vector<PoolerEntry>& entries,
                                             const std::string& pool_mode);

}  // namespace claudable
