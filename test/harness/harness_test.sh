#!/usr/bin/env bash
# The harness of `make test` (test/lib/suites.sh) fails a suite that does not run to its end:
# each case below is a small suite run through the same run_suite / score_suite /
# suites_summary that test/run-all.sh uses, and must end `make test` with a non-zero status,
# the suite named under "failing suites", and a failure counted. A complete suite must pass,
# or these checks could not tell anything apart. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/tap.sh"
work=$(mktemp -d /tmp/claudable-harness.XXXXXX)
trap 'rm -rf "$work"' EXIT

# verdict NAME LIMIT CMD...: a make test of one complete suite plus this one; prints
# the summary, exits with the harness's verdict.
verdict() {
    local name=$1 limit=$2
    shift 2
    (
        source "$root/test/lib/suites.sh"
        run_suite complete 30 bash "$work/complete.sh" >/dev/null
        run_suite "$name" "$limit" "$@" >/dev/null
        suites_summary
    )
}
# fails_make_test NAME LIMIT CMD...: the verdict is "failed", the suite is named among the
# failing ones, and the last line counts at least one failure.
fails_make_test() {
    local name=$1 summary status
    summary=$(verdict "$@")
    status=$?
    [ "$status" != 0 ] &&
        grep -A20 '^failing suites:' <<<"$summary" | grep -qE "^  $name \(no: " &&
        tail -n1 <<<"$summary" | grep -qE '^[0-9]+ passed, [1-9][0-9]* failed$'
}

cat >"$work/complete.sh" <<'SH'
echo "ok 1 - one"; echo "ok 2 - two"; echo "1..2"
SH
cat >"$work/dies.sh" <<'SH'
echo "ok 1 - one"; echo "ok 2 - two"; exit 3
SH
cat >"$work/croaks.pl" <<'PL'
use strict; use warnings; use Test::More;
ok(1, 'a check before the croak');
die "psql exited with 2 (what a failing safe_psql croaks)\n";
ok(1, 'never reached');
done_testing();
PL
cat >"$work/hangs.sh" <<'SH'
echo "ok 1 - one"; sleep 60; echo "1..1"
SH
cat >"$work/short.sh" <<'SH'
echo "1..5"; echo "ok 1 - one"; echo "ok 2 - two"; echo "ok 3 - three"
SH
cat >"$work/no_plan.sh" <<'SH'
echo "ok 1 - one"; echo "ok 2 - two"
SH
cat >"$work/exits_nonzero.sh" <<'SH'
echo "ok 1 - one"; echo "1..1"; exit 1
SH
cat >"$work/skips.sh" <<'SH'
echo "ok 1 - one"; echo "ok 2 # SKIP no server"; echo "1..2"
SH
cat >"$work/two_plans.sh" <<'SH'
echo "ok 1 - one"; echo "1..1"; echo "ok 1 - one"; echo "ok 2 - two"; exit 2
SH
cat >"$work/fails.sh" <<'SH'
echo "ok 1 - one"; echo "not ok 2 - two"; echo "1..2"; exit 1
SH

summary=$(verdict other 30 bash "$work/complete.sh")
check "control: two complete suites pass make test" test $? = 0
check "control: the summary counts their 4 results and no failure" test "$(tail -n1 <<<"$summary")" = "4 passed, 0 failed"
check "control: the summary lists each suite with its plan, results and 'yes'" \
    grep -qE '^other +2 +2 +0  yes$' <<<"$summary"

check "a shell suite that exits halfway (no plan) fails make test" fails_make_test dies 30 bash "$work/dies.sh"
check "a Perl suite that croaks halfway (safe_psql) fails make test" fails_make_test croaks 30 perl "$work/croaks.pl"
check "a suite cut off by its time limit fails make test" fails_make_test hangs 2 bash "$work/hangs.sh"
check "a suite with fewer results than its plan fails make test" fails_make_test short 30 bash "$work/short.sh"
check "a suite that prints no plan fails make test" fails_make_test no_plan 30 bash "$work/no_plan.sh"
check "a suite that exits non-zero with every check ok fails make test" fails_make_test exits_nonzero 30 bash "$work/exits_nonzero.sh"
check "a skipped test fails make test" fails_make_test skips 30 bash "$work/skips.sh"
check "a suite with two plan lines fails make test" fails_make_test two_plans 30 bash "$work/two_plans.sh"

summary=$(verdict fails 30 bash "$work/fails.sh")
check "a suite with a failing check fails make test" test $? != 0
check "... and its other results still count: 3 passed, 1 failed" test "$(tail -n1 <<<"$summary")" = "3 passed, 1 failed"
summary=$(verdict short 30 bash "$work/short.sh")
check "what a short suite did not run counts as failed: 5 passed, 2 failed" test "$(tail -n1 <<<"$summary")" = "5 passed, 2 failed"

regress_output() {  # a pg_regress result whose output differs with every check ok (an error between checks)
    (
        source "$root/test/lib/suites.sh"
        printf '1..2\nok 1 - one\nERROR:  relation "t" does not exist\nok 2 - two\n' >"$work/regress.out"
        score_suite regress/x "$work/regress.out" 1 "its output differs from expected/x.out"
        suites_summary
    )
}
check "a pg_regress file whose output differs without a failing check fails make test" \
    bash -c '! "$@"' _ regress_output
check "test/run-all.sh ends with the harness's verdict" \
    test "$(grep -vE '^\s*(#|$)' "$root/test/run-all.sh" | tail -n1)" = suites_summary
tap_done
