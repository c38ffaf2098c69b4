#include "claudable/env_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "atomic_file.hpp"
#include "claudable/errors.hpp"

namespace claudable {
using detail::file_error;
using detail::replace_file;

namespace {

// The NAME of a line `NAME=...` (optionally `export `-prefixed, blanks before and after the
// name), or "" for any other line.
std::string variable_of_line(const std::string& line) {
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos) return {};
    if (line.compare(i, 7, "export ") == 0) i = line.find_first_not_of(" \t", i + 7);
    if (i == std::string::npos) return {};
    auto name_start = [](char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    auto name_char = [&](char c) { return name_start(c) || (c >= '0' && c <= '9'); };
    if (!name_start(line[i])) return {};
    std::size_t end = i;
    while (end < line.size() && name_char(line[end])) ++end;
    const std::size_t eq = line.find_first_not_of(" \t", end);
    if (eq == std::string::npos || line[eq] != '=') return {};
    return line.substr(i, end - i);
}

bool starts_with_export(const std::string& line) {
    std::size_t i = line.find_first_not_of(" \t");
    return i != std::string::npos && line.compare(i, 7, "export ") == 0;
}

bool is_variable_name(const std::string& name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (!letter && (i == 0 || c < '0' || c > '9')) return false;
    }
    return true;
}

bool holds_a_line_break(const std::string& value) { return value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos; }

}  // namespace

AppDatabaseVariables app_database_variables(const std::string& database_url, const std::string& pooled_database_url) {
    if (database_url.empty()) throw InvalidInput("22023", "the project has no database_url");
    if (holds_a_line_break(database_url) || holds_a_line_break(pooled_database_url))
        throw InvalidInput("22023", "a project URL holds a line break or a NUL (it is not shown: it may hold a password)");
    return AppDatabaseVariables{pooled_database_url.empty() ? database_url : pooled_database_url, database_url};
}

std::string merge_env_variables(const std::string& existing,
                                const std::vector<std::pair<std::string, std::string>>& variables) {
    for (const auto& [name, value] : variables)
        if (!is_variable_name(name) || holds_a_line_break(value))
            throw InvalidInput("22023", name.substr(0, 80) + " cannot be written as one line of an env file");
    // Split keeping each line's own ending ("\n", "\r\n" or none for the last one).
    std::vector<std::pair<std::string, std::string>> lines;
    std::size_t start = 0;
    while (start < existing.size()) {
        std::size_t nl = existing.find('\n', start);
        if (nl == std::string::npos) {
            lines.emplace_back(existing.substr(start), "");
            break;
        }
        std::size_t end = nl;
        std::string ending = "\n";
        if (end > start && existing[end - 1] == '\r') {
            --end;
            ending = "\r\n";
        }
        lines.emplace_back(existing.substr(start, end - start), ending);
        start = nl + 1;
    }
    const bool crlf = !lines.empty() && lines.front().second == "\r\n";
    auto value_of = [&variables](const std::string& name) -> const std::string* {
        for (const auto& [n, v] : variables)
            if (n == name) return &v;
        return nullptr;
    };

    std::string out;
    std::vector<std::string> written;
    auto was_written = [&written](const std::string& name) {
        return std::find(written.begin(), written.end(), name) != written.end();
    };
    for (const auto& [text, ending] : lines) {
        const std::string name = variable_of_line(text);
        const std::string* value = name.empty() ? nullptr : value_of(name);
        if (value != nullptr) {
            if (was_written(name)) continue;  // a later duplicate would override ours in most loaders
            out += (starts_with_export(text) ? "export " : "") + name + "=" + *value + ending;
            written.push_back(name);
        } else {
            out += text + ending;
        }
    }
    for (const auto& [name, value] : variables) {
        if (was_written(name)) continue;
        if (!out.empty() && out.back() != '\n') out += crlf ? "\r\n" : "\n";
        out += name + "=" + value + (crlf ? "\r\n" : "\n");
        written.push_back(name);
    }
    return out;
}

std::string merge_database_url(const std::string& existing, const std::string& url) {
    return merge_env_variables(existing, {{"DATABASE_URL", url}});
}

