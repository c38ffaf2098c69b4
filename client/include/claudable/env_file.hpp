// The database variables of an app (DATABASE_URL, DIRECT_URL): merged into its
// .env.production (written atomically), or put into the environment of the process that runs
// it, which is built from an explicit list and nothing else.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace claudable {

// The database variables every deploy path gives an app (README, "The deploy path").
struct AppDatabaseVariables {
    std::string database_url;  // DATABASE_URL: the pooled URL when the row has one, else the direct URL
    std::string direct_url;    // DIRECT_URL: always the direct URL (for migrations)
};

// The variables of a project's row: `pooled_database_url` empty means the server has no pooler.
// A URL holding a line break or a NUL is refused with InvalidInput.
AppDatabaseVariables app_database_variables(const std::string& database_url, const std::string& pooled_database_url);

// `existing` with the line of each NAME of `variables` replaced in place (or added at the end,
// in the order given); every other line kept byte for byte, later duplicates of a name dropped.
std::string merge_env_variables(const std::string& existing,
                                const std::vector<std::pair<std::string, std::string>>& variables);

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
// It writes DATABASE_URL and DIRECT_URL; with a URL alone, that URL is both.
void write_env_file(const std::string& projects_dir, const std::string& project_id,
                    const AppDatabaseVariables& variables);
void write_env_file(const std::string& projects_dir, const std::string& project_id, const std::string& url);

// What an app gets from its parent's environment without being named.
inline const std::vector<std::string> app_base_variables = {"PATH", "HOME", "NODE_ENV", "PORT", "TZ", "LANG"};

// Why `name` may never be passed to an app (DB_ADMIN_URL, every PG* variable, DATABASE_URL,
// DIRECT_URL, in any case), or "" when it may.
std::string refused_app_variable(const std::string& name);

// Throws InvalidInput, naming the variable and why, for the first name of `pass` that is not a
// variable name or that may never be passed.
void check_app_variable_names(const std::vector<std::string>& pass);

// The environment an app is started with, built from an explicit list: from `parent`
// (NAME=value entries) only app_base_variables and the names in `pass` (a name the parent does
// not have is left out), then DATABASE_URL and DIRECT_URL. Nothing else of the parent passes:
// not DB_ADMIN_URL, no PG* variable, none of the platform's secrets. Throws InvalidInput as
// check_app_variable_names does.
std::vector<std::string> environment_for_app(const std::vector<std::string>& parent,
                                             const AppDatabaseVariables& variables,
                                             const std::vector<std::string>& pass = {});

}  // namespace claudable
