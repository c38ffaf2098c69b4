#!/usr/bin/env bash
# The test command (`make test`): installs what is missing, builds and installs the
# extension, runs every suite, and ends with one row per suite (planned, passed, failed,
# whether it ran to its end) and the line "N passed, N failed". A suite that dies, is cut
# off or prints fewer results than it planned fails there (test/lib/suites.sh).
set -uo pipefail
cd "$(dirname "$0")/.."

source test/lib/install-deps.sh
install_missing_packages || exit 1
source test/lib/suites.sh

# A shell suite that hangs (a parked worker never released) is cut off after this long and
# fails; the Perl suites and the fleet suite start several servers and get longer.
suite_timeout=300

# First, before anything is built: the harness itself fails a dying, cut-off or short suite.
for suite in test/harness/*.sh; do
    run_suite "harness/$(basename "$suite" .sh)" "$suite_timeout" bash "$suite"
done

build_and_install() {  # $@: extra make variables
    rm -f extension/*/*.o claudable.so
    make -s "$@" >/dev/null && make -s "$@" install >/dev/null && make -s client-install >/dev/null ||
        { echo "build failed" >&2; exit 1; }
}
# The suites run against a test build with fault points (FAULT_INJECTION=1); the
# production build is installed again at the end, whatever the outcome.
echo "== build and install (test build: FAULT_INJECTION=1)"
build_and_install FAULT_INJECTION=1

source test/lib/cluster.sh
# Statement logging is on so that the secrets suite can prove no password reaches the log.
# The log goes through the collector to a file a superuser can read (pg_current_logfile()),
# with each message's SQLSTATE, so suites assert the server's own refusal of a login.
cluster_start "log_statement = 'all'" "log_line_prefix = '%m [%p] %q%u@%d '" "log_error_verbosity = verbose" \
    "logging_collector = on" "log_directory = 'log'" "log_filename = 'server.log'" || exit 1
export CLUSTER_LOG="$CLUSTER_DIR/data/log/server.log"

echo "== pg_regress (pgTAP) and pg_isolation_regress"
rm -rf results regression.diffs regression.out output_iso
# Separately, so that a pg_regress failure does not keep the isolation specs from running.
make -s installcheck ISOLATION= 2>&1 | tee "$CLUSTER_DIR/regress.log"
make -s installcheck REGRESS= 2>&1 | tee -a "$CLUSTER_DIR/regress.log"
[ -f regression.diffs ] && { echo "-- regression.diffs:"; cat regression.diffs; }
[ -f output_iso/regression.diffs ] && { echo "-- output_iso/regression.diffs:"; cat output_iso/regression.diffs; }
# Each pgTAP file is a suite: its own plan, its results, and its output as expected (an
# error outside an assertion changes the output without a "not ok").
for expected in expected/*.out; do
    name=$(basename "$expected" .out)
    result="results/$name.out"
    if [ ! -f "$result" ]; then  # pg_regress never ran it: no plan, no results
        result="$CLUSTER_DIR/missing.out"
        : >"$result"
    fi
    differs=0
    cmp -s "$expected" "$result" || differs=1
    score_suite "regress/$name" "$result" "$differs" "its output differs from expected/$name.out"
done
# An isolation spec is one test: its output matches the expected file.
for expected in test/isolation/expected/*.out; do
    name=$(basename "$expected" .out)
    verdict="$CLUSTER_DIR/isolation-$name.tap"
    if cmp -s "$expected" "output_iso/results/$name.out"; then
        printf 'ok 1 - %s\n1..1\n' "$name" >"$verdict"
    else
        printf 'not ok 1 - %s\n1..1\n' "$name" >"$verdict"
    fi
    score_suite "isolation/$name" "$verdict" 0
done

for suite in test/integration/*.sh; do
    run_suite "integration/$(basename "$suite" .sh)" "$suite_timeout" bash "$suite"
done

cluster_stop

# Suites that need clusters of their own: they size or restart them; the fleet suite
# starts three clusters and PgBouncer; the Perl TAP suites make their own servers.
for suite in test/attack/*.sh test/load/*.sh test/client/*.sh test/node/*.sh test/fleet/*.sh; do
    run_suite "$(basename "$(dirname "$suite")")/$(basename "$suite" .sh)" "$suite_timeout" bash "$suite"
done
# The route example as a Next.js 15 app: npm ci (a cold npm cache downloads Next.js), a real
# `next build` and `next start`, against a cluster of its own.
for suite in test/next/*.sh; do
    run_suite "next/$(basename "$suite" .sh)" 600 bash "$suite"
done
# Real clients (drizzle-kit, knex, node-pg-migrate, TypeORM, Sequelize, postgres.js, pg,
# psycopg2, psql, pg_dump) over a project's direct and pooled URLs, against a cluster and
# PgBouncer of its own: npm ci of pinned versions (a cold npm cache downloads them first).
for suite in test/clients/*.sh; do
    run_suite "clients/$(basename "$suite" .sh)" 600 bash "$suite"
done
for suite in test/t/*.pl; do
    run_suite "perl/$(basename "$suite" .pl)" 600 bash test/t/run.sh "$suite"
done

echo "== production build"
build_and_install
run_suite "build/production_build" "$suite_timeout" bash test/build/production_build.sh

suites_summary
