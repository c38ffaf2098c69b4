// The metadata in schema claudable, and what the system catalogs say about the
// roles and databases the extension manages. All access is parameterized SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "project_names.hpp"

namespace claudable {

struct ProjectRecord {
    std::string project_id;
    std::string owner_id;
    std::string database_name;
    std::string username;
    std::string sealed_password;
    std::string host;
    int port = 0;
    std::string status;          // provisioning | ready
    std::int64_t created_at = 0;  // TimestampTz
};

std::optional<ProjectRecord> find_project(const std::string& project_id);
// The refusal for an owner_id that is not the recorded one (42501); it names neither
// the real owner nor the project's objects.
[[noreturn]] void refuse_other_owner(const std::string& project_id);

// The id of another project that already holds either of these names.
std::optional<std::string> project_holding_names(const std::string& project_id, const ProjectNames& names);
void insert_reservation(const ProjectRecord& record);
void mark_ready(const std::string& project_id);
void mark_deprovisioning(const std::string& project_id);
void replace_sealed_password(const std::string& project_id, const std::string& sealed_password);
void delete_project(const std::string& project_id);

// Proof that a role or database is ours: a comment written in the same transaction
// as the CREATE, naming the project and this installation's id (claudable.installation,
// created here on first use; it survives pg_dump/pg_restore).
std::string ownership_marker(const std::string& project_id);

// One row of claudable.events. Never holds a secret.
struct AuditEvent {
    std::string action;  // provision, deprovision, rotate, reconcile
    std::string project_id;
    std::string owner_id;
    std::string database_name;
    std::string actor;    // session_user of the caller
    std::string outcome;  // succeeded, failed
    std::string detail;
};
// A no-op while the schema predates claudable.events (0.1.0, before ALTER EXTENSION UPDATE).
void record_event(const AuditEvent& event);

enum class Ownership { absent, ours, foreign };
Ownership role_ownership(const std::string& username, const std::string& marker);
Ownership database_ownership(const std::string& database_name, const std::string& marker);

}  // namespace claudable
