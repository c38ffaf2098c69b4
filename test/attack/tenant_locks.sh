#!/usr/bin/env bash
# Attack: a tenant holds its own catalog rows locked (an open transaction after ALTER ROLE
# self or GRANT ... ON DATABASE own) while its project is rotated or repaired (issue 19,
# item 3). Its own call fails fast with 55P03 and a hint; an unrelated new project is not
# delayed; once the tenant lets go the same call goes through.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
source "$here/../lib/wait.sh"
# worker_timeout well above the tenant bound: a call that waited for the tenant would take it.
start_attack_cluster "claudable.worker_timeout = '60s'" || exit 1
ms() { date +%s%3N; }

# hold TENANT_URL SQL: the tenant runs SQL in a transaction it keeps open (30 s at most).
hold() {
    psql -X -q "$1" -c "BEGIN" -c "$2" -c "SELECT pg_sleep(30)" -c "ROLLBACK" >/dev/null 2>&1 &
    holder=$!
    wait_for_row "SELECT 1 FROM pg_stat_activity WHERE usename = '$3' AND wait_event = 'PgSleep' AND state = 'active'"
}
let_go() {
    q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '$1' AND wait_event = 'PgSleep'" >/dev/null
    wait "$holder" 2>/dev/null
}
tenant_still_holds() {
    [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$1' AND wait_event = 'PgSleep'")" = 1 ]
}
cold_provision() {  # PROJECT: provisions it through the deploy role; prints its time in ms
    local start
    start=$(ms)
    as_deploy "SELECT 1 FROM claudable_provision('$1', 'owner-cold')" >/dev/null || return 1
    echo $(($(ms) - start))
}

t1=$(tenant_url stall-1 owner-stall)
baseline=$(cold_provision cold-baseline)

check "the tenant holds its role's row: ALTER ROLE self PASSWORD in a transaction it keeps open" \
    hold "$t1" "ALTER ROLE CURRENT_USER PASSWORD 'tenant-chose-this-1'" app_u_stall_1
rotate_out=$(mktemp)
(PGOPTIONS= psql -X -At -v VERBOSITY=verbose "$DEPLOY_URL" -c "SELECT 1 FROM claudable_rotate_password('stall-1', 'owner-stall')" \
    >/dev/null 2>"$rotate_out") &
rotator=$!
during=$(cold_provision cold-during)
check "an unrelated cold provision by the deploy role succeeds while the tenant holds its row" test -n "$during"
check "and it finished before the tenant let go" tenant_still_holds app_u_stall_1
wait "$rotator"
check "the rotation of the tenant's own project fails with 55P03, naming the role" \
    grep -qF 'ERROR:  55P03: claudable: rotating the password of project "stall-1" for owner "owner-stall" stopped: a session holds a lock on role "app_u_stall_1" or its database' "$rotate_out"
check "with a hint that says what to do" grep -qF 'HINT:  End that transaction' "$rotate_out"
check "and it finished before the tenant let go (it did not wait for claudable.worker_timeout)" \
    tenant_still_holds app_u_stall_1
echo "# cold provision: ${baseline} ms alone, ${during} ms while a tenant stalled its own rotation"
let_go app_u_stall_1
new_url=$(as_deploy "SELECT database_url FROM claudable_rotate_password('stall-1', 'owner-stall')")
check "once the tenant let go, the same rotation goes through and its URL logs in" as_url "$new_url" "SELECT 1"

# A repair: the tenant gives itself a setting (a repairable finding) and then holds its row.
t2=$(tenant_url stall-2 owner-stall)
as_url "$t2" "ALTER ROLE CURRENT_USER SET work_mem = '1MB'" >/dev/null
check "the second tenant holds its role's settings: ALTER ROLE self SET in a transaction it keeps open" \
    hold "$t2" "ALTER ROLE CURRENT_USER SET work_mem = '2MB'" app_u_stall_2
reconcile=$(q -c "SELECT action || ' ' || detail FROM claudable_reconcile() WHERE object = 'project stall-2'")
check "claudable_reconcile() reports that project as failed with 55P03, before the tenant let go" \
    bash -c '[[ "$1" == "failed 55P03: claudable: repairing project \"stall-2\""*"stopped: a session holds a lock on role \"app_u_stall_2\""* ]]' _ "$reconcile"
check "and the tenant still held its row when it returned" tenant_still_holds app_u_stall_2
let_go app_u_stall_2
check "once the tenant let go, claudable_reconcile() repairs it" \
    test "$(q -c "SELECT action FROM claudable_reconcile() WHERE object = 'project stall-2'")" = repaired

# Its database's row: GRANT ... ON DATABASE own (a repairable finding once committed).
t3=$(tenant_url stall-3 owner-stall)
db3=$(q -c "SELECT database_name FROM claudable.projects WHERE project_id = 'stall-3'")
as_url "$t3" "GRANT CONNECT ON DATABASE $db3 TO PUBLIC" >/dev/null
check "the third tenant holds its database's row: GRANT ... ON DATABASE own in a transaction it keeps open" \
    hold "$t3" "GRANT TEMPORARY ON DATABASE $db3 TO PUBLIC" app_u_stall_3
reconcile=$(q -c "SELECT action || ' ' || detail FROM claudable_reconcile() WHERE object = 'project stall-3'")
check "claudable_reconcile() reports that project as failed with 55P03 while the tenant holds it" \
    bash -c '[[ "$1" == "failed 55P03: "*"app_u_stall_3"* ]]' _ "$reconcile"
during3=$(cold_provision cold-during-3)
check "and an unrelated cold provision succeeds meanwhile" test -n "$during3"
let_go app_u_stall_3
repaired_and_closed() {
    [ "$(q -c "SELECT action FROM claudable_reconcile() WHERE object = 'project stall-3'")" = repaired ] &&
        [ "$(q -c "SELECT has_database_privilege('public', '$db3', 'CONNECT')")" = f ]
}
check "once the tenant let go, claudable_reconcile() repairs it and PUBLIC no longer connects" repaired_and_closed
tap_done
