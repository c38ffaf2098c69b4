#include "claudable/env_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "claudable/errors.hpp"

namespace claudable {
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

[[noreturn]] void file_error(const std::string& what, const std::string& path, int err) {
    throw Error("58030", what + " " + path + ": " + std::strerror(err));
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

void write_env_file(const std::string& directory, const std::string& url) {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) throw Error("58030", "cannot create directory " + directory + ": " + ec.message());
    const std::string path = directory + "/.env.production";

    std::string existing;
    if (std::ifstream in{path, std::ios::binary}) {
        std::ostringstream buffer;
        buffer << in.rdbuf();
        existing = buffer.str();
    }
    const std::string content = merge_database_url(existing, url);

    std::string temporary = path + ".XXXXXX";
    int fd = ::mkstemp(temporary.data());
    if (fd < 0) file_error("cannot create a temporary file beside", path, errno);
    bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0 &&
              ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
              ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
        if (ok) err = errno;
        ::unlink(temporary.c_str());
        file_error("cannot write", path, err);
    }
    int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

}  // namespace claudable
