// What snapshots, restores and branches share: ending a database's sessions under the lock
// that keeps new ones out, copying a database with the strategy its size calls for, and
// closing a database so that nobody can connect to it.
#pragma once

#include <string>

#include "pg/database_lock.hpp"
#include "worker/jobs.hpp"

namespace claudable {

// How long the sessions of a database get to exit once told to (pg_terminate_backend).
inline constexpr int session_end_wait_ms = 5000;

// Ends every session connected to the database and every session of `username` anywhere
// (one may hold a lock on the database or its catalog row), then locks the database
// (pg::lock_database: a session that starts connecting meanwhile waits at its start until
// the transaction ends) and ends whatever connected in between, and waits until they are
// gone. The lock is waited for at most tenant_lock_wait_ms (55P03 after it: a session
// another role opened holds it); the sessions get session_end_wait_ms (55006 after it).
// `what` names the call in the errors.
void end_sessions(const std::string& database_name, const std::string& username, pg::DatabaseLock mode,
                  const std::string& what, int worker_timeout_ms);

// How a database is copied.
struct CopyPlan {
    std::string strategy;     // "WAL_LOG" or "FILE_COPY"
    std::string file_method;  // FILE_COPY on PostgreSQL 18 and later: "copy" or "clone"; otherwise empty
    // For the audit log and the server log: "WAL_LOG", "FILE_COPY" or "FILE_COPY, clone".
    std::string describe() const;
};

// WAL_LOG below claudable.file_copy_threshold, FILE_COPY from it on; FILE_COPY's file_method
// from claudable.file_copy_method (auto: clone where the data directory shares blocks).
CopyPlan plan_copy(const std::string& source_database, const CopySettings& copy);

// CREATE DATABASE target TEMPLATE source as planned: owned by `owner` (the worker's own
// role when empty), refusing connections unless `allow_connections`, with no grant to
// PUBLIC, and `comment` on it. In the caller's transaction.
void copy_database(const std::string& source, const std::string& target, const std::string& owner,
                   const CopyPlan& plan, bool allow_connections, const std::string& comment,
                   const std::string& extra_options = "");

// The database becomes the worker's role's, refusing every connection, granting nothing,
// with `comment` on it: what a snapshot's database is.
void close_database(const std::string& database_name, const std::string& comment);

}  // namespace claudable
