// DATABASE_URL for an app: merged into its .env.production (written atomically), or put
// into the environment of the process that runs it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace claudable {

// Returns `existing` with its DATABASE_URL line (optionally `export `-prefixed, quoted or
// not) replaced by DATABASE_URL=<url>, or with that line appended. Every other line is kept
// byte for byte; a file with CRLF line ends gets a CRLF line; later duplicates are dropped.
std::string merge_database_url(const std::string& existing, const std::string& url);

// The most of an existing .env.production that is read and merged; a larger file is refused.
inline constexpr std::size_t max_env_file_bytes = 1 << 20;

// Writes <projects_dir>/<project_id>/.env.production, mode 0600, through a temporary file
// and rename(), merging into what is there; creates the project directory (mode 0700) if
// needed. Every step is relative to an open descriptor of `projects_dir` and follows no
// symlink: a project directory or .env.production that is a symlink, a FIFO, a device or
// anything but a regular file, or a file over max_env_file_bytes, is refused with
// InvalidInput (exit code 3) and nothing is written. `project_id` must be one path
// component (no '/', not "." or "..").
void write_env_file(const std::string& projects_dir, const std::string& project_id, const std::string& url);

// The environment an app is started with: `environment` (NAME=value entries) without
// DB_ADMIN_URL and without any PG* variable libpq reads (PGPASSWORD, PGPASSFILE,
// PGSERVICE, PGHOST, ...), with DATABASE_URL=<url> added (replacing any earlier one).
std::vector<std::string> environment_for_app(const std::vector<std::string>& environment, const std::string& url);

}  // namespace claudable
