#include "claudable/env_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

bool is_database_url_line(const std::string& line) {
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos) return false;
    if (line.compare(i, 7, "export ") == 0) i = line.find_first_not_of(" \t", i + 7);
    if (i == std::string::npos || line.compare(i, 12, "DATABASE_URL") != 0) return false;
    i = line.find_first_not_of(" \t", i + 12);
    return i != std::string::npos && line[i] == '=';
}

bool starts_with_export(const std::string& line) {
    std::size_t i = line.find_first_not_of(" \t");
    return i != std::string::npos && line.compare(i, 7, "export ") == 0;
}

}  // namespace

std::string merge_database_url(const std::string& existing, const std::string& url) {
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
    const std::string new_line = "DATABASE_URL=" + url;

    std::string out;
    bool replaced = false;
    for (const auto& [text, ending] : lines) {
        if (is_database_url_line(text)) {
            if (replaced) continue;  // a later duplicate would override ours in most loaders
            out += (starts_with_export(text) ? "export " : "") + new_line + ending;
            replaced = true;
        } else {
            out += text + ending;
        }
    }
    if (!replaced) {
        if (!out.empty() && out.back() != '\n') out += crlf ? "\r\n" : "\n";
        out += new_line + (crlf ? "\r\n" : "\n");
    }
    return out;
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

void write_env_file(const std::string& projects_dir, const std::string& project_id, const std::string& url) {
    if (project_id.empty() || project_id == "." || project_id == ".." || project_id.find('/') != std::string::npos)
        refuse("project_id \"" + project_id + "\" cannot name a directory");
    const std::string shown_directory = projects_dir + "/" + project_id;
    const std::string shown = shown_directory + "/.env.production";
    std::error_code ec;
    std::filesystem::create_directories(projects_dir, ec);
    if (ec) throw Error("58030", "cannot create directory " + projects_dir + ": " + ec.message());
    UniqueFd projects{::open(projects_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (projects.fd < 0) file_error("cannot open", projects_dir, errno);
    UniqueFd directory{open_project_directory(projects.fd, project_id, shown_directory)};

    const std::string content = merge_database_url(read_existing(directory.fd, shown), url);

    replace_file(directory.fd, ".env.production", content, shown);
}

std::vector<std::string> environment_for_app(const std::vector<std::string>& environment, const std::string& url) {
    std::vector<std::string> out;
    for (const auto& entry : environment) {
        const std::string name = entry.substr(0, entry.find('='));
        // libpq reads only PG-prefixed variables; none of them belongs to the app.
        if (name == "DB_ADMIN_URL" || name == "DATABASE_URL" || name.rfind("PG", 0) == 0) continue;
        out.push_back(entry);
    }
    out.push_back("DATABASE_URL=" + url);
    return out;
}

}  // namespace claudable
