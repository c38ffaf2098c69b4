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

// Where an entry's database or role name is also another entry's (one project on two servers:
// two databases of one name, two roles of one name with two verifiers): why that entry cannot
// be given to PgBouncer, whose [databases] and auth file hold one line per name. Every entry
// of such a name is left out, not only the later one: PgBouncer would send the apps of that
// name to one of the copies, and nothing says which one they use. Empty when it is alone.
// Names that are not usable are the entries' own problem, reported with them.
std::vector<std::string> name_shared_with_another_entry(const std::vector<PoolerEntry>& entries) {
    std::map<std::string, std::vector<size_t>> by_database, by_role;
    for (size_t i = 0; i < entries.size(); ++i) {
        if (std::regex_match(entries[i].database_name, safe_name)) by_database[entries[i].database_name].push_back(i);
        if (std::regex_match(entries[i].username, safe_name)) by_role[entries[i].username].push_back(i);
    }
    std::vector<std::string> problems(entries.size());
    auto mark = [&](const std::map<std::string, std::vector<size_t>>& by_name, const char* what) {
        for (const auto& [name, indexes] : by_name) {
            if (indexes.size() < 2) continue;
            for (size_t i : indexes) {
                if (!problems[i].empty()) continue;
                std::string other;  // another server that has it, if the entries name their servers
                for (size_t j : indexes)
                    if (j != i && !entries[j].server.empty() && entries[j].server != entries[i].server) {
                        other = shown_name(entries[j].server);
                        break;
                    }
                problems[i] = std::string("a ") + what + " name that " +
                              (other.empty() ? std::string("another entry") : "server \"" + other + "\"") +
                              " also has (one project on two servers: run claudable_fleet_check() on the directory)";
            }
        }
    };
    mark(by_database, "database");
    mark(by_role, "role");
    return problems;
}

}  // namespace

std::string pooler_entry_problem(const PoolerEntry& entry, bool needs_verifier) {
    if (!std::regex_match(entry.database_name, safe_name)) return "an unusable database name";
    if (!std::regex_match(entry.username, safe_name)) return "an unusable role name";
    if (!std::regex_match(entry.host, safe_host)) return "an unusable host";
    if (entry.port < 1 || entry.port > 65535) return "an unusable port";
    // The verifier is never shown, not even in part.
    if (needs_verifier && !std::regex_match(entry.scram_verifier, scram_verifier))
        return "no SCRAM-SHA-256 verifier PgBouncer can use";
    return {};
}

PgbouncerConfigResult sort_pooler_entries(const std::vector<PoolerEntry>& entries, bool needs_verifier) {
    const std::vector<std::string> shared = name_shared_with_another_entry(entries);
    PgbouncerConfigResult sorted;
    for (size_t i = 0; i < entries.size(); ++i) {
        const PoolerEntry& entry = entries[i];
        std::string problem = pooler_entry_problem(entry, needs_verifier);
        if (problem.empty()) problem = shared[i];
        if (problem.empty())
            sorted.written.push_back(entry);
        else
            sorted.skipped.push_back(SkippedPoolerEntry{shown_name(entry.server), shown_name(entry.database_name),
                                                        shown_name(entry.project_id), std::move(problem)});
    }
    return sorted;
}

void check_pooler_entries(const std::vector<PoolerEntry>& entries, bool needs_verifier) {
    for (const PoolerEntry& entry : entries) {
        const std::string problem = pooler_entry_problem(entry, needs_verifier);
        if (!problem.empty())
            throw InvalidInput("22023", "pooler entry for database \"" + shown_name(entry.database_name) + "\" has " +
                                            problem + "; nothing was written");
    }
    const std::vector<std::string> shared = name_shared_with_another_entry(entries);
    for (size_t i = 0; i < entries.size(); ++i)
        if (!shared[i].empty())
            throw InvalidInput("22023", "pooler entry for database \"" + shown_name(entries[i].database_name) +
                                            "\" has " + shared[i] + "; nothing was written");
}

void check_pooler_auth_user(const std::string& auth_user) {
    if (!std::regex_match(auth_user, safe_name))
        throw InvalidInput("22023", "the auth_user must be 1 to 63 characters of A-Z, a-z, 0-9, '_', '.' and '-'");
}

std::string render_pgbouncer_databases(const std::vector<PoolerEntry>& entries, const std::string& pool_mode,
                                       const std::string& auth_user, const std::string& header) {
    if (!auth_user.empty()) check_pooler_auth_user(auth_user);
    check_pooler_entries(entries, auth_user.empty());
    std::string out = header.empty() ? "; Written by `claudable pgbouncer-config`: one entry per project. Do not edit;\n"
                                       "; run it again, then RELOAD PgBouncer.\n"
                                     : header;
    out += "[databases]\n";
    const std::string auth = auth_user.empty() ? std::string() : " auth_user=" + auth_user;
    for (const PoolerEntry& e : entries)
        out += e.database_name + " = host=" + e.host + " port=" + std::to_string(e.port) + " dbname=" +
               e.database_name + auth + " pool_mode=" + pool_mode + "\n";
    return out;
}

std::string render_pgbouncer_auth_file(const std::vector<PoolerEntry>& entries) {
    check_pooler_entries(entries);
    std::string out;
    for (const PoolerEntry& e : entries) out += "\"" + e.username + "\" \"" + e.scram_verifier + "\"\n";
    return out;
}

PgbouncerFiles render_pgbouncer_files(const std::vector<PoolerEntry>& entries, const std::string& pool_mode,
                                      const std::string& auth_user, const std::string& header) {
    if (pool_mode != "transaction" && pool_mode != "session" && pool_mode != "statement")
        throw InvalidInput("22023", "pool mode must be transaction, session or statement");
    if (!auth_user.empty()) check_pooler_auth_user(auth_user);
    PgbouncerFiles files;
    files.with_auth_file = auth_user.empty();
    files.result = sort_pooler_entries(entries, files.with_auth_file);
    if (files.with_auth_file) files.auth = render_pgbouncer_auth_file(files.result.written);
    files.databases = render_pgbouncer_databases(files.result.written, pool_mode, auth_user, header);
    return files;
}

void write_pgbouncer_files(const std::string& directory, const PgbouncerFiles& files) {
    std::error_code ec;
    if (!std::filesystem::exists(directory, ec)) {
        std::filesystem::create_directories(directory, ec);
        if (ec) throw Error("58030", "cannot create directory " + directory + ": " + ec.message());
        std::filesystem::permissions(directory, std::filesystem::perms::owner_all, ec);
    }
    UniqueFd out{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (out.fd < 0) detail::file_error("cannot open", directory, errno);
    if (files.with_auth_file)
        detail::replace_file(out.fd, pgbouncer_auth_file, files.auth, directory + "/" + pgbouncer_auth_file);
    detail::replace_file(out.fd, pgbouncer_databases_file, files.databases, directory + "/" + pgbouncer_databases_file);
}

PgbouncerConfigResult write_pgbouncer_config(const std::string& directory, const std::vector<PoolerEntry>& entries,
                                             const std::string& pool_mode) {
    PgbouncerFiles files = render_pgbouncer_files(entries, pool_mode);
    write_pgbouncer_files(directory, files);
    return std::move(files.result);
}

}  // namespace claudable
