#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "rules/project_names.hpp"

#include <openssl/sha.h>

#include "rules/failure.hpp"

namespace claudable {
namespace {

constexpr std::string_view database_prefix = "app_db_";
constexpr std::string_view role_prefix = "app_u_";
constexpr std::string_view branch_database_prefix = "app_br_";
constexpr std::string_view branch_role_prefix = "app_bu_";
constexpr std::string_view snapshot_prefix = "snap-";
constexpr std::size_t snapshot_hex_length = 12;
constexpr std::size_t hash_suffix_length = 1 + 8;  // '_' + 8 hex characters

bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string short_hash_hex(std::string_view text) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 4; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0x0f];
    }
    return out;
}

// The rule text is built only when refusing: validation runs on every call, the warm
// path included. The value itself is never echoed: it may hold control characters or a
// pasted secret.
[[noreturn]] void refuse_identifier(const char* argument, const std::string& message) {
    fail(sqlstate::invalid_parameter_value, message, {},
         std::string(argument) +
             " must be 1 to 128 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit");
}
}  // namespace

void validate_identifier(const char* argument, const std::string* value) {
    if (value == nullptr) refuse_identifier(argument, std::string(argument) + " must not be NULL");
    if (value->empty() || value->size() > max_identifier_length)
        refuse_identifier(argument, "invalid " + std::string(argument) + ": length must be 1 to 128 characters");
    if (!is_ascii_alnum(value->front()))
        refuse_identifier(argument, "invalid " + std::string(argument) + ": must start with a letter or digit");
    for (char c : *value)
        if (!is_ascii_alnum(c) && c != '_' && c != '-')
            refuse_identifier(argument,
                              "invalid " + std::string(argument) + ": only A-Z, a-z, 0-9, '_' and '-' are allowed");
}

void validate_branch_id(const std::string* branch_id) {
    if (branch_id != nullptr && (branch_id->empty() || branch_id->size() > max_branch_id_length))
        fail(sqlstate::invalid_parameter_value, "invalid branch_id: length must be 1 to 63 characters", {},
             "branch_id must be 1 to 63 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit");
    validate_identifier("branch_id", branch_id);
}

bool is_branch_project_id(std::string_view project_id) {
    return project_id.find(branch_separator) != std::string_view::npos;
}

void validate_project_id(const std::string* project_id) {
    if (project_id == nullptr || !is_branch_project_id(*project_id)) return validate_identifier("project_id", project_id);
    const std::size_t at = project_id->find(branch_separator);
    const std::string parent = project_id->substr(0, at);
    const std::string branch = project_id->substr(at + 1);
    validate_identifier("project_id", &parent);
    validate_branch_id(&branch);  // a second '~' is refused here
}

std::string branch_project_id(const std::string& parent_project_id, const std::string& branch_id) {
    return parent_project_id + branch_separator + branch_id;
}

void validate_snapshot_id(const std::string* snapshot_id) {
    const bool valid = snapshot_id != nullptr && snapshot_id->size() == snapshot_prefix.size() + snapshot_hex_length &&
                       snapshot_id->compare(0, snapshot_prefix.size(), snapshot_prefix) == 0 &&
                       snapshot_id->find_first_not_of("0123456789abcdef", snapshot_prefix.size()) == std::string::npos;
    if (!valid)
        fail(sqlstate::invalid_parameter_value, "invalid snapshot_id", {},
             "A snapshot_id is 'snap-' and 12 lowercase hex characters, as claudable_snapshot and "
             "claudable_snapshots return it.");
}

std::string snapshot_database_name(const std::string& snapshot_id) {
    return "claudable_snap_" + snapshot_id.substr(snapshot_prefix.size());
}

std::string staging_database_name(const std::string& snapshot_id) {
    return "claudable_stage_" + snapshot_id.substr(snapshot_prefix.size());
}

std::string project_slug(std::string_view project_id) {
    std::string slug;
    slug.reserve(project_id.size());
    for (char c : project_id) {
        if (c >= 'A' && c <= 'Z')
            slug += static_cast<char>(c - 'A' + 'a');
        else if (c == '-')
            slug += '_';
        else
            slug += c;
    }
    const std::size_t room = max_name_bytes - database_prefix.size();
    if (slug.size() > room) {
        slug.resize(room - hash_suffix_length);
        slug += '_';
        slug += short_hash_hex(project_id);
    }
    return slug;
}

ProjectNames names_for(std::string_view project_id) {
    if (is_branch_project_id(project_id)) {
        std::string slug;
        for (char c : project_id) {
            if (c >= 'A' && c <= 'Z') slug += static_cast<char>(c - 'A' + 'a');
            else if (c == '-' || c == branch_separator) slug += '_';
            else slug += c;
        }
        const std::size_t room = max_name_bytes - branch_database_prefix.size() - hash_suffix_length;
        if (slug.size() > room) slug.resize(room);
        slug += '_';
        slug += short_hash_hex(project_id);
        return ProjectNames{std::string(branch_database_prefix) + slug, std::string(branch_role_prefix) + slug};
    }
    const std::string slug = project_slug(project_id);
    return ProjectNames{std::string(database_prefix) + slug, std::string(role_prefix) + slug};
}

}  // namespace claudable
