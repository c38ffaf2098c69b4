#!/usr/bin/env python3
"""Two rows of test/bench/clone_bench.sh, on the file system the cluster is on (BENCH_FS_LABEL),
numbered from BENCH_FIRST_ROW:

n.   A raw CREATE DATABASE ... STRATEGY FILE_COPY of a 500 MB database with file_copy_method =
     clone against = copy (medians of 3), and the disk each copy takes (the file system's free
     space before and after one copy kept).
n+1. claudable_snapshot of the 500 MB project through the deploy role, the whole call, with
     claudable.file_copy_method = auto (set server-wide by the DBA; what auto chose is read
     from the audit trail) against = copy; medians of 3. Target: auto is never slower than
     copy (within 5 %).
"""
import os
import statistics
import time

from bench import print_table, record
from versions_bench import deploy, newest_snapshot, on, project, sessions, superuser

REPS = 3
LABEL = os.environ["BENCH_FS_LABEL"]
FIRST = int(os.environ["BENCH_FIRST_ROW"])
DATA = os.path.join(os.environ["CLUSTER_DIR"], "data")


def free_bytes():
    """The file system's free space once it has settled: a dropped database's blocks are
    freed in the background (XFS inactivates inodes late), so read until two reads agree."""
    superuser("CHECKPOINT")
    last = None
    for _ in range(50):
        os.sync()
        stats = os.statvfs(DATA)
        free = stats.f_bavail * stats.f_frsize
        if free == last:
            return free
        last = free
        time.sleep(0.2)
    return last


def raw_file_copy_ms(source, method):
    on("meta", f"SET file_copy_method = {method}")
    before = free_bytes()
    ms = on("meta", f'CREATE DATABASE "raw_{method}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    taken = before - free_bytes()
    superuser(f'DROP DATABASE "raw_{method}"')
    return ms, taken


def snapshot_ms(method):
    superuser(f"ALTER SYSTEM SET claudable.file_copy_method = {method}", "SELECT pg_reload_conf()")
    ms = deploy("SELECT 1 FROM claudable_snapshot('p500', 'owner-bench', 'bench')")[0]
    used = superuser("SELECT substring(detail FROM 'FILE_COPY, ([a-z]+)') FROM claudable.events "
                     "WHERE project_id = 'p500' AND action = 'snapshot' ORDER BY id DESC LIMIT 1")
    deploy(f"SELECT claudable_drop_snapshot('p500', 'owner-bench', '{newest_snapshot('p500')}')")
    return ms, used


def main():
    _, database = project("p500", 500)
    superuser("CHECKPOINT")
    clone, copy, clone_disk, copy_disk = [], [], [], []
    for _ in range(REPS):
        ms, taken = raw_file_copy_ms(database, "clone")
        clone.append(ms)
        clone_disk.append(taken)
        ms, taken = raw_file_copy_ms(database, "copy")
        copy.append(ms)
        copy_disk.append(taken)
    record(f"{FIRST}. PostgreSQL 18 on {LABEL}: CREATE DATABASE ... STRATEGY FILE_COPY of 500 MB, "
           "file_copy_method clone vs copy", statistics.median(clone), statistics.median(copy), "ms", None,
           note=f"disk taken by a copy: {statistics.median(clone_disk) / 1e6:.0f} MB (clone) vs "
                f"{statistics.median(copy_disk) / 1e6:.0f} MB (copy)")
    auto, copied, chosen = [], [], set()
    for _ in range(REPS):
        ms, used = snapshot_ms("auto")
        auto.append(ms)
        chosen.add(used)
        ms, used = snapshot_ms("copy")
        if used != "copy":
            raise SystemExit(f"claudable.file_copy_method = copy copied with {used}")
        copied.append(ms)
    superuser("ALTER SYSTEM RESET claudable.file_copy_method", "SELECT pg_reload_conf()")
    if len(chosen) != 1:
        raise SystemExit(f"auto chose differently from one snapshot to the next: {sorted(chosen)}")
    record(f"{FIRST + 1}. PostgreSQL 18 on {LABEL}: claudable_snapshot of a 500 MB project, "
           "claudable.file_copy_method auto vs copy", statistics.median(auto), statistics.median(copied), "ms",
           1.05, note=f"auto chose {chosen.pop()}")
    for session in sessions.values():
        session.close()
    print_table()


if __name__ == "__main__":
    main()
