#!/usr/bin/env python3
"""Rows 24-26: pooled logins that work at once (README, Install step 5b). Run by
test/bench/pooled_bench.sh, which starts a cluster set up as README's Install does it,
PgBouncer from README's pgbouncer.ini with claudable.pooler_auth_user set, and exports
DEPLOY_URL (the deploy role, EXECUTE only).

24. a cold claudable_provision with claudable.pooler_auth_user set (a worker in the new
    database puts the lookup there) against one without it, alternating, medians;
25. the warm call with it set (one more catalog read: the lookup role's CONNECT) against
    one without it, pgbench latency;
26. from claudable_provision returning to the first query answered through the pooled URL,
    against the same through the direct URL: both include psql's start-up, and every
    pooled login must succeed at its first attempt.
"""
import os
import statistics
import subprocess
import time

from bench import BINDIR, print_table, record

REPS = int(os.environ.get("BENCH_POOLED_REPS", "15"))
SECONDS = int(os.environ.get("BENCH_PGBENCH_SECONDS", "2"))
DEPLOY_URL = os.environ["DEPLOY_URL"]


def psql(url_or_db, *statements):
    commands = [arg for sql in statements for arg in ("-c", sql)]
    return subprocess.run([f"{BINDIR}/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url_or_db, *commands],
                          capture_output=True, text=True)


def superuser(*statements):
    out = psql("meta", *statements)
    if out.returncode != 0:
        raise SystemExit(f"psql failed: {out.stderr.strip()}")
    return out.stdout.strip()


def set_auth_user(value):
    superuser("LOAD 'claudable'", f"ALTER SYSTEM SET claudable.pooler_auth_user = '{value}'", "SELECT pg_reload_conf()")
    time.sleep(0.3)


def provision_ms(project):
    started = time.monotonic()
    out = psql(DEPLOY_URL, f"SELECT pooled_database_url, database_url FROM claudable_provision('{project}', 'owner-bench')")
    elapsed = (time.monotonic() - started) * 1000
    if out.returncode != 0:
        raise SystemExit(f"provision failed: {out.stderr.strip().splitlines()[0]}")
    pooled, direct = out.stdout.strip().split("|")
    return elapsed, pooled, direct


def first_query_ms(url):
    """Milliseconds until a query through `url` is answered, and how many attempts it took."""
    started = time.monotonic()
    for attempt in range(1, 51):
        out = psql(url, "SELECT 1")
        if out.returncode == 0:
            return (time.monotonic() - started) * 1000, attempt
        time.sleep(0.02)
    raise SystemExit("a pooled URL did not log in within 50 attempts")


def pgbench_latency(script):
    path = f"/tmp/claudable-pooled-bench-{os.getpid()}.sql"
    with open(path, "w") as f:
        f.write(script + "\n")
    out = subprocess.run([f"{BINDIR}/pgbench", "-n", "-f", path, "-T", str(SECONDS), "-c", "1", DEPLOY_URL],
                         capture_output=True, text=True)
    os.unlink(path)
    if out.returncode != 0:
        raise SystemExit("pgbench failed")
    return float(next(l for l in out.stdout.splitlines() if l.startswith("latency average")).split()[3])


def main():
    # 24: cold calls, alternating with and without the setting.
    with_setting, without = [], []
    for i in range(REPS):
        set_auth_user("")
        without.append(provision_ms(f"cold-off-{i}")[0])
        set_auth_user("claudable_pgbouncer")
        with_setting.append(provision_ms(f"cold-on-{i}")[0])
    record("24. cold claudable_provision with claudable.pooler_auth_user set (ms, client wall time)",
           statistics.median(with_setting), statistics.median(without), "ms", None,
           note="reference: the same call without the setting; the difference is the worker that puts the lookup in the new database")

    # 25: the warm call.
    set_auth_user("claudable_pgbouncer")
    warm = "SELECT * FROM claudable_provision('cold-on-1', 'owner-bench');"
    on = statistics.median(pgbench_latency(warm) for _ in range(5))
    set_auth_user("")
    off = statistics.median(pgbench_latency(warm) for _ in range(5))
    record("25. warm claudable_provision with claudable.pooler_auth_user set (pgbench latency)", on, off, "ms", 1.10,
           note="reference: the same call without the setting (one more catalog read: the lookup role's CONNECT)")

    # 26: from the call's return to the first answered query.
    set_auth_user("claudable_pgbouncer")
    pooled_ms, direct_ms, attempts = [], [], []
    for i in range(REPS):
        _, pooled, direct = provision_ms(f"lag-{i}")
        ms, tries = first_query_ms(pooled)
        pooled_ms.append(ms)
        attempts.append(tries)
        direct_ms.append(first_query_ms(direct)[0])
    if max(attempts) != 1:
        raise SystemExit(f"a new project's pooled URL needed {max(attempts)} attempts")
    print(f"# 26: pooled login after the call returned: max {max(pooled_ms):.1f} ms over {REPS} projects, "
          f"every one at its first attempt")
    record("26. new project: call returned -> first query through its pooled URL (ms, psql start-up included)",
           statistics.median(pooled_ms), statistics.median(direct_ms), "ms", None,
           note=f"reference: the same through the direct URL; {REPS} projects, each at its first attempt, max {max(pooled_ms):.0f} ms")
    print_table()


if __name__ == "__main__":
    main()
