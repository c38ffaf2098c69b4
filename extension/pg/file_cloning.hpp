// PostgreSQL 18's file_copy_method for CREATE DATABASE ... STRATEGY FILE_COPY: `clone` has the
// kernel copy each file (copy_file_range on Linux), which on a file system that shares blocks
// between a file and its copy (XFS with reflink, Btrfs, ZFS with block cloning) costs almost
// no time and no disk until either side changes. Before 18 there is only the copy, and the
// functions below say so; the version guard lives here only.
#pragma once

#include <string>

namespace claudable::pg {

// PostgreSQL 18 and later: file_copy_method exists.
bool server_has_file_copy_method() noexcept;

// Whether a clone in the data directory shares blocks: on 18 and later, a probe clones a
// small file in base/pgsql_tmp (FICLONE, which only block-sharing file systems accept),
// once per process; false before 18 and wherever the probe cannot run.
bool data_directory_shares_blocks();

// The method this process's next CREATE DATABASE ... STRATEGY FILE_COPY uses, "copy" or
// "clone" (18 and later; before 18 nothing is set, and FILE_COPY copies).
void use_file_copy_method(const std::string& method);

}  // namespace claudable::pg
