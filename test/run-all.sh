#!/usr/bin/env bash
# The test command (`make test`): installs what is missing, builds and installs the
# extension, runs every suite, and ends with one row per suite (planned, passed, failed,
# whether it ran to its end) and the line "N passed, N failed". A suite that dies, is cut
# off or prints fewer results than it planned fails there (test/lib/suites.sh).
#
# It runs once per PostgreSQL major in PG_MAJORS (default: every supported one, README
# "Supported PostgreSQL versions"). This machine's own major runs every suite here; each other
# major runs the suites about the server (pg_regress/pgTAP, isolation, integration, the
# hostile-tenant, load and fleet suites, the Perl TAP suites) inside a root filesystem of the
# Debian release that packages it (test/majors/in_rootfs.sh), and its rows come back here,
# prefixed with the major, into one summary.
set -uo pipefail
cd "$(dirname "$0")/.."

source test/lib/majors.sh
source test/lib/suites.sh
PG_MAJORS=${PG_MAJORS:-$supported_pg_majors}
# Inside a root filesystem the run is for one major and its server suites alone; the rows go to
# CLAUDABLE_SUITE_ROWS for the run outside to take in.
in_rootfs=${CLAUDABLE_SUITE_ROWS:+yes}
for major in $PG_MAJORS; do major_debian_suite "$major" >/dev/null || exit 2; done

source test/lib/install-deps.sh
if [ -z "$in_rootfs" ]; then
    install_missing_packages || exit 1
fi

# A shell suite that hangs (a parked worker never released) is cut off after this long and
# fails; the Perl suites and the fleet suite start several servers and get longer.
suite_timeout=300

