#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "claudable/errors.hpp"

namespace claudable::detail {

void file_error(const std::string& what, const std::string& path, int err) {
    throw Error("58030", what + " " + path + ": " + std::strerror(err));
}

namespace {

std::string random_suffix() {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device random;
    std::string suffix;
    for (int i = 0; i < 12; ++i) suffix += alphabet[random() % (sizeof alphabet - 1)];
    return suffix;
}

}  // namespace

void replace_file(int directory, const std::string& name, const std::string& content, const std::string& shown) {
    std::string temporary;
    UniqueFd out;
    for (int attempt = 0; out.fd < 0 && attempt < 16; ++attempt) {
        temporary = name + "." + random_suffix();
        out.fd = ::openat(directory, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          S_IRUSR | S_IWUSR);
        if (out.fd < 0 && errno != EEXIST) file_error("cannot create a temporary file beside", shown, errno);
    }
    if (out.fd < 0) file_error("cannot create a temporary file beside", shown, EEXIST);
    bool ok = ::fchmod(out.fd, S_IRUSR | S_IWUSR) == 0 &&
              ::write(out.fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
              ::fsync(out.fd) == 0;
    int err = errno;
    ::close(out.fd);
    out.fd = -1;
    if (!ok || ::renameat(directory, temporary.c_str(), directory, name.c_str()) != 0) {
        if (ok) err = errno;
        ::unlinkat(directory, temporary.c_str(), 0);
        file_error("cannot write", shown, err);
    }
    ::fsync(directory);
}

}  // namespace claudable::detail
