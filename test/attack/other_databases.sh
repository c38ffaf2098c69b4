#!/usr/bin/env bash
# Attack: a tenant stores data outside its own database, in a database PUBLIC may connect
# to (here `postgres`, left open as a DBA who skipped README's hardening step would leave
# it), as large objects (issue 19, item 9). What its role owns there counts toward its size:
# claudable_check() reports it with the REVOKE that closes the door, and
# claudable_enforce_quotas() makes the project read-only when the sum passes the limit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
start_attack_cluster "claudable.max_database_size = '16MB'" || exit 1
monitor=$(readme_actor monitoring) || exit 1
psql -X -q -d postgres -c "GRANT CONNECT, TEMPORARY ON DATABASE postgres TO PUBLIC"
tenant=$(tenant_url hoarder owner-hoard)
tenant_url quiet owner-hoard >/dev/null  # stores nothing elsewhere
in_postgres=${tenant%/*}/postgres

check "the tenant connects to postgres with its own credentials" as_url "$in_postgres" "SELECT 1"
check "and stores 12 MB there as a large object" \
    as_url "$in_postgres" "SELECT lo_from_bytea(0, decode(repeat('ab', 12 * 1024 * 1024), 'hex'))"
check "claudable_check() reports what its role owns in postgres, with the REVOKE that keeps tenants out" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role app_u_hoarder'
              AND problem LIKE 'owns 1 objects (125829__ bytes) in database postgres, outside its own database: they count toward its size; REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC%'")" = 1
check "and reports the project's size, counting it, as over claudable.max_database_size" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'database app_db_hoarder'
              AND problem LIKE '% bytes (125829__ of them in other databases) exceeds claudable.max_database_size 16777216%'")" = 1
enforced=$(q -c "SELECT project_id || ' ' || action FROM claudable_enforce_quotas()")
check "claudable_enforce_quotas() makes the project read-only, and only that one" test "$enforced" = "hoarder made read-only"
check "its own database now refuses writes (25006)" \
    test "$(sqlstate_of "$tenant" "CREATE TABLE t (x int)")" = 25006
q -c "REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC" >/dev/null
check "after README's hardening step the tenant can no longer connect to postgres" \
    login_refused "$in_postgres" 'permission denied for database "postgres"'
check "and what it stored there still counts (the check still reports it)" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role app_u_hoarder' AND problem LIKE 'owns 1 objects%'")" = 1
tap_done
