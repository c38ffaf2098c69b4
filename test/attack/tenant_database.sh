#!/usr/bin/env bash
# Attack: a tenant closes its own database (ALTER DATABASE own ALLOW_CONNECTIONS false, which
# an owner may run from another database: here `postgres`, left open as a DBA who skipped
# README's hardening step would leave it), so the URL claudable returns stops working.
# claudable_check() reports it and claudable_reconcile() opens it again.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
start_attack_cluster || exit 1
monitor=$(readme_actor monitoring) || exit 1
psql -X -q -d postgres -c "GRANT CONNECT ON DATABASE postgres TO PUBLIC"
tenant=$(tenant_url closer owner-close)
check "the tenant, connected to postgres, sets ALLOW_CONNECTIONS false on its own database" \
    as_url "${tenant%/*}/postgres" "ALTER DATABASE app_db_closer ALLOW_CONNECTIONS false"
check "after which its URL is refused at login" login_refused "$tenant" 'database "app_db_closer" is not currently accepting connections'
check "claudable_check() of the monitoring role reports it" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'database app_db_closer' AND problem LIKE 'refuses every connection%'")" = 1
check "claudable_reconcile() repairs it" \
    test "$(q -c "SELECT action FROM claudable_reconcile() WHERE object = 'project closer'")" = repaired
check "and the URL logs in again" as_url "$tenant" "SELECT 1"
tap_done
