// The steps of worker/provisioner.cpp that snapshots, restores and branches reuse: one
// definition of how a project's role and database are made, locked down, audited and
// removed.
#pragma once

#include <optional>
#include <string>

#include "rules/project_names.hpp"
#include "worker/jobs.hpp"

namespace claudable {

void refuse_foreign_objects(const ProjectNames& names, const std::string& marker);
void refuse_over_limits(const std::string& owner_id, const ProjectSettings& settings);
// The project's role: created, or brought in line with the record, with this verifier.
void ensure_role(const ProjectNames& names, const std::string& verifier, const std::string& marker,
                 const ProjectSettings& settings);
// Nobody but the owner holds a privilege on the database.
void revoke_database_grants(const std::string& database_name);
std::string connection_limit_clause(const ProjectSettings& settings);
std::string describe(const std::string& project_id, const std::string& owner_id);
AuditEvent event_for(const JobRequest& job, const CallerContext& context, const char* action, const char* outcome,
                     std::string detail);
// The SCRAM verifier of the password the record holds sealed.
std::string stored_verifier(const ProjectRecord& record, const std::string& key_file);
// The record locked; 55000 if it is gone or being deprovisioned.
std::optional<ProjectRecord> lock_live_project(const std::string& project_id);
void ensure_pooled_login(const std::string& database_name, const std::string& auth_user, const CallerContext& context);
ProjectReply provision_project(const ProvisionRequest& request, const CallerContext& context);
DeprovisionReply deprovision_project(const DeprovisionRequest& request, const CallerContext& context);

}  // namespace claudable
