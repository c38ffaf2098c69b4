// The lock PostgreSQL itself takes on a database object (CREATE DATABASE on its source,
// ALTER DATABASE RENAME on its target), taken early: a session that starts connecting to
// that database waits at its start until the transaction ends, so the sessions ended before
// a copy or a swap stay ended. Declared without PostgreSQL headers.
#pragma once

#include <string>

namespace claudable::pg {

enum class DatabaseLock {
    copy,  // ShareLock: what CREATE DATABASE ... TEMPLATE holds on its source
    swap,  // AccessExclusiveLock: what ALTER DATABASE ... RENAME holds
};

// Locks the database named until the end of the transaction; false if there is none.
bool lock_database(const std::string& database_name, DatabaseLock mode);

}  // namespace claudable::pg

namespace claudable::pg {
// Whether the process of that PID is still in the server's process array (as the counts
// of CREATE DATABASE and ALTER DATABASE RENAME see it).
bool backend_alive(int pid);
}  // namespace claudable::pg
