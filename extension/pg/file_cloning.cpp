#include "pg/file_cloning.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#if defined(__linux__)
#include <linux/fs.h>  // FICLONE
#endif

#include <cerrno>
#include <cstdio>

#include "pg/boundary.hpp"
#include "pg/headers.hpp"

extern "C" {
#include "common/file_perm.h"
#include "common/file_utils.h"  // PG_TEMP_FILES_DIR, PG_TEMP_FILE_PREFIX from 17 on
#include "storage/fd.h"         // the same before 17
}

namespace claudable::pg {
namespace {

// Clones one block-sized file into another in base/pgsql_tmp (relative to the data
// directory, every backend's working directory). The names start with pgsql_tmp, so a
// server restarted after a crash in between removes them as it removes any temporary file.
bool probe_clone() noexcept {
#if defined(FICLONE)
    char dir[MAXPGPATH], source[MAXPGPATH], target[MAXPGPATH];
    snprintf(dir, sizeof dir, "base/%s", PG_TEMP_FILES_DIR);
    snprintf(source, sizeof source, "%s/%sclaudable_clone_probe.%d.a", dir, PG_TEMP_FILE_PREFIX, MyProcPid);
    snprintf(target, sizeof target, "%s/%sclaudable_clone_probe.%d.b", dir, PG_TEMP_FILE_PREFIX, MyProcPid);
    if (mkdir(dir, pg_dir_create_mode) != 0 && errno != EEXIST) return false;
    bool shared = false;
    const int in = open(source, O_RDWR | O_CREAT | O_EXCL | PG_BINARY, pg_file_create_mode);
    if (in >= 0) {
        static const char block[BLCKSZ] = {};
        const int out = open(target, O_RDWR | O_CREAT | O_EXCL | PG_BINARY, pg_file_create_mode);
        if (out >= 0) {
            shared = write(in, block, sizeof block) == static_cast<ssize_t>(sizeof block) && ioctl(out, FICLONE, in) == 0;
            close(out);
            unlink(target);
        }
        close(in);
        unlink(source);
    }
    return shared;
#else
    return false;  // no block-sharing clone this extension knows how to probe for
#endif
}

}  // namespace

bool server_has_file_copy_method() noexcept {
#if PG_VERSION_NUM >= 180000
    return true;
#else
    return false;
#endif
}

bool data_directory_shares_blocks() {
    if (!server_has_file_copy_method()) return false;
    static int known = -1;  // -1: not probed yet in this process
    if (known < 0) known = call([]() noexcept { return probe_clone(); }) ? 1 : 0;
    return known == 1;
}

void use_file_copy_method(const std::string& method) {
#if PG_VERSION_NUM >= 180000
    const char* value = method == "clone" ? "clone" : "copy";
    call([value]() noexcept { SetConfigOption("file_copy_method", value, PGC_SUSET, PGC_S_OVERRIDE); });
#else
    (void) method;
#endif
}

}  // namespace claudable::pg
