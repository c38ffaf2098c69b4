#!/usr/bin/env bash
# Crash tests: park the provisioning worker at each fault point, kill it (or the
# caller, or the whole server), restart, retry, and prove the project ends complete:
# one role, one database, a working login, and claudable_check() empty.
# Needs a build with FAULT_INJECTION=1 (make test installs one). Runs its own cluster.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/wait.sh"

fault_lock=1668047874  # fault_lock_class in extension/testing/fault_injection.hpp
cluster_start >/dev/null || exit 1
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }
q -q -c "CREATE EXTENSION claudable" -f "$here/../lib/harden.sql"
faults_injected=0
faults_recovered=0


wait_until_up() {
    for _ in $(seq 1 300); do
        q -c "SELECT 1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Holds the fault lock in a session of its own, so a worker that reaches the armed
# fault point parks there. Ends when that session is terminated.
hold_fault_lock() {
    q -c "SELECT pg_advisory_lock($fault_lock, 0)" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
    holder_psql=$!
    wait_for_row "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $fault_lock AND granted"
}

release_fault_lock() {
    q -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $fault_lock AND granted" >/dev/null 2>&1
    wait "$holder_psql" 2>/dev/null
}

# Starts a call with the fault point armed, in the background; waits until its worker is parked.
start_parked_call() {  # $1 project, $2 fault point, $3 the call (default: provision)
    local call=${3:-"SELECT created FROM claudable_provision('$1', 'owner-crash')"}
    q -c "SET claudable.fault_point = '$2'" -c "$call" >"$CLUSTER_DIR/caller-$1.out" 2>&1 &
    caller_psql=$!
    wait_for_row "SELECT pid FROM pg_stat_activity WHERE backend_type = 'claudable provisioner' AND query = 'claudable: fault point $2'"
}

worker_pid() { q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'claudable provisioner' LIMIT 1"; }
caller_pid() {
    q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%claudable_provision(''$1''%'
           AND backend_type = 'client backend' AND pid <> pg_backend_pid() LIMIT 1"
}

# The end state every scenario must reach.
assert_complete() {  # $1 project, $2 slug
    local project=$1 slug=$2 url
    url=$(q -c "SELECT database_url FROM claudable_provision('$project', 'owner-crash')")
    check "$project: exactly one role and one database" \
        test "$(q -c "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_$slug') || '/' || (SELECT count(*) FROM pg_database WHERE datname = 'app_db_$slug')")" = "1/1"
    check "$project: the returned DATABASE_URL logs in" \
        test "$(psql -X -At "$url" -c "SELECT current_user" 2>/dev/null)" = "app_u_$slug"
    check "$project: claudable_check() reports nothing" test "$(q -c "SELECT count(*) FROM claudable_check()")" = 0
    if [ "$(q -c "SELECT count(*) FROM claudable_check()")" = 0 ]; then faults_recovered=$((faults_recovered + 1)); fi
}

echo "# kill -9 of the worker at each fault point, then a retry"
for point in after_reservation after_role after_database before_ready; do
    project="kill-${point//_/-}"
    hold_fault_lock
    check "$project: the worker parks at $point" start_parked_call "$project" "$point"
    kill -9 "$(worker_pid)" && faults_injected=$((faults_injected + 1))
    wait "$caller_psql" 2>/dev/null
    check "$project: the server is back after crash recovery" wait_until_up
    check "$project: the retry succeeds" q -c "SELECT created FROM claudable_provision('$project', 'owner-crash')"
    assert_complete "$project" "kill_${point}"
done

echo "# immediate shutdown while the worker is between role and database"
hold_fault_lock
check "immediate-stop: the worker parks at after_role" start_parked_call immediate-stop after_role
as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null && faults_injected=$((faults_injected + 1))
wait "$caller_psql" 2>/dev/null
as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_LOG" -w start >/dev/null
check "immediate-stop: the server restarts" wait_until_up
check "immediate-stop: claudable_check() reports the project stuck in provisioning" \
    test "$(q -c "SELECT problem FROM claudable_check() WHERE object = 'project immediate-stop'")" = \
         "stuck in provisioning with no worker running (claudable_reconcile() completes it)"
check "immediate-stop: claudable_reconcile() completes it" \
    test "$(q -c "SELECT action FROM claudable_reconcile() WHERE object = 'project immediate-stop'")" = repaired
assert_complete immediate-stop immediate_stop

echo "# the caller's backend is terminated while it waits; the worker finishes alone"
hold_fault_lock
check "caller-terminated: the worker parks at after_database" start_parked_call caller-terminated after_database
q -c "SELECT pg_terminate_backend($(caller_pid caller-terminated))" >/dev/null && faults_injected=$((faults_injected + 1))
wait "$caller_psql" 2>/dev/null
release_fault_lock
check "caller-terminated: the worker completes the project without its caller" \
    wait_for_row "SELECT 1 FROM claudable.projects WHERE project_id = 'caller-terminated' AND status = 'ready'"
check "caller-terminated: the next call returns it with created = false" \
    test "$(q -c "SELECT created FROM claudable_provision('caller-terminated', 'owner-crash')")" = f
assert_complete caller-terminated caller_terminated

echo "# kill -9 of the caller's backend while it waits"
hold_fault_lock
check "caller-killed: the worker parks at after_role" start_parked_call caller-killed after_role
kill -9 "$(caller_pid caller-killed)" && faults_injected=$((faults_injected + 1))
wait "$caller_psql" 2>/dev/null
check "caller-killed: the server is back after crash recovery" wait_until_up
check "caller-killed: the retry succeeds" q -c "SELECT created FROM claudable_provision('caller-killed', 'owner-crash')"
assert_complete caller-killed caller_killed

echo "# the worker is terminated (SIGTERM) before ready: the caller gets a clear error"
hold_fault_lock
check "worker-terminated: the worker parks at before_ready" start_parked_call worker-terminated before_ready
q -c "SELECT pg_terminate_backend($(worker_pid))" >/dev/null && faults_injected=$((faults_injected + 1))
wait "$caller_psql" 2>/dev/null
check "worker-terminated: the caller gets the worker's own FATAL as an ERROR, with the job as context" \
    bash -c 'grep -q "ERROR:  terminating background worker \"claudable provisioner\" due to administrator command" "$1" &&
             grep -q "claudable worker: provisioning project \"worker-terminated\"" "$1"' _ "$CLUSTER_DIR/caller-worker-terminated.out"
release_fault_lock
check "worker-terminated: the retry succeeds" q -c "SELECT created FROM claudable_provision('worker-terminated', 'owner-crash')"
assert_complete worker-terminated worker_terminated

echo "# kill -9 of the worker in the middle of a deprovisioning, then a retry"
q -c "SELECT created FROM claudable_provision('kill-deprovision', 'owner-crash')" >/dev/null
hold_fault_lock
check "kill-deprovision: the worker parks after marking the project deprovisioning" \
    start_parked_call kill-deprovision deprovision_marked "SELECT claudable_deprovision('kill-deprovision', 'owner-crash')"
kill -9 "$(worker_pid)" && faults_injected=$((faults_injected + 1))
wait "$caller_psql" 2>/dev/null
check "kill-deprovision: the server is back after crash recovery" wait_until_up
check "kill-deprovision: claudable_check() reports the interrupted deprovisioning" \
    test "$(q -c "SELECT problem FROM claudable_check() WHERE object = 'project kill-deprovision'")" = \
         "stuck in deprovisioning with no worker running (claudable_reconcile() completes it)"
check "kill-deprovision: the retry finishes it" test "$(q -c "SELECT claudable_deprovision('kill-deprovision', 'owner-crash')")" = t
check "kill-deprovision: no role, no database, no record and no finding remain" \
    test "$(q -c "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_kill_deprovision')
                       + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_kill_deprovision')
                       + (SELECT count(*) FROM claudable.projects WHERE project_id = 'kill-deprovision')
                       + (SELECT count(*) FROM claudable_check())")" = 0 && faults_recovered=$((faults_recovered + 1))

echo "# kill -9 of the worker after the role lost its login, before anything is dropped"
url=$(q -c "SELECT database_url FROM claudable_provision('kill-lockout', 'owner-crash')")
hold_fault_lock
check "kill-lockout: the worker parks once the role's login is taken away" \
    start_parked_call kill-lockout deprovision_locked_out "SELECT claudable_deprovision('kill-lockout', 'owner-crash')"
kill -9 "$(worker_pid)" && faults_injected=$((faults_injected + 1))
wait "$caller_psql" 2>/dev/null
check "kill-lockout: the server is back after crash recovery" wait_until_up
check "kill-lockout: the role's NOLOGIN was committed before the crash" \
    test "$(q -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_u_kill_lockout'")" = f
check "kill-lockout: the tenant's URL no longer logs in" bash -c '! psql -X -At "$1" -c "SELECT 1" >/dev/null 2>&1' _ "$url"
check "kill-lockout: the retry finishes the removal" \
    test "$(q -c "SELECT claudable_deprovision('kill-lockout', 'owner-crash')")" = t
check "kill-lockout: no role, no database, no record and no finding remain" \
    test "$(q -c "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_kill_lockout')
                       + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_kill_lockout')
                       + (SELECT count(*) FROM claudable.projects WHERE project_id = 'kill-lockout')
                       + (SELECT count(*) FROM claudable_check())")" = 0 && faults_recovered=$((faults_recovered + 1))

echo "# fault injection is for superusers only"
q -q -c "CREATE ROLE fault_probe LOGIN" -c "GRANT EXECUTE ON FUNCTION claudable_provision(text, text) TO fault_probe" \
    -c "GRANT CONNECT ON DATABASE postgres TO fault_probe"
as_probe() { psql -X -At -v ON_ERROR_STOP=1 -U fault_probe -d postgres "$@"; }
check "a non-superuser cannot arm a fault point once the library is loaded" \
    bash -c "$(declare -f as_probe); ! as_probe -c \"SELECT 1 FROM claudable_provision('probe-1', 'owner-crash')\" -c \"SET claudable.fault_point = 'after_role'\" 2>/dev/null"
hold_fault_lock
check "a fault point a non-superuser set before the library loaded is discarded: the call does not park" \
    as_probe -c "SET statement_timeout = '20s'" -c "SET claudable.fault_point = 'after_role'" \
             -c "SELECT created FROM claudable_provision('probe-2', 'owner-crash')"
release_fault_lock

echo "# faults injected: $faults_injected, recovered to a clean state: $faults_recovered"
tap_done
