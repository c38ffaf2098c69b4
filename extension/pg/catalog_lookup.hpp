// What the system caches say about a project's role and database, without SQL.
#pragma once

#include <string>

namespace claudable {

struct CatalogPresence {
    bool role = false;      // a role of that name exists
    bool database = false;  // and a database of that name exists, owned by it
};

// From the backend's syscache (and, once per name, the pg_database name index): the warm
// path confirms the project's objects with hash lookups instead of a catalog join, and
// catalog invalidation keeps the answer current.
CatalogPresence catalog_presence(const std::string& username, const std::string& database_name);

// Whether the role may connect to the database (its ACL, PUBLIC's share included), from the
// syscache: the warm path asks it for PgBouncer's lookup role on every call. False when
// either does not exist.
bool role_may_connect(const std::string& username, const std::string& database_name);

}  // namespace claudable
