#!/usr/bin/env bash
# Attack: roles a DBA gave a predefined role (issue 19, item 7). pg_read_all_data reads no
# key and no sealed password; pg_write_all_data changes no project and forges no event;
# pg_signal_backend stops no claudable worker; claudable_check() names every role that can
# still get past row level security, and why.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
source "$here/../lib/wait.sh"
start_attack_cluster || exit 1
monitor=$(readme_actor monitoring) || exit 1
# login_with ROLE PREDEFINED: a login role holding PREDEFINED and CONNECT on meta; prints its URL.
login_with() {
    local password
    password=$(random_password)
    q -q -c "CREATE ROLE $1 LOGIN PASSWORD '$password'" -c "GRANT $2 TO $1" -c "GRANT CONNECT ON DATABASE meta TO $1" || return 1
    echo "postgresql://$1:$password@127.0.0.1:$PGPORT/meta"
}
tenant=$(tenant_url victim owner-victim)
reader=$(login_with reader pg_read_all_data)
writer=$(login_with writer pg_write_all_data)
signaler=$(login_with signaler "pg_signal_backend, pg_monitor")

for table in key_material key_ring projects spares events installation; do
    check "pg_read_all_data reads no row of claudable.$table" test "$(as_url "$reader" "SELECT count(*) FROM claudable.$table")" = 0
done
key_hex=$(q -c "SELECT encode(material, 'hex') FROM claudable.key_material")
dump=$(mktemp)
pg_dump "$reader" >"$dump" 2>&1
check "pg_dump of the metadata database by pg_read_all_data holds neither the key nor a sealed password" \
    bash -c '[ ${#1} = 64 ] && ! grep -qi "$1" "$3" && ! grep -q "$2" "$3"' _ "$key_hex" \
        "$(q -c "SELECT encode(password_sealed, 'hex') FROM claudable.projects LIMIT 1")" "$dump"
rm -f "$dump"

check "pg_write_all_data changes no project's host (UPDATE 0)" \
    test "$(psql -X -q "$writer" -c "UPDATE claudable.projects SET host = 'evil.example'" 2>&1)" = "" 
check "and the project keeps its host" test "$(q -c "SELECT host FROM claudable.projects WHERE project_id = 'victim'")" = localhost
check "pg_write_all_data cannot forge an event (42501: row level security)" \
    test "$(sqlstate_of "$writer" "INSERT INTO claudable.events (action, project_id, outcome, detail) VALUES ('provision', 'victim', 'succeeded', 'forged')")" = 42501
check "pg_write_all_data deletes no event" \
    bash -c '[ "$(psql -X -At "$1" -c "WITH d AS (DELETE FROM claudable.events RETURNING 1) SELECT count(*) FROM d")" = 0 ] &&
             [ "$(psql -X -At -d meta -c "SELECT count(*) > 0 FROM claudable.events")" = t ]' _ "$writer"
check "claudable_check() names pg_write_all_data's member and says what to revoke" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role writer' AND problem LIKE '%REVOKE pg_write_all_data FROM writer%'")" = 1
check "claudable_check() does not report the pg_read_all_data member: row level security stops it" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role reader'")" = 0

# PostgreSQL 17 added pg_maintain: VACUUM, ANALYZE, CLUSTER, REINDEX and LOCK TABLE on every
# table. Naming claudable's tables needs USAGE on the schema claudable, which nobody has; a
# database-wide VACUUM FULL still reaches them, one short lock each. On 15 there is no such role.
if [ "$(q -c "SELECT to_regrole('pg_maintain') IS NOT NULL")" = t ]; then
    maintainer=$(login_with maintainer pg_maintain)
    check "pg_maintain (17 and later) cannot LOCK claudable.projects (42501: no USAGE on schema claudable)" \
        test "$(sqlstate_of "$maintainer" "BEGIN; LOCK TABLE claudable.projects IN ACCESS EXCLUSIVE MODE; COMMIT")" = 42501
    check "pg_maintain cannot VACUUM FULL claudable.events by name (42501)" \
        test "$(sqlstate_of "$maintainer" "VACUUM FULL claudable.events")" = 42501
    check "pg_maintain cannot REINDEX claudable.projects by name (42501)" \
        test "$(sqlstate_of "$maintainer" "REINDEX TABLE claudable.projects")" = 42501
    check "a database-wide VACUUM FULL by pg_maintain's member ends, and the project still answers after it" \
        bash -c 'psql -X -q "$1" -c "VACUUM FULL" >/dev/null 2>&1 &&
                 [ "$(psql -X -At -d meta -c "SELECT count(*) FROM claudable.projects WHERE project_id = '"'victim'"' AND status = '"'ready'"'")" = 1 ]' \
            _ "$maintainer"
    check "claudable_check() does not report pg_maintain's member: it cannot hold a lock on claudable's tables" \
        test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role maintainer'")" = 0
else
    check "PostgreSQL $(q -c "SHOW server_version_num" | cut -c1-2) has no pg_maintain role to try" \
        test "$(q -c "SELECT current_setting('server_version_num')::int < 170000")" = t
fi

q -q -c "CREATE ROLE bypasser NOLOGIN BYPASSRLS" -c "CREATE ROLE via_bypasser LOGIN" -c "GRANT bypasser TO via_bypasser" \
    -c "CREATE ROLE file_reader LOGIN" -c "GRANT pg_read_server_files TO file_reader"
check "claudable_check() names a role with BYPASSRLS" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role bypasser' AND problem LIKE 'has BYPASSRLS%NOBYPASSRLS)'")" = 1
check "and a member of it" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role via_bypasser' AND problem LIKE '%REVOKE bypasser FROM via_bypasser)'")" = 1
check "and a member of pg_read_server_files, which reads the key's file" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role file_reader' AND problem LIKE 'can read any file of the server%'")" = 1

# A worker kept at a fault point (test builds) for as long as the test holds its lock.
fault_lock=$((0x636c6402))
psql -X -q -d meta -c "SELECT pg_advisory_lock($fault_lock, 0)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
wait_for_row "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $fault_lock AND granted"
q -c "SET claudable.fault_point = 'after_reservation'" -c "SELECT 1 FROM claudable_provision('parked', 'owner-victim')" \
    >/dev/null 2>&1 &
caller=$!
wait_for_row "SELECT 1 FROM pg_stat_activity WHERE query = 'claudable: fault point after_reservation'"
worker=$(as_url "$signaler" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'claudable provisioner'
                              AND query = 'claudable: fault point after_reservation'")
check "pg_signal_backend with pg_monitor sees a claudable worker" test -n "$worker"
check "but cannot terminate it (42501)" test "$(sqlstate_of "$signaler" "SELECT pg_terminate_backend(${worker:-0})")" = 42501
check "nor cancel it (42501)" test "$(sqlstate_of "$signaler" "SELECT pg_cancel_backend(${worker:-0})")" = 42501
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'" >/dev/null
wait "$holder" "$caller" 2>/dev/null
check "the parked call then finishes the project" \
    test "$(q -c "SELECT status FROM claudable.projects WHERE project_id = 'parked'")" = ready
check "the tenant's URL still logs in" as_url "$tenant" "SELECT 1"
tap_done
