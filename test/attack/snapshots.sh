#!/usr/bin/env bash
# Attack: a hostile tenant against snapshots, restores and branches of its own project
# (issue 21), with nothing but its own DATABASE_URL: it holds sessions open, holds locks in
# its database and on its database's catalog row, reconnects in a loop, makes its database
# a template, closes it, grants it to another project's role, and tries to reach the
# snapshots and the branches. None of it blocks a call past the documented bounded wait
# (the sessions' 5 s to end, the 1 s on a held catalog row), and none of it reaches a
# snapshot or a branch it does not own. The deploy service calls with README's grants.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
source "$here/../lib/wait.sh"
start_attack_cluster "claudable.worker_timeout = '60s'" || exit 1
ms() { date +%s%3N; }

t=$(tenant_url hostile owner-h)
other=$(tenant_url bystander owner-b)
as_url "$t" "CREATE TABLE items (id int PRIMARY KEY, v text)" "INSERT INTO items VALUES (1, 'v1')" >/dev/null

# Sessions the tenant keeps: idle in a transaction holding an exclusive lock on its table,
# and busy in a long query. Each is counted as gone once the server has ended it.
hold_sessions() {
    psql -X -q "$t" -c "BEGIN" -c "LOCK TABLE items IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
    holders=$!
    psql -X -q "$t" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
    holders="$holders $!"
    wait_for_row "SELECT 1 FROM pg_stat_activity WHERE usename = 'app_u_hostile' AND wait_event = 'PgSleep'
                   HAVING count(*) = 2"
}
sessions_left() { q -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app_u_hostile'"; }

check "the tenant holds two sessions: one in a transaction with ACCESS EXCLUSIVE on its table, one in a long query" hold_sessions
start=$(ms)
snap=$(as_deploy "SELECT snapshot_id FROM claudable_snapshot('hostile', 'owner-h', 'under attack')")
took=$(($(ms) - start))
check "a snapshot goes through (the sessions are ended, not waited for)" test -n "$snap"
check "within the documented bound (the sessions get 5 s to end): ${took} ms" test "$took" -lt 6000
check "and the tenant's sessions were ended" test "$(sessions_left)" = 0
wait $holders 2>/dev/null

# A tenant that reconnects as fast as it can while a snapshot and a restore run: its new
# sessions wait at their start for the copy (or fail on the swap), they never block it.
reconnect_loop() {
    local end=$(($(ms) + 8000))
    while [ "$(ms)" -lt "$end" ]; do psql -X -q "$t" -c "SELECT 1" >/dev/null 2>&1; done
}
reconnect_loop &
looper=$!
sleep 0.5
check "a snapshot goes through while the tenant reconnects in a loop" \
    test -n "$(as_deploy "SELECT snapshot_id FROM claudable_snapshot('hostile', 'owner-h')")"
as_url "$t" "UPDATE items SET v = 'v2'" >/dev/null 2>&1
check "a restore goes through while the tenant reconnects in a loop" \
    test "$(as_deploy "SELECT created FROM claudable_restore('hostile', 'owner-h', '$snap')")" = f
wait "$looper"
check "and the tenant's URL then finds the snapshot's data" test "$(as_url "$t" "SELECT v FROM items")" = v1

# Its database's own settings: a template, closed, limited to no connection.
db=$(q -c "SELECT database_name FROM claudable.projects WHERE project_id = 'hostile'")
as_url "$t" "ALTER DATABASE $db IS_TEMPLATE true" "ALTER DATABASE $db CONNECTION LIMIT 0" >/dev/null
check "the tenant made its database a template with CONNECTION LIMIT 0: a snapshot still goes through" \
    test -n "$(as_deploy "SELECT snapshot_id FROM claudable_snapshot('hostile', 'owner-h')")"
check "and a branch from it" test "$(as_deploy "SELECT created FROM claudable_branch('hostile', 'owner-h', 'from-template')")" = t
check "and a restore" test "$(as_deploy "SELECT created FROM claudable_restore('hostile', 'owner-h', '$snap')")" = f
check "after which the database is neither a template nor closed to connections" \
    test "$(q -c "SELECT datistemplate::text || datconnlimit FROM pg_database WHERE datname = '$db'")" = false-1
check "and the URL logs in again" test "$(as_url "$t" "SELECT v FROM items")" = v1

# A grant to another project's role does not travel into a snapshot, a branch or a restore.
bystander_role=$(q -c "SELECT username FROM claudable.projects WHERE project_id = 'bystander'")
as_url "$t" "GRANT CONNECT ON DATABASE $db TO $bystander_role" "GRANT SELECT ON items TO $bystander_role" >/dev/null
branch_url=$(as_deploy "SELECT database_url FROM claudable_branch('hostile', 'owner-h', 'granted')")
branch_db=$(q -c "SELECT database_name FROM claudable.projects WHERE project_id = 'hostile~granted'")
check "the tenant granted CONNECT on its database to another project's role; that role cannot connect to the branch" \
    login_refused "${other%/*}/$branch_db" "permission denied for database \"$branch_db\""
check "the branch's role cannot connect to the parent's database" \
    login_refused "${branch_url%/*}/$db" "permission denied for database \"$db\""
check "nor to the bystander's" \
    login_refused "${branch_url%/*}/${other##*/}" "permission denied for database \"${other##*/}\""
check "the parent's role cannot connect to the branch" login_refused "${t%/*}/$branch_db" "permission denied for database \"$branch_db\""
check "the bystander's role cannot connect to a snapshot" \
    login_refused "${other%/*}/claudable_snap_${snap#snap-}" "database \"claudable_snap_${snap#snap-}\" is not currently accepting connections"
check "nor the tenant to its own snapshot, whatever startup options it passes" \
    env PGOPTIONS='-c role=postgres' bash -c "$(declare -f login_refused); login_refused \"\$1\" \"\$2\"" _ \
        "${t%/*}/claudable_snap_${snap#snap-}" "database \"claudable_snap_${snap#snap-}\" is not currently accepting connections"
check "the tenant cannot drop its snapshot" test "$(sqlstate_of "$t" "DROP DATABASE claudable_snap_${snap#snap-}")" = 42501
check "nor take it as a template" \
    test "$(sqlstate_of "$t" "CREATE DATABASE stolen TEMPLATE claudable_snap_${snap#snap-}")" = 42501
check "nor rename it" \
    test "$(sqlstate_of "$t" "ALTER DATABASE claudable_snap_${snap#snap-} RENAME TO mine")" = 42501
check "the branch's role cannot drop its parent's database" test "$(sqlstate_of "$branch_url" "DROP DATABASE $db")" = 42501
check "nor rename it" test "$(sqlstate_of "$branch_url" "ALTER DATABASE $db RENAME TO x")" = 42501

# A held catalog row: the tenant keeps GRANT ... ON DATABASE own open. A branch from a
# snapshot hands the copy's objects over (which touches that row for a moment): it stops
# after 1 s with 55P03 and leaves nothing; once the tenant lets go it goes through.
psql -X -q "$t" -c "BEGIN" -c "GRANT TEMPORARY ON DATABASE $db TO $bystander_role" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
holder=$!
wait_for_row "SELECT 1 FROM pg_stat_activity WHERE usename = 'app_u_hostile' AND wait_event = 'PgSleep'"
start=$(ms)
state=$(sqlstate_of "$DEPLOY_URL" "SELECT created FROM claudable_branch('hostile', 'owner-h', 'held', '$snap')")
took=$(($(ms) - start))
check "a branch from a snapshot while the tenant holds its database's row stops with 55P03 (${took} ms; got ${state})" test "$state" = 55P03
check "before the tenant let go" test "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app_u_hostile' AND wait_event = 'PgSleep'")" = 1
check "and leaves no part of the branch" \
    test "$(q -c "SELECT (SELECT count(*) FROM claudable.projects WHERE project_id = 'hostile~held')
                       + (SELECT count(*) FROM pg_database WHERE datname LIKE 'app_br_hostile_held%')
                       + (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'app_bu_hostile_held%')")" = 0
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_u_hostile'" >/dev/null
wait "$holder" 2>/dev/null
check "once the tenant let go, the same branch goes through" \
    test "$(as_deploy "SELECT created FROM claudable_branch('hostile', 'owner-h', 'held', '$snap')")" = t
check "a branch from 'current' ends the parent's sessions, so a held row does not stop it" bash -c '
    psql -X -q "$1" -c "BEGIN" -c "GRANT TEMPORARY ON DATABASE $2 TO $3" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
    sleep 1
    [ "$(psql -X -At "$4" -c "SELECT created FROM claudable_branch('"'hostile'"', '"'owner-h'"', '"'current-held'"')")" = t ]' \
    _ "$t" "$db" "$bystander_role" "$DEPLOY_URL"

# A lock on its database's object: COMMENT ON DATABASE own in a transaction the tenant keeps
# open. The tenant's sessions are ended before the lock is taken, so it does not hold a call
# (nor the project's new logins) up.
for call in "SELECT snapshot_id FROM claudable_snapshot('hostile', 'owner-h')" \
            "SELECT created FROM claudable_restore('hostile', 'owner-h', '$snap')" \
            "SELECT created FROM claudable_branch('hostile', 'owner-h', 'commented')"; do
    psql -X -q "$t" -c "BEGIN" -c "COMMENT ON DATABASE $db IS 'held'" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
    holder=$!
    wait_for_row "SELECT 1 FROM pg_stat_activity WHERE usename = 'app_u_hostile' AND wait_event = 'PgSleep'"
    start=$(ms)
    out=$(as_deploy "$call")
    took=$(($(ms) - start))
    check "with COMMENT ON DATABASE own held open, ${call:7:40}... goes through (${took} ms)" test -n "$out"
    check "within the documented bound, not claudable.worker_timeout" test "$took" -lt 6000
    wait "$holder" 2>/dev/null
done

# A restore's staging copy is the worker's until the swap: the tenant cannot open, drop or
# grant it while the copy waits (kept there by a fault point of the test build).
fault_lock=$((0x636c6402))
psql -X -q -d meta -c "SELECT pg_advisory_lock($fault_lock, 0)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
lock_holder=$!
wait_for_row "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $fault_lock AND granted"
q -c "SET claudable.fault_point = 'restore_staged'" -c "SELECT created FROM claudable_restore('hostile', 'owner-h', '$snap')" \
    >/dev/null 2>&1 &
restorer=$!
wait_for_row "SELECT 1 FROM pg_stat_activity WHERE query = 'claudable: fault point restore_staged'"
stage=$(q -c "SELECT staging_database FROM claudable.snapshots WHERE project_id = 'hostile' AND state = 'restoring'")
check "while a restore waits before its swap, its staging copy ($stage) is not the tenant's" \
    test "$(q -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$stage'")" = postgres
check "the tenant cannot open it" test "$(sqlstate_of "$t" "ALTER DATABASE $stage ALLOW_CONNECTIONS true")" = 42501
check "nor drop it" test "$(sqlstate_of "$t" "DROP DATABASE $stage")" = 42501
check "nor give it a setting" test "$(sqlstate_of "$t" "ALTER DATABASE $stage SET search_path = evil")" = 42501
check "nor grant it" test "$(sqlstate_of "$t" "GRANT CONNECT ON DATABASE $stage TO $bystander_role")" = 42501
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'" >/dev/null
wait "$lock_holder" "$restorer" 2>/dev/null
check "the restore then completes, and the database is the project role's" \
    test "$(q -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$db'")" = app_u_hostile

# How a copy is made is the DBA's: a deploy service that passes the copy settings as startup
# options (to force FILE_COPY and its two checkpoints on every snapshot, or to choose how
# files are copied) has its call refused, and nothing is copied.
snapshots_now() { q -c "SELECT count(*) FROM claudable.snapshots WHERE project_id = 'hostile'"; }
for option in claudable.file_copy_threshold=0 claudable.file_copy_method=copy; do
    before=$(snapshots_now)
    state=$(PGOPTIONS="-c $option" sqlstate_of "$DEPLOY_URL" "SELECT claudable_snapshot('hostile', 'owner-h')")
    check "a startup option $option from the deploy role makes claudable_snapshot refuse with 42501" test "$state" = 42501
    check "and no snapshot was taken ($option)" test "$(snapshots_now)" = "$before"
done

# What the tenant did is reported and repaired, and the snapshots and branches are sound.
q -c "SELECT claudable_reconcile()" >/dev/null
check "after claudable_reconcile() claudable_check() reports nothing" test "$(q -c "SELECT count(*) FROM claudable_check()")" = 0
check "deprovisioning the project removes its snapshots and branches" bash -c '
    [ "$(psql -X -At "$1" -c "SELECT claudable_deprovision('"'hostile'"', '"'owner-h'"')")" = t ] &&
    [ "$(psql -X -At -d meta -c "SELECT (SELECT count(*) FROM pg_database WHERE datname ~ '"'^(claudable_snap_|claudable_stage_|app_br_hostile)'"')
                                      + (SELECT count(*) FROM pg_roles WHERE rolname ~ '"'^app_bu_hostile'"')
                                      + (SELECT count(*) FROM claudable.projects WHERE project_id LIKE '"'hostile%'"')")" = 0 ]' \
    _ "$DEPLOY_URL"
check "no password or URL reached the server log" bash -c '! grep -E "postgresql://|PASSWORD '"'"'" "$1"' _ "$CLUSTER_LOG"
tap_done
