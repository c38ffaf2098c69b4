#!/usr/bin/env python3
"""Rows 27-33: snapshots, restore and branches, fsync on (test/bench/versions_bench.sh starts
the cluster as README's Install does it and exports DEPLOY_URL, the deploy role with EXECUTE
only, and CLUSTER_LOG).

27. claudable_snapshot of a 50 MB project, the whole call: an upper bound of the time new
    connections wait (the worker logs the exact window), against a raw CREATE DATABASE ...
    TEMPLATE of the same database; medians.
28, 29. claudable_restore at 50 MB and 500 MB: the time the app's database is unavailable
    (the swap, from the lock that holds new sessions to the commit, as the worker logs it),
    against the 50 ms bound; an app's probe connecting in a loop meanwhile is reported too.
30. claudable_branch from 'current' of the 50 MB project against raw CREATE ROLE + CREATE
    DATABASE ... TEMPLATE; medians.
31. claudable_branch from 'empty' with a spare ready against the raw DDL of a new project
    (CREATE ROLE + CREATE DATABASE ... TEMPLATE template0); medians.
32, 33. The copy strategies: FILE_COPY against WAL_LOG at 50 MB and 500 MB (why
    claudable.file_copy_threshold is what it is).
"""
import os
import re
import statistics
import subprocess
import threading
import time

from bench import BINDIR, Session, print_table, record

REPS = int(os.environ.get("BENCH_VERSIONS_REPS", "5"))
DEPLOY_URL = os.environ["DEPLOY_URL"]
LOG = os.environ["CLUSTER_LOG"]


def psql(target, *statements):
    commands = [arg for sql in statements for arg in ("-c", sql)]
    out = subprocess.run([f"{BINDIR}/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", target, *commands],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"psql failed: {out.stderr.strip().splitlines()[0] if out.stderr.strip() else '?'}")
    return out.stdout.strip()


def timed(target, *statements):
    started = time.monotonic()
    out = psql(target, *statements)
    return (time.monotonic() - started) * 1000, out


def deploy(sql):
    return timed(DEPLOY_URL, sql)


def superuser(*statements):
    return psql("meta", *statements)


def log_values(pattern, since):
    with open(LOG, encoding="utf-8", errors="replace") as log:
        log.seek(since)
        return [int(m) for m in re.findall(pattern, log.read())]


def log_size():
    return os.path.getsize(LOG)


def fill(url, megabytes):
    rows = megabytes * 4300  # about 240 bytes a row, with its share of the heap
    psql(url, "CREATE TABLE IF NOT EXISTS filler (id bigint, payload text)",
         f"INSERT INTO filler SELECT g, repeat('x', 200) FROM generate_series(1, {rows}) AS g")


def size_mb(database):
    return int(superuser(f"SELECT pg_database_size('{database}')")) / 1e6


def project(name, megabytes):
    url = deploy(f"SELECT database_url FROM claudable_provision('{name}', 'owner-bench')")[1]
    fill(url, megabytes)
    database = psql(url, "SELECT current_database()")
    print(f"# project {name}: {size_mb(database):.1f} MB", flush=True)
    return url, database


# Long-lived psql sessions timed by \\timing (bench.Session): neither side pays psql's start-up
# or a login, as in rows 1-13.
sessions = {}


def on(target, *statements):
    if target not in sessions:
        sessions[target] = Session(target)
    return sum(sessions[target].run(list(statements)))


def raw_copy_ms(source, i, strategy=None):
    option = f" STRATEGY {strategy}" if strategy else ""
    ms = on("meta", f'CREATE DATABASE "raw_copy_{i}" TEMPLATE "{source}"{option}')
    superuser(f'DROP DATABASE "raw_copy_{i}"')
    return ms


def wal_bytes(statement):
    before = superuser("SELECT pg_current_wal_lsn()")
    superuser(statement)
    return int(superuser(f"SELECT pg_current_wal_lsn() - '{before}'::pg_lsn"))


def newest_snapshot(name):
    return superuser(f"SELECT snapshot_id FROM claudable.snapshots WHERE project_id = '{name}' "
                     "ORDER BY created_at DESC LIMIT 1")


def probe(url, stop, attempts):
    """An app that connects again and again: (ok, milliseconds) of each attempt."""
    while not stop.is_set():
        started = time.monotonic()
        out = subprocess.run([f"{BINDIR}/psql", "-X", "-At", "-d", url, "-c", "SELECT 1"], capture_output=True)
        attempts.append((out.returncode == 0, (time.monotonic() - started) * 1000))


def snapshot_row(database):
    ours, raw, waited = [], [], []
    for i in range(REPS):
        raw.append(raw_copy_ms(database, i))
        mark = log_size()
        ours.append(on(DEPLOY_URL, "SELECT snapshot_id FROM claudable_snapshot('p50', 'owner-bench')"))
        snapshot_id = newest_snapshot("p50")
        waited += log_values(r"new sessions waited at most (\d+) ms", mark)
        deploy(f"SELECT claudable_drop_snapshot('p50', 'owner-bench', '{snapshot_id}')")
    record("27. snapshot of a 50 MB project: the call (new connections wait at most this) vs raw CREATE DATABASE TEMPLATE",
           statistics.median(ours), statistics.median(raw), "ms", 1.2,
           note=f"the worker's own measure of the wait: median {statistics.median(waited)} ms, max {max(waited)} ms")


