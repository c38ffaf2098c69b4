#include "claudable/pgbouncer_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <regex>

#include "atomic_file.hpp"
#include "claudable/errors.hpp"

namespace claudable {
namespace {

// What claudable's own names, hosts and verifiers look like; anything else in a line of
// PgBouncer's configuration could start a new setting.
const std::regex safe_name("[A-Za-z0-9_.-]{1,63}");
const std::regex safe_host("[A-Za-z0-9_.:-]{1,253}");
const std::regex scram_verifier(
    "SCRAM-SHA-256\\$[0-9]{1,7}:[A-Za-z0-9+/=]{1,128}\\$[A-Za-z0-9+/=]{1,128}:[A-Za-z0-9+/=]{1,128}");

// A name (database, server, project id) as it may be shown in a message or a report: itself
// when it is made of the characters claudable's names are made of, else "?"; empty stays empty.
const std::regex showable("[A-Za-z0-9_.-]{1,128}");
std::string shown_name(const std::string& name) {
    return name.empty() || std::regex_match(name, showable) ? name : "?";
}

// Conflict for one database name on two servers (names that are not usable are the
// entries' own problem, reported with them).
void refuse_a_database_on_two_servers(const std::vector<PoolerEntry>& entries) {
    std::map<std::string, const PoolerEntry*> by_database;
    for (const PoolerEntry& entry : entries) {
        if (!std::regex_match(entry.database_name, safe_name)) continue;
        auto [at, inserted] = by_database.emplace(entry.database_name, &entry);
        if (!inserted)
            throw Conflict("42710", "database \"" + entry.database_name + "\" is on server \"" +
                                        shown_name(at->second->server) + "\" and on server \"" +
                                        shown_name(entry.server) +
                                        "\"; run claudable_fleet_check() on the directory. Nothing was written");
    }
}

}  // namespace

std::string pooler_entry_problem(const PoolerEntry& entry) {
    if (!std::regex_match(entry.database_name, safe_name)) return "an unusable database name";
    if (!std::regex_match(entry.username, safe_name)) return "an unusable role name";
    if (!std::regex_match(entry.host, safe_host)) return "an unusable host";
    if (entry.port < 1 || entry.port > 65535) return "an unusable port";
    // The verifier is never shown, not even in part.
    if (!std::regex_match(entry.scram_verifier, scram_verifier)) return "no SCRAM-SHA-256 verifier PgBouncer can use";
    return {};
}

PgbouncerConfigResult sort_pooler_entries(const std::vector<PoolerEntry>& entries) {
    refuse_a_database_on_two_servers(entries);
    PgbouncerConfigResult sorted;
    for (const PoolerEntry& entry : entries) {
        std::string problem = pooler_entry_problem(entry);
        if (problem.empty())
            sorted.written.push_back(entry);
        else
            sorted.skipped.push_back(SkippedPoolerEntry{shown_name(entry.server), shown_name(entry.database_name),
                                                        shown_name(entry.project_id), std::move(problem)});
    }
    return sorted;
}

void check_pooler_entries(const std::vector<PoolerEntry>& entries) {
    for (const PoolerEntry& entry : entries) {
        const std::string problem = pooler_entry_problem(entry);
        if (!problem.empty())
            throw InvalidInput("22023", "pooler entry for database \"" + shown_name(entry.database_name) + "\" has " +
                                            problem + "; nothing was written");
    }
    refuse_a_database_on_two_servers(entries);
}

std::string render_pgbouncer_databases(const std::vector<PoolerEntry>& entries, const std::string& pool_mode) {
    check_pooler_entries(entries);
    std::string out = "; Written by `claudable pgbouncer-config`: one entry per project. Do not edit;\n"
                      "; run it again, then RELOAD PgBouncer.\n[databases]\n";
    for (const PoolerEntry& e : entries)
        out += e.database_name + " = host=" + e.host + " port=" + std::to_string(e.port) + " dbname=" +
               e.database_name + " pool_mode=" + pool_mode + "\n";
    return out;
}

std::string render_pgbouncer_auth_file(const std::vector<PoolerEntry>& entries) {
    check_pooler_entries(entries);
    std::string out;
    for (const PoolerEntry& e : entries) out += "\"" + e.username + "\" \"" + e.scram_verifier + "\"\n";
    return out;
}

PgbouncerConfigResult write_pgbouncer_config(const std::string& directory, const std::vector<PoolerEntry>& entries,
                                             const std::string& pool_mode) {
    if (pool_mode != "transaction" && pool_mode != "session" && pool_mode != "statement")
        throw InvalidInput("22023", "pool mode must be transaction, session or statement");
    PgbouncerConfigResult result = sort_pooler_entries(entries);
    const std::string auth = render_pgbouncer_auth_file(result.written);
    const std::string databases = render_pgbouncer_databases(result.written, pool_mode);
    std::error_code ec;
    if (!std::filesystem::exists(directory, ec)) {
        std::filesystem::create_directories(directory, ec);
        if (ec) throw Error("58030", "cannot create directory " + directory + ": " + ec.message());
        std::filesystem::permissions(directory, std::filesystem::perms::owner_all, ec);
    }
    UniqueFd out{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (out.fd < 0) detail::file_error("cannot open", directory, errno);
    detail::replace_file(out.fd, pgbouncer_auth_file, auth, directory + "/" + pgbouncer_auth_file);
    detail::replace_file(out.fd, pgbouncer_databases_file, databases, directory + "/" + pgbouncer_databases_file);
    return result;
}

}  // namespace claudable
