#!/usr/bin/env python3
"""Row 23: the lag from the directory's claudable_provision returning to the first successful
login through PgBouncer with the pooled URL it returned, over PROJECTS new projects (one at a
time, a login tried every 20 ms, as an app's first connection would be retried). Reference: the
first login of a project whose entry PgBouncer already has (made and synced beforehand), the
same way: what any first pooled login costs (psql's start, SCRAM, PgBouncer's lookup on the
server, the server's login). Of the lag, pooler-sync's own part is the time from the call's
return to PgBouncer's "RELOAD command issued" in its log. Run by test/bench/pooler_sync_bench.sh
(exports DEPLOY_URL and PGBOUNCER_LOG).
"""
import calendar
import math
import os
import statistics
import subprocess
import sys
import time

from bench import BINDIR, print_table, record

PROJECTS = int(os.environ.get("BENCH_POOLER_PROJECTS", "20"))
TRY_EVERY = 0.02
GIVE_UP = 5.0


class Deploy:
    """One long-lived psql session as the deploy role on the directory."""

    def __init__(self, url):
        self.proc = subprocess.Popen([f"{BINDIR}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)

    def pooled_url(self, project):
        """The pooled URL of a new project; returns once the call has returned (and committed)."""
        self.proc.stdin.write(f"SELECT pooled_database_url FROM claudable_provision('{project}', 'owner-bench');\n"
                              "\\echo __done__\n")
        self.proc.stdin.flush()
        url = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit("psql session ended")
            if line.startswith(("ERROR", "psql:")):
                sys.exit(f"claudable_provision failed: {line.split(':', 1)[0]}")  # never the URL
            if line.strip() == "__done__":
                return url
            url = line.strip()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def logs_in(url):
    out = subprocess.run([f"{BINDIR}/psql", "-X", "-At", url, "-c", "SELECT 1"], capture_output=True, text=True,
                         env=dict(os.environ, PGCONNECT_TIMEOUT="2"))
    return out.returncode == 0 and out.stdout.strip() == "1"


def first_login_ms(url, started):
    """Milliseconds from `started` until `url` logs in, trying every 20 ms."""
    while True:
        if logs_in(url):
            return (time.monotonic() - started) * 1000
        if time.monotonic() - started > GIVE_UP:
            sys.exit(f"a pooled URL did not log in within {GIVE_UP} s")
        time.sleep(TRY_EVERY)


def reload_times():
    """PgBouncer's RELOADs, as seconds since the epoch (its log stamps them in UTC, to the ms)."""
    times = []
    with open(os.environ["PGBOUNCER_LOG"]) as log:
        for line in log:
            if "RELOAD command issued" in line:
                stamp = line[:23]  # 2026-12-05 18:24:05.875
                seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S"))
                times.append(seconds + int(stamp[20:23]) / 1000)
    return times


def p95(samples):
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main():
    deploy = Deploy(os.environ["DEPLOY_URL"])
    # Reference: projects whose entries PgBouncer already has; each one's first login.
    ready = [deploy.pooled_url(f"synced-{i}") for i in range(PROJECTS)]
    time.sleep(2)
    reference = []
    for url in ready:
        started = time.monotonic()
        reference.append(first_login_ms(url, started))
    # Ours: a new project each time, its first login from the moment the call returned.
    lags, calls = [], []
    for i in range(PROJECTS):
        sent = time.time()
        url = deploy.pooled_url(f"lag-{i}")
        started, returned = time.monotonic(), time.time()
        lags.append(first_login_ms(url, started))
        calls.append((sent, returned))
        time.sleep(0.3)  # the next project is a new deploy, not part of a burst
    deploy.close()
    # pooler-sync's part: from the call's return to the first RELOAD after the call was sent.
    reloads = reload_times()
    syncs = []
    for sent, returned in calls:
        after = [t for t in reloads if t >= sent - 0.001]
        if after:
            syncs.append(max(0.0, (after[0] - returned) * 1000))
    print(f"# lags (ms): {' '.join(f'{lag:.0f}' for lag in lags)}")
    print(f"# pooler-sync's part, call returned -> PgBouncer's RELOAD (ms): {' '.join(f'{t:.0f}' for t in syncs)}")
    note = (f"{PROJECTS} new projects through the directory, one at a time, a login tried every 20 ms (each try a "
            "new psql); reference: the first login of a project PgBouncer already has; pooler-sync's part (call "
            f"returned to PgBouncer's RELOAD): p50 {statistics.median(syncs):.0f} ms, max {max(syncs):.0f} ms")
    record("23. pooled login after a new project through the directory vs one PgBouncer has, p50 (ms)",
           statistics.median(lags), statistics.median(reference), "ms", None, note=note)
    record("23. pooled login after a new project through the directory vs one PgBouncer has, p95 (ms)",
           p95(lags), p95(reference), "ms", None, note=note)
    record("23. pooled login after a new project through the directory, max vs the 1 s budget (ms)",
           max(lags), 1000.0, "ms", 1.0, note="pooler-sync: NOTIFY at the directory's commit, sync, RELOAD")
    print_table()


if __name__ == "__main__":
    main()
