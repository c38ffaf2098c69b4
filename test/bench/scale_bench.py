#!/usr/bin/env python3
"""`make bench-scale`: the calls a DBA runs on a schedule, and the paths a deploy takes, with
10 projects and then with each step of BENCH_SCALE_STEPS projects (real roles and databases,
provisioned through the deploy role by BENCH_SCALE_SESSIONS sessions at once). At each size:

- claudable_check() and claudable_reconcile() on the healthy server, SELECT * FROM
  claudable.databases, claudable_enforce_quotas(), claudable_databases('<one project>'):
  medians of BENCH_SCALE_REPS calls in one long-lived superuser session (psql's \\timing);
- the warm claudable_provision of an existing project: pgbench latency, 1 client;
- the refill of one spare (claudable.spare_databases = 1): claudable_refill_spares() after a
  claim emptied the pool;
- the disk: the data directory's databases, per project database.

Printed as one Markdown table, each figure with its ratio to the same at 10 projects, and the
curve of each call over the steps.
"""
import os
import statistics
import subprocess
import sys
import threading
import time

from bench import BINDIR, Session
from versions_bench import psql

STEPS = [int(n) for n in os.environ.get("BENCH_SCALE_STEPS", "1000 2000 5000").split()]
SESSIONS = int(os.environ.get("BENCH_SCALE_SESSIONS", "4"))
REPS = int(os.environ.get("BENCH_SCALE_REPS", "3"))
DEPLOY_URL = os.environ["DEPLOY_URL"]
META = "meta"


def projects():
    return int(psql(META, "SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'scale-%'"))


def provision_up_to(total):
    """Provisions scale-<i> until there are `total`, SESSIONS deploy sessions at once."""
    start = projects()
    failures = []

    def worker(k):
        names = [f"scale-{i}" for i in range(start + k, total, SESSIONS)]
        script = "\n".join(f"SELECT 1 FROM claudable_provision('{n}', 'owner-scale-{i % 50}');"
                           for i, n in zip(range(start + k, total, SESSIONS), names))
        out = subprocess.run([f"{BINDIR}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", DEPLOY_URL],
                             input=script, capture_output=True, text=True)
        if out.returncode != 0:
            failures.append(out.stderr.strip().splitlines()[0] if out.stderr.strip() else "?")

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        sys.exit(f"provisioning failed: {failures[0]}")
    print(f"# provisioned {total - start} projects in {time.monotonic() - started:.0f} s ({total} now)", flush=True)


def median_ms(session, sql):
    return statistics.median(session.run([sql])[0] for _ in range(REPS))


def warm_latency_ms():
    path = f"/tmp/claudable-scale-{os.getpid()}.sql"
    with open(path, "w") as f:
        f.write("SELECT * FROM claudable_provision('scale-0', 'owner-scale-0');\n")
    samples = []
    for _ in range(REPS):
        out = subprocess.run([f"{BINDIR}/pgbench", "-n", "-f", path, "-T", "2", "-c", "1", META],
                             capture_output=True, text=True, check=True).stdout
        samples.append(float(next(l for l in out.splitlines() if l.startswith("latency average")).split()[3]))
    os.unlink(path)
    return statistics.median(samples)


spare_claims = 0


def spare_databases(n):
    psql(META, "LOAD 'claudable'", f"ALTER SYSTEM SET claudable.spare_databases = {n}")  # a setting it defines
    psql(META, "SELECT pg_reload_conf()")
    time.sleep(0.2)  # the long-lived session reads the reload before its next statement


def spare_refill_ms(session):
    global spare_claims
    spare_databases(1)
    samples = []
    for _ in range(REPS):
        session.run(["SELECT claudable_refill_spares()"])  # the pool holds one
        psql(DEPLOY_URL, f"SELECT 1 FROM claudable_provision('spare-claim-{spare_claims}', 'owner-spares')")
        spare_claims += 1
        if psql(META, "SELECT count(*) FROM claudable.spares") != "0":
            sys.exit("the claim did not take the spare")
        samples.append(session.run(["SELECT claudable_refill_spares()"])[0])
    spare_databases(0)  # provisioning between the steps runs without a pool
    session.run(["SELECT claudable_refill_spares()"])  # which drops the spare left
    return statistics.median(samples)


def disk_per_database_mb():
    return float(psql(META, "SELECT round(avg(pg_database_size(database_name)) / 1e6, 2) FROM claudable.projects"))


def measure(session, size):
    row = {
        "claudable_check()": median_ms(session, "SELECT count(*) FROM claudable_check()"),
        "claudable_reconcile()": median_ms(session, "SELECT claudable_reconcile()"),
        "SELECT * FROM claudable.databases": median_ms(session, "SELECT * FROM claudable.databases"),
        "claudable_enforce_quotas()": median_ms(session, "SELECT claudable_enforce_quotas()"),
        "claudable_databases('scale-0')": median_ms(session, "SELECT * FROM claudable_databases('scale-0')"),
        "warm claudable_provision (pgbench latency)": warm_latency_ms(),
        "refill of one spare": spare_refill_ms(session),
        "disk per project database (MB)": disk_per_database_mb(),
    }
    findings = psql(META, "SELECT count(*) FROM claudable_check()")
    print(f"# {size} projects: " + ", ".join(f"{k} {v:.1f}" for k, v in row.items()) + f"; check findings: {findings}",
          flush=True)
    return row


def main():
    provision_up_to(10)
    session = Session(META)
    results = {10: measure(session, 10)}
    for step in STEPS:
        provision_up_to(step)
        psql(META, "CHECKPOINT")
        results[step] = measure(session, step)
    session.close()
    names = list(results[10].keys())
    print()
    print("| call | 10 | " + " | ".join(f"{s:,}" for s in STEPS) + " | unit | "
          + " | ".join(f"{s:,} / 10" for s in STEPS) + " |")
    print("|---|---|" + "---|" * len(STEPS) + "---|" + "---|" * len(STEPS))
    for name in names:
        unit = "MB" if name.startswith("disk") else "ms"
        base = results[10][name]
        print(f"| {name} | {base:.2f} | " + " | ".join(f"{results[s][name]:.2f}" for s in STEPS) + f" | {unit} | "
              + " | ".join(f"{results[s][name] / base:.2f}" if base else "-" for s in STEPS) + " |")


if __name__ == "__main__":
    main()
