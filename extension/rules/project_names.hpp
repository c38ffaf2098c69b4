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

struct ProjectNames {
    std::string database_name;  // app_db_<slug>
    std::string username;       // app_u_<slug>
};

// slug = project_id lower-cased, '-' -> '_'; cut and suffixed with '_' and 8 hex
// characters of SHA-256(project_id) when app_db_<slug> would pass 63 bytes.
std::string project_slug(std::string_view project_id);
ProjectNames names_for(std::string_view project_id);

}  // namespace claudable
