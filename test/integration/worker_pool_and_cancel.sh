#!/usr/bin/env bash
# A full background worker pool makes a call wait a bounded time and fail with 53000;
# a caller can be cancelled while it waits; nothing is half-created either way.
# Needs the cluster from test/lib/cluster.sh (max_worker_processes = 8, the default).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/wait.sh"

db=claudable_pool
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -qAt -d postgres -c "CREATE DATABASE $db" >/dev/null
q -q -c "CREATE EXTENSION claudable" -f "$here/../lib/harden.sql"
work=$(mktemp -d)


# Workers that stayed after earlier suites' calls (claudable.worker_idle_timeout) leave
# first: each slot counted free below must stay free until this suite fills it.
check "no provisioning worker of an earlier suite is left" \
    wait_for_row "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'claudable provisioner')"

# Park every worker: they all queue for the provisioning lock row held here.
check "a session holds the provisioning lock" hold_provisioning_lock

# Processes that take no background worker slot are left out: the server's own auxiliary
# processes, which later majors add to (17's slotsync worker and walsummarizer, 18's io workers).
free_slots=$(q -c "SELECT current_setting('max_worker_processes')::int - count(*) FROM pg_stat_activity
                    WHERE backend_type NOT IN ('client backend', 'autovacuum launcher', 'checkpointer', 'background writer',
                                               'walwriter', 'startup', 'archiver', 'autovacuum worker',
                                               'walsender', 'walreceiver', 'slotsync worker', 'walsummarizer', 'io worker')")
pids=()
for i in $(seq 1 "$free_slots"); do
    q -c "SELECT created FROM claudable_provision('pool-$i', 'owner-pool')" >"$work/pool-$i.out" 2>&1 &
    pids+=($!)
done
check "all $free_slots free worker slots fill up with parked workers" \
    wait_for_row "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'claudable provisioner' HAVING count(*) = $free_slots"

started=$(date +%s%N)
q -v VERBOSITY=verbose -c "SET claudable.worker_start_timeout = '1s'" \
    -c "SELECT created FROM claudable_provision('pool-refused', 'owner-pool')" >"$work/refused.out" 2>&1
waited_ms=$(( ($(date +%s%N) - started) / 1000000 ))
check "with no slot free the call fails with SQLSTATE 53000" grep -q 'ERROR:  53000: claudable: no background worker slot is free' "$work/refused.out"
check "its hint names max_worker_processes" grep -q 'HINT:  Raise max_worker_processes' "$work/refused.out"
check "it waited claudable.worker_start_timeout (1 s) first (waited ${waited_ms} ms)" test "$waited_ms" -ge 1000 -a "$waited_ms" -lt 10000
check "the refused call left no metadata row, role or database" \
    test "$(q -c "SELECT (SELECT count(*) FROM claudable.projects WHERE project_id = 'pool-refused')
                       + (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_pool_refused')
                       + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_pool_refused')")" = 0

q -v VERBOSITY=verbose -c "SELECT created FROM claudable_provision('pool-cancelled', 'owner-pool')" >"$work/cancelled.out" 2>&1 &
cancelled=$!
wait_for_row "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pool-cancelled%' AND backend_type = 'client backend'
               AND state = 'active' AND pid <> pg_backend_pid()"
sleep 0.3
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
       WHERE query LIKE '%pool-cancelled%' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" >/dev/null
wait "$cancelled"
check "a caller waiting for a slot can be cancelled (57014)" grep -q 'ERROR:  57014' "$work/cancelled.out"
check "the cancelled call left no metadata row, role or database" \
    test "$(q -c "SELECT (SELECT count(*) FROM claudable.projects WHERE project_id = 'pool-cancelled')
                       + (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_pool_cancelled')
                       + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_pool_cancelled')")" = 0

# Cancel a caller whose worker already runs: the worker goes on, the next call completes.
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
       WHERE query LIKE '%pool-1''%' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" >/dev/null
wait "${pids[0]}"
check "a caller whose worker is already running can be cancelled (57014)" grep -q 'canceling statement due to user request' "$work/pool-1.out"

release_provisioning_lock
for pid in "${pids[@]:1}"; do wait "$pid"; done
check "once the lock is free every parked call succeeds" \
    bash -c 'for f in "$1"/pool-*.out; do [ "$f" = "$1/pool-1.out" ] && continue; [ "$(cat "$f")" = t ] || exit 1; done' _ "$work"
check "the project whose caller was cancelled is completed by the next call" \
    test "$(q -c "SELECT database_name FROM claudable_provision('pool-1', 'owner-pool')")" = app_db_pool_1
check "a retry of the refused project now succeeds" test "$(q -c "SELECT created FROM claudable_provision('pool-refused', 'owner-pool')")" = t
check "claudable_check() reports nothing" test "$(q -c "SELECT count(*) FROM claudable_check()")" = 0

rm -rf "$work"
tap_done
