// What every project call of the API shares: its arguments, the context a worker gets,
// the settings a project is made with, the schema check, the audited refusal of another
// owner, and the row a provisioned project is returned as.
#pragma once

#include <optional>
#include <string>

#include "pg/settings.hpp"
#include "pg/sql_function.hpp"
#include "worker/jobs.hpp"

namespace claudable {

inline constexpr const char* library_version = "0.8.0";

struct ProjectArguments {
    std::string project_id;  // an ordinary project's, or a branch's (parent~branch_id)
    std::string owner_id;
};
// Arguments 0 and 1, checked (22023).
ProjectArguments project_arguments(const pg::Arguments& arguments);

CallerContext caller_context(const settings::Values& values);
ProvisionRequest provision_request(const std::string& project_id, const std::string& owner_id,
                                   const settings::Values& values, ProvisionMode mode);
CopySettings copy_settings(const settings::Values& values);

// The library works on the SQL objects of its own version only (55000 otherwise).
void require_current_schema();
[[noreturn]] void refuse_and_audit_other_owner(const ProjectArguments& args, const char* action);
// The row of claudable_provision and the calls that return a project.
pg::ResultRow project_row(const ProjectReply& reply, const std::string& project_id, const settings::Values& values);
// The record, its key loaded.
std::optional<ProjectRecord> find_project_with_key(const std::string& project_id, const settings::Values& values);

}  // namespace claudable
