// Replacing a file in a directory held open by descriptor, for the files the CLI writes
// (.env.production, PgBouncer's configuration): written beside it under a random name with
// mode 0600, fsynced, then renamed over it. renameat replaces a symlink of that name
// itself, never its target, and nothing half-written is ever under the final name.
#pragma once

#include <string>

#include "rules/unique_fd.hpp"

namespace claudable::detail {

[[noreturn]] void file_error(const std::string& what, const std::string& path, int err);

// `shown` is the path named in errors.
void replace_file(int directory, const std::string& name, const std::string& content, const std::string& shown);

}  // namespace claudable::detail