namespace {

[[noreturn]] void refuse(const std::string& what) {
    throw InvalidInput("22023", what);
}

std::string describe_open_error(const std::string& path, int err) {
    if (err == ELOOP || err == EMLINK) return path + " is a symbolic link; claudable follows none";
    if (err == ENOTDIR) return path + " is not a directory";
    return "cannot open " + path + ": " + std::strerror(err);
}

// The project's directory under `projects`, created if missing, never through a symlink.
int open_project_directory(int projects, const std::string& project_id, const std::string& shown) {
    int fd = ::openat(projects, project_id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (::mkdirat(projects, project_id.c_str(), 0700) != 0 && errno != EEXIST)
            file_error("cannot create directory", shown, errno);
        fd = ::openat(projects, project_id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        int err = errno;
        struct stat st {};
        // With O_DIRECTORY, Linux reports a symlink as ENOTDIR: say what it really is.
        if (err == ENOTDIR && ::fstatat(projects, project_id.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            err = ELOOP;
        if (err == ELOOP || err == ENOTDIR) refuse(describe_open_error(shown, err));
        file_error("cannot open", shown, err);
    }
    return fd;
}

// The current file's content: "" when there is none. O_NONBLOCK so a FIFO never blocks
// the open; fstat then refuses it, like every other non-regular file.
std::string read_existing(int directory, const std::string& shown) {
    UniqueFd file{::openat(directory, ".env.production", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)};
    if (file.fd < 0) {
        if (errno == ENOENT) return {};
        const int err = errno;
        if (err == ELOOP) refuse(describe_open_error(shown, err));
        file_error("cannot open", shown, err);
    }
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) file_error("cannot stat", shown, errno);
    if (!S_ISREG(st.st_mode)) refuse(shown + " is not a regular file; claudable writes only regular files");
    if (static_cast<std::size_t>(st.st_size) > max_env_file_bytes)
        refuse(shown + " is larger than " + std::to_string(max_env_file_bytes) + " bytes; claudable will not merge it");
    std::string content;
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::read(file.fd, buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) continue;
            file_error("cannot read", shown, errno);
        }
        if (got == 0) break;
        content.append(buffer, static_cast<std::size_t>(got));
        if (content.size() > max_env_file_bytes)  // it grew while we read
            refuse(shown + " is larger than " + std::to_string(max_env_file_bytes) + " bytes; claudable will not merge it");
    }
    return content;
}

}  // namespace

void write_env_file(const std::string& projects_dir, const std::string& project_id,
                    const AppDatabaseVariables& variables) {
    if (project_id.empty() || project_id == "." || project_id == ".." || project_id.find('/') != std::string::npos)
        refuse("project_id \"" + project_id + "\" cannot name a directory");
    const std::vector<std::pair<std::string, std::string>> lines = {{"DATABASE_URL", variables.database_url},
                                                                    {"DIRECT_URL", variables.direct_url}};
    const std::string shown_directory = projects_dir + "/" + project_id;
    const std::string shown = shown_directory + "/.env.production";
    std::error_code ec;
    std::filesystem::create_directories(projects_dir, ec);
    if (ec) throw Error("58030", "cannot create directory " + projects_dir + ": " + ec.message());
    UniqueFd projects{::open(projects_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (projects.fd < 0) file_error("cannot open", projects_dir, errno);
    UniqueFd directory{open_project_directory(projects.fd, project_id, shown_directory)};

    const std::string content = merge_env_variables(read_existing(directory.fd, shown), lines);

    replace_file(directory.fd, ".env.production", content, shown);
}

void write_env_file(const std::string& projects_dir, const std::string& project_id, const std::string& url) {
    write_env_file(projects_dir, project_id, app_database_variables(url, ""));
}

std::string refused_app_variable(const std::string& name) {
    std::string upper = name;
    for (char& c : upper)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (upper == "DB_ADMIN_URL") return "it is the deploy service's admin connection";
    // libpq reads only PG-prefixed variables; none of them belongs to the app.
    if (upper.rfind("PG", 0) == 0)
        return "libpq reads every PG* variable (PGPASSWORD, PGPASSFILE, PGSERVICE, PGHOST, ...): it would hand the app "
               "the deploy service's credentials or change where its connections go";
    if (upper == "DATABASE_URL" || upper == "DIRECT_URL") return "it is set from the project's own row";
    return {};
}

void check_app_variable_names(const std::vector<std::string>& pass) {
    for (const auto& name : pass) {
        if (!is_variable_name(name))
            throw InvalidInput("22023", "\"" + name.substr(0, 80) + "\" is not a variable name");
        const std::string why = refused_app_variable(name);
        if (!why.empty()) throw InvalidInput("22023", name + " may not be passed to the app: " + why);
    }
}

std::vector<std::string> environment_for_app(const std::vector<std::string>& parent,
                                             const AppDatabaseVariables& variables,
                                             const std::vector<std::string>& pass) {
    check_app_variable_names(pass);
    std::vector<std::string> names = app_base_variables;
    for (const auto& name : pass)
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    std::vector<std::string> out;
    for (const auto& name : names) {
        // The first entry of a name is the one getenv() returns.
        for (const auto& entry : parent) {
            if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=') {
                out.push_back(entry);
                break;
            }
        }
    }
    if (holds_a_line_break(variables.database_url) || holds_a_line_break(variables.direct_url) ||
        variables.database_url.empty() || variables.direct_url.empty())
        throw InvalidInput("22023", "a project URL is empty or holds a line break or a NUL (it is not shown)");
    out.push_back("DATABASE_URL=" + variables.database_url);
    out.push_back("DIRECT_URL=" + variables.direct_url);
    return out;
}

}  // namespace claudable
