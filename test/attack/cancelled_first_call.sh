#!/usr/bin/env bash
# Attack: the deploy service (or a fleet directory on its behalf) cancels a first call while
# the server's worker has not yet reserved the project, then a fleet directory asks this
# server whether it holds the project (issue 19, item 4). Once this server has answered
# "no", the late worker creates nothing, so the directory may place the project elsewhere
# without it ever being ready on two servers. Without such an answer the worker finishes
# the call, as before.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
source "$here/../lib/wait.sh"
start_attack_cluster || exit 1
fault_lock=$((0x636c6402))
# hold_fault_lock, then park_first_call PROJECT: a first call whose worker parks before its
# reservation; the call itself is cancelled by statement_timeout while the worker waits.
hold_fault_lock() {
    psql -X -q -d meta -c "SELECT pg_advisory_lock($fault_lock, 0)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
    parker=$!
    wait_for_row "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $fault_lock AND granted"
}
park_first_call() {
    q -v VERBOSITY=verbose -c "SET claudable.fault_point = 'before_reservation'" -c "SET statement_timeout = '2s'" \
        -c "SELECT 1 FROM claudable_provision('$1', 'owner-cancel')" 2>&1
}
release() {
    q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
    wait "$parker" 2>/dev/null
}
worker_finished() {  # PROJECT: no worker is parked any more, and its outcome is in claudable.events
    wait_for_row "SELECT 1 FROM claudable.events WHERE project_id = '$1' AND action = 'provision'" &&
        wait_for_row "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE 'claudable: fault point%')"
}
exists() { [ "$(q -c "SELECT count(*) FROM claudable.projects WHERE project_id = '$1'")" = 1 ]; }
not_recorded() { ! exists "$1"; }
role_or_database_of() {
    q -c "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_$1') + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_$1')"
}

hold_fault_lock
out=$(park_first_call gone_then_asked)
check "the first call is cancelled by its statement_timeout (57014) while the worker waits before its reservation" \
    bash -c '[[ "$1" == *"ERROR:  57014:"* ]]' _ "$out"
check "a fleet directory then asks this server for the project, which it does not hold" \
    test "$(q -c "SELECT count(*) FROM claudable_databases('gone_then_asked')")" = 0
release
check "the late worker finishes" worker_finished gone_then_asked
check "and created nothing: no record" not_recorded gone_then_asked
check "no role and no database" test "$(role_or_database_of gone_then_asked)" = 0
check "its failure is audited: the call began before the server answered that it does not hold the project" \
    test "$(q -c "SELECT count(*) FROM claudable.events WHERE project_id = 'gone_then_asked' AND outcome = 'failed'
                   AND detail LIKE '55000: claudable: project \"gone_then_asked\" was not created: after this call began, a fleet directory was told%'")" = 1
q -c "SELECT 1 FROM claudable_provision('gone_then_asked', 'owner-cancel')" >/dev/null 2>&1
check "a new call for the project, after that answer, provisions it" exists gone_then_asked

hold_fault_lock
out=$(park_first_call gone_not_asked)
release
finished_and_exists() { worker_finished "$1" && exists "$1"; }
check "without a directory's answer in between, a cancelled first call's worker still finishes the project" \
    finished_and_exists gone_not_asked
tap_done
