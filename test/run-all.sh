#!/usr/bin/env bash
# The test command (`make test`): installs what is missing, builds and installs the
# extension, starts a throwaway cluster, runs every suite, removes the cluster, and
# ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

source test/lib/install-deps.sh
install_missing_packages || exit 1

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
cluster_start "log_statement = 'all'" "log_line_prefix = '%m [%p] %q%u@%d '" || exit 1

passed=0
failed=0
# A shell suite that hangs (a parked worker never released) is cut off; its missing
# plan line then counts as a failure below.
suite_timeout=300
count_tap() {  # adds the ok / not ok lines of TAP output in file $1; no plan line = one more failure
    local ok not_ok
    ok=$(grep -cE '^ok [0-9]+' "$1")
    not_ok=$(grep -cE '^not ok [0-9]+' "$1")
    passed=$((passed + ok))
    failed=$((failed + not_ok))
    grep -qE '^1\.\.[0-9]+' "$1" || failed=$((failed + 1))
}

echo "== pg_regress (pgTAP) and pg_isolation_regress"
rm -rf results regression.diffs regression.out output_iso
# Separately, so that a pg_regress failure does not keep the isolation specs from running.
make -s installcheck ISOLATION= 2>&1 | tee "$CLUSTER_DIR/regress.log"
make -s installcheck REGRESS= 2>&1 | tee -a "$CLUSTER_DIR/regress.log"
for expected in expected/*.out; do
    name=$(basename "$expected" .out)
    result="results/$name.out"
    if [ ! -f "$result" ]; then
        failed=$((failed + 1))
        continue
    fi
    count_tap "$result"
    # A suite whose output differs from the expected file without any "not ok" line
    # (a crash, an error outside an assertion) still counts as one failure.
    if ! cmp -s "$expected" "$result" && ! grep -qE '^not ok' "$result"; then
        failed=$((failed + 1))
    fi
done
[ -f regression.diffs ] && { echo "-- regression.diffs:"; cat regression.diffs; }
# An isolation spec passes when its output matches the expected file: one test each.
for expected in test/isolation/expected/*.out; do
    if cmp -s "$expected" "output_iso/results/$(basename "$expected")"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
[ -f output_iso/regression.diffs ] && { echo "-- output_iso/regression.diffs:"; cat output_iso/regression.diffs; }

for suite in test/integration/*.sh; do
    echo "== $(basename "$suite")"
    timeout "$suite_timeout" bash "$suite" 2>&1 | tee "$CLUSTER_DIR/suite.log"
    count_tap "$CLUSTER_DIR/suite.log"
done

cluster_stop

# Suites that need a cluster of their own: they size it or restart it; the fleet suite
# starts three clusters and PgBouncer; the Perl TAP suites (test/t: crash recovery,
# standby failover) make their own servers.
for suite in test/load/*.sh test/client/*.sh test/node/*.sh test/fleet/*.sh test/t/prove.sh; do
    echo "== $(basename "$suite")"
    timeout "$suite_timeout" bash "$suite" 2>&1 | tee "$root/.suite.log"
    count_tap "$root/.suite.log"
    rm -f "$root/.suite.log"
done

echo "== production build"
build_and_install
library="$(pg_config --pkglibdir)/claudable.so"
if grep -q 'claudable.fault_point' "$library" || ! grep -q 'claudable.worker_timeout' "$library"; then
    echo "not ok - the installed production build has no fault injection"
    failed=$((failed + 1))
else
    echo "ok - the installed production build has no fault injection"
    passed=$((passed + 1))
fi

# The boundary is the compiler's to enforce: a pure C++ file that PostgreSQL headers reach
# does not compile, whichever comes first.
guard_compiles() {  # $1: the includes, in order
    printf '%b\n' "$1" | g++ -std=c++17 -fsyntax-only -x c++ -I extension -I "$(pg_config --includedir-server)" - 2>/dev/null
}
outside_pg_unguarded=$(for f in $(ls extension/*/*.cpp | grep -v '^extension/pg/'); do
    grep -m1 '#include' "$f" | grep -q '"rules/pure_cpp.hpp"' || echo "$f"; done)
if [ -z "$outside_pg_unguarded" ]; then
    echo "ok - every source file outside extension/pg/ includes rules/pure_cpp.hpp first"
    passed=$((passed + 1))
else
    echo "not ok - every source file outside extension/pg/ includes rules/pure_cpp.hpp first: $outside_pg_unguarded"
    failed=$((failed + 1))
fi
if ! guard_compiles '#include "rules/pure_cpp.hpp"\n#include "pg/boundary.hpp"' &&
   ! guard_compiles '#include "pg/boundary.hpp"\n#include "rules/pure_cpp.hpp"' &&
   guard_compiles '#include "pg/boundary.hpp"\n#include "rules/failure.hpp"'; then
    echo "ok - a pure C++ file that PostgreSQL headers reach does not compile"
    passed=$((passed + 1))
else
    echo "not ok - a pure C++ file that PostgreSQL headers reach does not compile"
    failed=$((failed + 1))
fi

# `make` is PGXS alone: building the extension runs no CMake and needs no client dependency.
if make -s -n clean all 2>/dev/null | grep -qE '(^|[ /])cmake '; then
    echo "not ok - make builds the extension without the client's CMake"
    failed=$((failed + 1))
else
    echo "ok - make builds the extension without the client's CMake"
    passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
