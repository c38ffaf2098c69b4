// The library's libpq rules, for the parts of it that hold a connection of their own
// (`claudable pooler-sync`'s LISTEN on the directory and its RELOAD on PgBouncer's admin
// console): private to the library, as client.cpp implements them for claudable::Client.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "claudable/pgbouncer_config.hpp"

namespace claudable::detail {

using PgConnection = std::unique_ptr<PGconn, void (*)(PGconn*)>;

// Connects as the Client does: a malformed connection string is refused (InvalidInput, its
// quoted parts masked) before anything is sent; a login the server refuses is an Error that
// is not transient, a refused or lost connection is NotSent. `defaults` are keyword/value
// pairs the connection string may override (keepalives, say); connect_timeout and
// application_name are set after it.
PgConnection connect(const std::string& conninfo, int connect_timeout, const char* application_name,
                     const std::vector<std::pair<std::string, std::string>>& defaults = {});

// `message` without anything of `conninfo` that could carry a secret (the string itself, a
// URL's password as written, the password libpq reads from it).
std::string scrub(std::string message, const std::string& conninfo);

// One statement with the simple query protocol (LISTEN; PgBouncer's admin console, which knows
// no other): throws as the Client's calls do (NotSent, LostAfterSending, the server's error).
void simple_command(PGconn* conn, const std::string& sql, const std::string& conninfo);

// Every project a pooler should serve, as Client::pooler_entries() reads them: from
// claudable_fleet_pooler_entries() on a fleet directory, claudable_pooler_entries() on a server.
// Without `with_verifiers` no verifier is read (each entry's is empty): for entries that name
// PgBouncer's auth_user, whose auth_query asks the project's server for it.
std::vector<PoolerEntry> read_pooler_entries(PGconn* conn, const std::string& conninfo, bool with_verifiers);

}  // namespace claudable::detail
