// DATABASE_URL in an app's .env.production: merged into what is there, written atomically.
#pragma once

#include <string>

namespace claudable {

// Returns `existing` with its DATABASE_URL line (optionally `export `-prefixed, quoted or
// not) replaced by DATABASE_URL=<url>, or with that line appended. Every other line is kept
// byte for byte; a file with CRLF line ends gets a CRLF line; later duplicates are dropped.
std::string merge_database_url(const std::string& existing, const std::string& url);

// Writes `directory`/.env.production through a temporary file and rename(), mode 0600,
// creating `directory` if needed. Reads the current file first and merges into it.
void write_env_file(const std::string& directory, const std::string& url);

}  // namespace claudable
