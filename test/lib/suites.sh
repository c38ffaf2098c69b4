# How `make test` runs and scores its suites. Source it, then:
#   run_suite NAME SECONDS CMD...       runs CMD (its TAP on stdout), cut off after SECONDS, and scores it
#   score_suite NAME LOG STATUS [MEANING [CUT_OFF]]
#                                       scores TAP already in LOG; STATUS is the suite's exit status
#                                       (MEANING says what a non-zero one means when it is not an exit
#                                       status); a non-empty CUT_OFF says why the suite did not end
#   run_suite_quietly DIR SECONDS CMD...
#                                       runs CMD as run_suite does, but its output goes to DIR/log
#                                       and nothing is scored yet (for suites run side by side)
#   score_quiet_suite NAME DIR          prints DIR/log and scores it as run_suite would have
#   suites_summary                      one row per suite, then "N passed, N failed"; fails unless all passed
#   suites_export FILE                  writes the rows scored so far to FILE, for suites_import
#   suites_import FILE PREFIX STATUS    scores the rows another run exported (a run for another
#                                       PostgreSQL major) with PREFIX before each name; STATUS is
#                                       that run's exit status
# suite_prefix, when set, goes before the name of every suite scored here.
#
# A suite passes only when it ran to its end: exactly one plan line, as many results as the
# plan, exit status 0 (or a failing check that explains a non-zero one), no skipped test.
# Anything else counts as failed, with the suite's name and what went wrong in the summary:
# a suite that died halfway (a Perl suite whose safe_psql croaked, a shell suite that
# exited) never has its earlier "ok" lines pass for it.

suites_passed=0
suites_failed=0
suite_rows=()
suite_broken=()
suite_records=()
suite_prefix=

# TAP results: "ok N" / "not ok N" at the start of a line (subtests are indented).
tap_plans() { grep -cE '^1\.\.[0-9]+' "$1"; }
tap_plan() { grep -m1 -oE '^1\.\.[0-9]+' "$1" | cut -c4-; }
tap_skipped() { grep -cE '^(not )?ok [0-9]+.*# *(SKIP|TODO)' "$1"; }
tap_ok() { grep -E '^ok [0-9]+' "$1" | grep -cvE '# *(SKIP|TODO)'; }
tap_not_ok() { grep -E '^not ok [0-9]+' "$1" | grep -cvE '# *(SKIP|TODO)'; }

score_suite() {
    local name=$1 log=$2 status=$3 meaning=${4:-} cut_off=${5:-}
    local plans plan ok not_ok skipped ran shortfall=0 end=yes
    plans=$(tap_plans "$log")
    plan=$(tap_plan "$log")
    ok=$(tap_ok "$log")
    not_ok=$(tap_not_ok "$log")
    skipped=$(tap_skipped "$log")
    ran=$((ok + not_ok + skipped))
    local exited="exited $status"
    [ -z "$meaning" ] || exited=$meaning
    if [ -n "$cut_off" ]; then
        end="no: $cut_off after $ran results"
    elif [ "$plans" = 0 ]; then
        end="no: no plan"
        [ "$status" = 0 ] || end="no: $exited, no plan"
    elif [ "$plans" -gt 1 ]; then
        end="no: $plans plan lines"
    elif [ "$plan" = 0 ]; then
        end="no: planned nothing"
    elif [ "$ran" -lt "$plan" ]; then
        end="no: $ran of $plan results"
        [ "$status" = 0 ] || end="no: $exited after $ran of $plan results"
    elif [ "$ran" -gt "$plan" ]; then
        end="no: $ran results for a plan of $plan"
    elif [ "$status" != 0 ] && [ "$not_ok" = 0 ]; then
        end="no: $exited with no failing check"
    fi
    # What did not run is failed: the rest of the plan, and at least one for a suite that broke.
    if [ "$end" != yes ]; then
        shortfall=1
        [ -n "$plan" ] && [ "$plan" -gt "$ran" ] && shortfall=$((plan - ran))
    fi
    local failed_here=$((not_ok + skipped + shortfall))
    if [ "$skipped" != 0 ]; then  # a skipped test is not a pass: make test runs everything
        if [ "$end" = yes ]; then end="no: $skipped skipped"; else end="$end; $skipped skipped"; fi
    fi
    add_suite_row "$suite_prefix$name" "${plan:--}" "$ok" "$failed_here" "$end"
}

add_suite_row() {  # NAME PLANNED PASSED FAILED END
    suites_passed=$(($suites_passed + $3))
    suites_failed=$(($suites_failed + $4))
    suite_rows+=("$(printf '%-44s %7s %7s %7s  %s' "$1" "$2" "$3" "$4" "$5")")
    suite_records+=("$(printf '%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$5")")
    [ "$4" = 0 ] || suite_broken+=("$1 ($5)")
}

suites_export() {
    printf '%s\n' "${suite_records[@]}" >"$1"
}

suites_import() {
    local file=$1 prefix=$2 status=$3 name plan ok failed end
    if [ ! -s "$file" ]; then  # the run broke before it scored anything
        add_suite_row "${prefix}run" - 0 1 "no: exited $status before any suite was scored"
        return
    fi
    while IFS=$'\t' read -r name plan ok failed end; do
        add_suite_row "$prefix$name" "$plan" "$ok" "$failed" "$end"
    done <"$file"
}

run_suite() {
    local name=$1 limit=$2 log status started=$SECONDS cut_off=
    shift 2
    log=$(mktemp /tmp/claudable-suite.XXXXXX)
    echo "== $name"
    # timeout signals the suite's whole process group; a suite's EXIT trap stops its clusters.
    timeout --kill-after=30 "$limit" "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    if { [ "$status" = 124 ] || [ "$status" = 137 ]; } && [ $((SECONDS - started)) -ge "$limit" ]; then
        cut_off="cut off after $limit s"
        echo "# $name: $cut_off"
    fi
    score_suite "$name" "$log" "$status" "" "$cut_off"
    echo "# $name: $((SECONDS - started)) s"
    rm -f "$log"
}

run_suite_quietly() {
    local dir=$1 limit=$2 started=$SECONDS status
    shift 2
    timeout --kill-after=30 "$limit" "$@" >"$dir/log" 2>&1
    status=$?
    echo "$status $limit $((SECONDS - started))" >"$dir/status"
}

score_quiet_suite() {
    local name=$1 dir=$2 status=none limit=0 took=0 cut_off=
    echo "== $suite_prefix$name"
    touch "$dir/log"
    cat "$dir/log"
    [ -s "$dir/status" ] && read -r status limit took <"$dir/status"
    if [ "$status" = none ]; then
        cut_off="it never ended"
    elif { [ "$status" = 124 ] || [ "$status" = 137 ]; } && [ "$took" -ge "$limit" ]; then
        cut_off="cut off after $limit s"
    fi
    score_suite "$name" "$dir/log" "$status" "" "$cut_off"
    echo "# $suite_prefix$name: $took s"
}

suites_summary() {
    echo "== summary"
    printf '%-44s %7s %7s %7s  %s\n' suite planned passed failed "ran to its end"
    printf '%s\n' "${suite_rows[@]}"
    if [ ${#suite_broken[@]} -gt 0 ]; then
        echo "failing suites:"
        printf '  %s\n' "${suite_broken[@]}"
    fi
    echo "$suites_passed passed, $suites_failed failed"
    [ "$suites_failed" -eq 0 ] && [ "$suites_passed" -gt 0 ]
}
