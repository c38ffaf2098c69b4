// What a project is called inside PostgreSQL: input rules and derived names.
// Pure C++: no PostgreSQL headers, so the rules can be read (and tested) on their own.
#pragma once

#include <string>
#include <string_view>

namespace claudable {

inline constexpr std::size_t max_identifier_length = 128;
// NAMEDATALEN - 1 on a stock build.
inline constexpr std::size_t max_name_bytes = 63;

// Throws Failure(22023) naming `argument` unless `value` is 1..128 characters of
// [A-Za-z0-9_-] starting with a letter or digit. A null pointer means SQL NULL.
void validate_identifier(const char* argument, const std::string* value);

// A branch of project P is the project "P~B" (B its branch_id): '~' never appears in an
// ordinary project id, so no ordinary id can be a branch's.
inline constexpr char branch_separator = '~';
inline constexpr std::size_t max_branch_id_length = 63;
// Throws Failure(22023) unless branch_id is 1..63 characters of [A-Za-z0-9_-] starting with
// a letter or digit.
void validate_branch_id(const std::string* branch_id);
// An ordinary project id, or a branch's (parent~branch_id, each part valid): 22023 otherwise.
void validate_project_id(const std::string* project_id);
bool is_branch_project_id(std::string_view project_id);
std::string branch_project_id(const std::string& parent_project_id, const std::string& branch_id);

// A snapshot: 'snap-' and 12 lowercase hex characters; its database and a restore's staging
// copy are named after it.
void validate_snapshot_id(const std::string* snapshot_id);
std::string snapshot_database_name(const std::string& snapshot_id);
std::string staging_database_name(const std::string& snapshot_id);

struct ProjectNames {
    std::string database_name;  // app_db_<slug>
    std::string username;       // app_u_<slug>
};

// slug = project_id lower-cased, '-' -> '_'; cut and suffixed with '_' and 8 hex
// characters of SHA-256(project_id) when app_db_<slug> would pass 63 bytes.
// A branch's names are app_br_<slug>_<hash> and app_bu_<slug>_<hash> ('~' -> '_', always
// with the hash, so that branches whose ids differ only there get different names); no
// ordinary project's names start so.
std::string project_slug(std::string_view project_id);
ProjectNames names_for(std::string_view project_id);

}  // namespace claudable
