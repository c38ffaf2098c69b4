#!/usr/bin/env python3
"""The fleet's benchmarks (rows 14-19): the directory against a server, PgBouncer against
direct connections. Run by test/bench/fleet_bench.sh, which starts the fleet (a directory,
two servers, PgBouncer) and exports DEPLOY_URL (directory), SERVER_URL (server a, same
EXECUTE-only rights), APP_URL / POOLED_APP_URL (one project, direct and through PgBouncer),
SERVER_SOCKET (server a as superuser, for pg_stat_activity) and POOL_SIZE.

Every pair is measured in one run, alternating sides, medians over the repetitions.
"""
import os
import statistics
import subprocess
import threading
import time

from bench import BINDIR, print_table, record

REPS = int(os.environ.get("BENCH_FLEET_REPS", "5"))
SECONDS = int(os.environ.get("BENCH_PGBENCH_SECONDS", "2"))
COLD_CALLS = int(os.environ.get("BENCH_FLEET_COLD_CALLS", "15"))
POOL_SIZE = int(os.environ["POOL_SIZE"])


def pgbench(url, script, clients=1, seconds=SECONDS, transactions=None, extra=()):
    """`script` None: pgbench's built-in TPC-B-like transaction."""
    path = f"/tmp/claudable-fleet-bench-{os.getpid()}.sql"
    if script is not None:
        with open(path, "w") as f:
            f.write(script + "\n")
    length = ["-t", str(transactions)] if transactions else ["-T", str(seconds)]
    out = subprocess.run([f"{BINDIR}/pgbench", "-n", *(["-f", path] if script is not None else []), *length,
                          "-c", str(clients), "-j", str(min(clients, 2)), *extra, url],
                         capture_output=True, text=True)
    if script is not None:
        os.unlink(path)
    if out.returncode != 0:
        # pgbench's own message names no password (it never prints the connection string)
        raise SystemExit(f"pgbench failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    lines = out.stdout.splitlines()
    latency = float(next(l for l in lines if l.startswith("latency average")).split()[3])
    tps = float(next(l for l in lines if l.startswith("tps")).split()[2])
    return latency, tps


def paired(measure_ours, measure_reference):
    ours, reference = [], []
    for _ in range(REPS):
        ours.append(measure_ours())
        reference.append(measure_reference())
    return statistics.median(ours), statistics.median(reference)


def psql(url, sql):
    return subprocess.run(["psql", "-X", "-At", url, "-c", sql], capture_output=True, text=True, check=True).stdout.strip()


def main():
    deploy, server = os.environ["DEPLOY_URL"], os.environ["SERVER_URL"]
    app, pooled = os.environ["APP_URL"], os.environ["POOLED_APP_URL"]

    # 14. A warm call (the project exists) through the directory against the same call on
    # the server that holds it, one client, one persistent connection each.
    psql(deploy, "SELECT 1 FROM claudable_provision('warm-fleet', 'owner-bench')")
    warm = "SELECT * FROM claudable_provision('warm-fleet', 'owner-bench');"
    ours, ref = paired(lambda: pgbench(deploy, warm)[0], lambda: pgbench(server, warm)[0])
    # The part no directory can avoid: one more round trip (a bare SELECT 1 to it).
    hop = statistics.median(pgbench(deploy, "SELECT 1;")[0] for _ in range(REPS))
    record("14. warm call through the directory vs on the server", ours, ref, "ms", 1.5,
           note=f"pgbench, 1 client; a bare SELECT 1 to the directory takes {hop:.3f} ms, so a directory that "
                f"did nothing but forward would be at {(hop + ref) / ref:.2f}")

    # 15. A cold call (a new project: role, database, grants) through the directory against
    # one made on a server directly. Spare pool off on both, as in row 2.
    counter = iter(range(1, 1_000_000))

    def cold(url, side):
        script = f"\\set n random(1, 1000000000)\nSELECT created FROM claudable_provision('cold-{side}-{next(counter)}-' || :n, 'owner-bench');"
        return pgbench(url, script, transactions=COLD_CALLS)[0]

    ours, ref = paired(lambda: cold(deploy, "dir"), lambda: cold(server, "srv"))
    record("15. cold call through the directory vs on the server", ours, ref, "ms", 1.10,
           note=f"pgbench, 1 client, {COLD_CALLS} new projects per sample; fsync off on every cluster")

    # 16. App queries: pgbench's select-only transaction on one project's database, 100
    # clients through PgBouncer (transaction pooling) against 100 direct connections.
    select_only = "\\set aid random(1, 100000)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;"
    ours, ref = paired(lambda: pgbench(pooled, select_only, clients=100)[1],
                       lambda: pgbench(app, select_only, clients=100)[1])
    record("16. app TPS, select-only, 100 clients through PgBouncer vs 100 direct connections", ours, ref, "tps", 1.0,
           higher_is_better=True, note=f"select-only, pool size {POOL_SIZE}, persistent connections")

    # 17. The same with pgbench's read-write TPC-B-like transaction (BEGIN, 3 UPDATEs, a
    # SELECT, an INSERT, END): a small app's database, where 100 direct connections contend.
    ours, ref = paired(lambda: pgbench(pooled, None, clients=100)[1], lambda: pgbench(app, None, clients=100)[1])
    record("17. app TPS, read-write (TPC-B-like), 100 clients through PgBouncer vs 100 direct connections", ours,
           ref, "tps", 1.0, higher_is_better=True, note=f"scale 1, pool size {POOL_SIZE}, persistent connections")

    # 18. Select-only, each transaction on a new connection (serverless apps): informational.
    ours, ref = paired(lambda: pgbench(pooled, select_only, clients=100, extra=("-C",))[1],
                       lambda: pgbench(app, select_only, clients=100, extra=("-C",))[1])
    record("18. app TPS, a new connection per transaction (-C), 100 clients, PgBouncer vs direct", ours, ref,
           "tps", None, note="select-only; SCRAM at every connect on both sides")

    # 19. Server connections behind 200 app clients through PgBouncer: the most seen in
    # pg_stat_activity on the server while they run, against the pool size.
    peak = [0]
    done = threading.Event()
    database = app.rsplit("/", 1)[1].split("?")[0]

    def watch():
        socket = os.environ["SERVER_SOCKET"]
        while not done.is_set():
            seen = int(psql(socket, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'"))
            peak[0] = max(peak[0], seen)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    _, tps = pgbench(pooled, select_only, clients=200, seconds=max(SECONDS, 3))
    done.set()
    watcher.join()
    record("19. server connections used by 200 app clients through PgBouncer vs pool size", peak[0], POOL_SIZE,
           "connections", 1.0, note=f"peak in pg_stat_activity; the 200 clients ran {tps:.0f} tps")
    print_table()


if __name__ == "__main__":
    main()