def restore_row(number, name, url, label):
    snapshot_id = deploy(f"SELECT snapshot_id FROM claudable_snapshot('{name}', 'owner-bench')")[1]
    unavailable, attempts = [], []
    for _ in range(REPS):
        stop = threading.Event()
        prober = threading.Thread(target=probe, args=(url, stop, attempts))
        prober.start()
        time.sleep(0.3)
        mark = log_size()
        deploy(f"SELECT 1 FROM claudable_restore('{name}', 'owner-bench', '{snapshot_id}')")
        unavailable += log_values(r"the database was unavailable for (\d+) ms", mark)
        time.sleep(0.3)
        stop.set()
        prober.join()
        for s in psql("meta", f"SELECT snapshot_id FROM claudable.snapshots WHERE project_id = '{name}' "
                              f"AND label LIKE 'before restore%'").split():
            deploy(f"SELECT claudable_drop_snapshot('{name}', 'owner-bench', '{s}')")
    refused = sum(1 for ok, _ in attempts if not ok)
    slowest = max(ms for _, ms in attempts)
    typical = statistics.median(ms for _, ms in attempts)
    record(f"{number}. restore at {label}: the time the app's database is unavailable (the swap) vs the 50 ms bound",
           statistics.median(unavailable), 50, "ms", 1.0,
           note=f"max {max(unavailable)} ms over {len(unavailable)} restores; an app connecting in a loop: "
                f"{len(attempts)} logins, {refused} refused, slowest {slowest:.0f} ms (typical {typical:.0f} ms)")


def branch_current_row(database):
    ours, raw = [], []
    for i in range(REPS):
        raw.append(on("meta", f'CREATE ROLE "raw_branch_{i}" LOGIN',
                      f'CREATE DATABASE "raw_branch_{i}" OWNER "raw_branch_{i}" TEMPLATE "{database}"'))
        superuser(f'DROP DATABASE "raw_branch_{i}"', f'DROP ROLE "raw_branch_{i}"')
        ours.append(on(DEPLOY_URL, f"SELECT 1 FROM claudable_branch('p50', 'owner-bench', 'b{i}')"))
        deploy(f"SELECT claudable_deprovision('p50~b{i}', 'owner-bench')")
    record("30. branch from 'current' of a 50 MB project vs raw CREATE ROLE + CREATE DATABASE TEMPLATE",
           statistics.median(ours), statistics.median(raw), "ms", 1.2)


def branch_empty_row():
    superuser("LOAD 'claudable'", "ALTER SYSTEM SET claudable.spare_databases = 2", "SELECT pg_reload_conf()")
    time.sleep(0.3)
    ours, raw = [], []
    for i in range(REPS):
        superuser("SELECT claudable_refill_spares()")
        raw.append(on("meta", f'CREATE ROLE "raw_empty_{i}" LOGIN',
                      f'CREATE DATABASE "raw_empty_{i}" OWNER "raw_empty_{i}" TEMPLATE template0'))
        superuser(f'DROP DATABASE "raw_empty_{i}"', f'DROP ROLE "raw_empty_{i}"')
        superuser("SELECT claudable_refill_spares()")
        ours.append(on(DEPLOY_URL, f"SELECT 1 FROM claudable_branch('p50', 'owner-bench', 'shadow{i}', 'empty')"))
        claimed = superuser(f"SELECT count(*) FROM claudable.events WHERE project_id = 'p50~shadow{i}' "
                            "AND detail LIKE 'role and database claimed from spare%'")
        if claimed != "1":
            raise SystemExit(f"branch p50~shadow{i} was not claimed from a spare")
        deploy(f"SELECT claudable_deprovision('p50~shadow{i}', 'owner-bench')")
    superuser("ALTER SYSTEM RESET claudable.spare_databases", "SELECT pg_reload_conf()")
    record("31. branch from 'empty' with a spare ready vs the raw DDL (CREATE ROLE + CREATE DATABASE TEMPLATE template0)",
           statistics.median(ours), statistics.median(raw), "ms", 0.15)


def strategy_row(number, database, label):
    wal, file = [], []
    for i in range(3):
        wal.append(raw_copy_ms(database, i, "WAL_LOG"))
        file.append(raw_copy_ms(database, i, "FILE_COPY"))
    wal_log_wal = wal_bytes(f'CREATE DATABASE "wal_probe" TEMPLATE "{database}" STRATEGY WAL_LOG') / 1e6
    superuser('DROP DATABASE "wal_probe"')
    file_copy_wal = wal_bytes(f'CREATE DATABASE "wal_probe" TEMPLATE "{database}" STRATEGY FILE_COPY') / 1e6
    superuser('DROP DATABASE "wal_probe"')
    record(f"{number}. copy strategy at {label}: CREATE DATABASE ... STRATEGY FILE_COPY vs WAL_LOG",
           statistics.median(file), statistics.median(wal), "ms", None,
           note=f"WAL written: {file_copy_wal:.1f} MB (FILE_COPY) vs {wal_log_wal:.1f} MB (WAL_LOG); "
                + ("claudable.file_copy_threshold (64 MB) picks FILE_COPY" if label == "500 MB" else
                   "below claudable.file_copy_threshold (64 MB): WAL_LOG"))


def main():
    p50_url, p50_db = project("p50", 50)
    p500_url, p500_db = project("p500", 500)
    superuser("CHECKPOINT")
    snapshot_row(p50_db)
    restore_row(28, "p50", p50_url, "50 MB")
    restore_row(29, "p500", p500_url, "500 MB")
    branch_current_row(p50_db)
    branch_empty_row()
    strategy_row(32, p50_db, "50 MB")
    strategy_row(33, p500_db, "500 MB")
    for session in sessions.values():
        session.close()
    print_table()


if __name__ == "__main__":
    main()