build_and_install() {  # $@: extra make variables
    rm -f extension/*/*.o claudable.so
    # In a root filesystem the client is built for the suites that call the CLI, without its own tests.
    make -s -j"$(nproc)" "$@" >/dev/null && make -s "$@" install >/dev/null &&
        make -s client-install ${in_rootfs:+CLIENT_CMAKE_OPTIONS=-DCLAUDABLE_TESTS=OFF} >/dev/null ||
        { echo "build failed" >&2; return 1; }
}

# The suites about the server, against the installed test build of the current major.
run_server_suites() {
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
    local expected name result differs verdict suite
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
    for suite in test/attack/*.sh test/load/*.sh test/fleet/*.sh; do
        run_suite "$(basename "$(dirname "$suite")")/$(basename "$suite" .sh)" "$suite_timeout" bash "$suite"
    done
    for suite in test/t/*.pl; do
        run_suite "perl/$(basename "$suite" .pl)" 600 bash test/t/run.sh "$suite"
    done
}

# The suites about the clients, against this machine's major.
run_client_suites() {
    local suite
    for suite in test/client/*.sh test/node/*.sh; do
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
}

# One major: the test build with fault points (FAULT_INJECTION=1), the suites, and the
# production build installed again at the end, whatever the outcome. In a root filesystem the
# production build is the release's Debian packages, built first (release/deb.sh, what make
# deb runs there) and kept for the package test; the extension package is installed over the
# test build at the end. The CLI the suites call is installed from source there too, as
# Install step 1 does it (/usr/local/bin, where README's pooler-sync unit runs it).
run_major_here() {
    local major=$1 debs=/build/out/debs
    # Debian's wrappers (psql --cluster, pg_config) stay first on PATH, as on a DBA's server.
    export PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" PG_BINDIR="/usr/lib/postgresql/$major/bin" PG_MAJOR=$major
    if [ -n "$in_rootfs" ]; then
        echo "== PostgreSQL $major: the Debian packages (release/deb.sh, make deb's build)"
        bash release/deb.sh --here "$major" "$debs" ||
            { add_suite_row "${suite_prefix}build/debian_packages" - 0 1 "no: the package build failed"; return; }
    fi
    echo "== PostgreSQL $major: build and install (test build: FAULT_INJECTION=1)"
    build_and_install FAULT_INJECTION=1 || { add_suite_row "${suite_prefix}build/test_build" - 0 1 "no: the build failed"; return; }
    run_server_suites
    [ -n "$in_rootfs" ] || run_client_suites
    echo "== PostgreSQL $major: production build"
    if [ -n "$in_rootfs" ]; then
        dpkg -i "$debs"/postgresql-"$major"-claudable_*.deb >/dev/null
    else
        build_and_install
    fi || { add_suite_row "${suite_prefix}build/production_build" - 0 1 "no: the build failed"; return; }
    run_suite "build/production_build" "$suite_timeout" bash test/build/production_build.sh
}

# Another major, whole, in its root filesystem: its suites, then the package test with the
# Debian packages that run built (kept in dist/debian/<suite>/). Everything it prints goes to
# DIR/log, its rows to DIR/out/rows and its exit status to DIR/status; the package test runs
# quietly into DIR/packages; score_major_in_rootfs takes them in.
run_major_in_rootfs() {
    local major=$1 dir=$2 debs started=$SECONDS
    debs="dist/debian/$(major_debian_suite "$major")"
    {
        echo "== PostgreSQL $major, in a Debian $(major_debian_suite "$major") root filesystem"
        bash test/majors/in_rootfs.sh "$major" --keep-out "$dir/out" \
            env PG_MAJORS="$major" CLAUDABLE_SUITE_ROWS=/build/out/rows bash test/run-all.sh
        echo $? >"$dir/status"
        rm -rf "$debs" && mkdir -p "$debs" && cp "$dir"/out/debs/*.deb "$debs/" 2>/dev/null
        mkdir -p "$dir/packages"
        run_suite_quietly "$dir/packages" 900 env CLAUDABLE_DEBS="$PWD/$debs" bash test/release/debian_packages.sh "$major"
        echo "# PostgreSQL $major: $((SECONDS - started)) s in all"
    } >"$dir/log" 2>&1
}
score_major_in_rootfs() {  # MAJOR DIR: prints the run's log and scores its rows
    local major=$1 dir=$2
    cat "$dir/log"
    suites_import "$dir/out/rows" "pg$major/" "$(cat "$dir/status" 2>/dev/null || echo none)"
    mkdir -p "$dir/packages"
    suite_prefix="pg$major/"
    score_quiet_suite "release/debian_packages" "$dir/packages"
    suite_prefix=
}

if [ -n "$in_rootfs" ]; then
    run_major_here "$PG_MAJORS"
    suites_export "$CLAUDABLE_SUITE_ROWS"
    exit 0
fi

# First, before anything is built: the harness itself fails a dying, cut-off or short suite.
for suite in test/harness/*.sh; do
    run_suite "harness/$(basename "$suite" .sh)" "$suite_timeout" bash "$suite"
done
# The release's versions and its PGXN zip, once.
run_suite "release/release_versions" "$suite_timeout" bash test/release/release_versions.sh

others=()
for major in $PG_MAJORS; do [ "$major" = "$host_pg_major" ] || others+=("$major"); done
# What the package tests and the other majors need is prepared while this machine's major
# runs, at the lowest CPU priority: the other majors' root filesystems, the clean ones each
# package test installs into and the previous release's packages (once per cache), and this
# machine's packages (make deb). A cold run then builds none of it beside the other majors'
# suites.
preparing_log=$(mktemp /tmp/claudable-prepare.XXXXXX)
(
    renice -n 19 -p "$BASHPID" >/dev/null  # before anything is started: what it starts inherits it
    source test/lib/rootfs.sh
    source test/release/previous_package.sh
    for major in $PG_MAJORS; do
        suite=$(major_debian_suite "$major")
        [ "$major" = "$host_pg_major" ] || rootfs_prepare "$suite" $(major_rootfs_packages "$major") >/dev/null
        rootfs_prepare "$suite" "postgresql-$major" >/dev/null
        build_previous_package "$major"
    done
    # This machine's own packages, as `make deb` builds them, for its package test.
    if [[ " $PG_MAJORS " == *" $host_pg_major "* ]]; then
        rm -rf "dist/debian/$(major_debian_suite "$host_pg_major")"
        make -s deb PG_MAJORS="$host_pg_major" >/dev/null
    fi
) >"$preparing_log" 2>&1 &
preparing=$!
host_packages=
if [[ " $PG_MAJORS " == *" $host_pg_major "* ]]; then
    suite_prefix="pg$host_pg_major/"
    run_major_here "$host_pg_major"
    suite_prefix=
    host_packages=$(mktemp -d /tmp/claudable-packages.XXXXXX)
fi
# This machine's package test and the other majors side by side: each on servers of its own
# (the others in their own root filesystems), where the suites mostly wait on workers, locks
# and timeouts, so they share the two cores; each one's log is printed when all are done.
wait "$preparing"
cat "$preparing_log" >&2
rm -f "$preparing_log"
running=()
if [ -n "$host_packages" ]; then
    echo "== pg$host_pg_major/release/debian_packages: running (its log follows when all are done)"
    run_suite_quietly "$host_packages" 900 env CLAUDABLE_DEBS="$PWD/dist/debian/$(major_debian_suite "$host_pg_major")" \
        bash test/release/debian_packages.sh "$host_pg_major" &
    running+=($!)
fi
if [ ${#others[@]} -gt 0 ]; then
    declare -A run_dir
    for major in "${others[@]}"; do
        run_dir[$major]=$(mktemp -d /tmp/claudable-major.XXXXXX)
        echo "== PostgreSQL $major: running in its root filesystem (its log follows when all are done)"
        run_major_in_rootfs "$major" "${run_dir[$major]}" &
        running+=($!)
    done
fi
[ ${#running[@]} = 0 ] || wait "${running[@]}"
if [ -n "$host_packages" ]; then
    suite_prefix="pg$host_pg_major/"
    score_quiet_suite "release/debian_packages" "$host_packages"
    suite_prefix=
    rm -rf "$host_packages"
fi
if [ ${#others[@]} -gt 0 ]; then
    for major in "${others[@]}"; do
        score_major_in_rootfs "$major" "${run_dir[$major]}"
        rm -rf "${run_dir[$major]}"
    done
fi

suites_summary
