#!/usr/bin/env bash
# Attack: a tenant sets its own role's password to a SCRAM verifier of its choosing (issue 19,
# items 2 and 5). claudable_check() and claudable_reconcile() never run its rounds: they
# report it as changed at once and honour statement_timeout and cancel; the pooler export
# leaves it out and keeps every other project.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
start_attack_cluster || exit 1
monitor=$(readme_actor monitoring) || exit 1
pooler=$(readme_actor pooler) || exit 1

for i in $(seq 1 99); do as_deploy "SELECT 1 FROM claudable_provision('p-$i', 'owner-many')" >/dev/null || exit 1; done
tenant=$(tenant_url slow-tenant owner-slow)
stored=$(head -c 32 /dev/urandom | base64)
server=$(head -c 32 /dev/urandom | base64)
salt=$(head -c 16 /dev/urandom | base64)
check "the tenant sets its own role's verifier to 2,000,000 rounds, and PostgreSQL accepts it" \
    as_url "$tenant" "ALTER ROLE CURRENT_USER PASSWORD 'SCRAM-SHA-256\$2000000:$salt\$$stored:$server'"
check "claudable_check() reports that role's password as changed" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role app_u_slow_tenant' AND problem LIKE 'password was changed%'")" = 1
# PostgreSQL's ALTER ROLE runs the verifier's rounds once itself (does it match the empty
# password?), in the tenant's own session: with 2,000,000,000 rounds the tenant waits about
# 45 minutes and then holds that verifier. The suite does not wait: it writes the state the
# tenant reaches into pg_authid directly.
as_super "UPDATE pg_authid SET rolpassword = 'SCRAM-SHA-256\$2000000000:$salt\$$stored:$server' WHERE rolname = 'app_u_slow_tenant'" >/dev/null

findings() {  # URL: claudable_check()'s credential finding for the tenant's role, under a 60 s statement_timeout
    as_url "$1" "SET statement_timeout = '60s'" \
        "SELECT severity || ' ' || problem FROM claudable_check() WHERE object = 'role app_u_slow_tenant'"
}
check "claudable_check() of the monitoring role, on 100 projects, reports that role's password as changed outside claudable" \
    test "$(findings "$monitor")" = "error password was changed outside claudable (claudable_reconcile() puts the stored one back)"
check "and reports no other project's password as changed" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE problem LIKE 'password was changed%'")" = 1
check "claudable_check() honours statement_timeout: 5 ms on 100 projects is cut off with 57014" \
    test "$(sqlstate_of "$monitor" "SET statement_timeout = '5ms'" "SELECT count(*) FROM claudable_check()")" = 57014
check "the pooler export leaves the tenant's verifier out" \
    test "$(as_url "$pooler" "SELECT count(*) FROM claudable_pooler_entries() WHERE username = 'app_u_slow_tenant'")" = 0
check "and exports every other project, each with the verifier its role holds" \
    test "$(as_url "$pooler" "SELECT count(*) FROM claudable_pooler_entries() WHERE username LIKE 'app_u_p_%'")" = 99
check "no exported verifier is one claudable did not write: each has 4096 rounds" \
    test "$(as_url "$pooler" "SELECT count(*) FROM claudable_pooler_entries() WHERE scram_verifier NOT LIKE 'SCRAM-SHA-256\$4096:%'")" = 0

long_salt=$(head -c 3000 /dev/urandom | base64 -w0)
tenant2=$(tenant_url salty-tenant owner-slow)
# PostgreSQL 18 refuses a verifier longer than 512 bytes; earlier majors store it. Either way
# claudable must hold: it reports and leaves out what it did not write, and nothing else.
if [ "$(q -c "SELECT current_setting('server_version_num')::int >= 180000")" = t ]; then
    check "a second tenant's verifier with a 3000-byte salt is refused by PostgreSQL 18 (longer than 512 bytes)" \
        bash -c '! out=$(psql -X -q -At -v ON_ERROR_STOP=1 "$1" -c "$2" 2>&1) && grep -q "encrypted password is too long" <<<"$out"' \
            _ "$tenant2" "ALTER ROLE CURRENT_USER PASSWORD 'SCRAM-SHA-256\$4096:$long_salt\$$stored:$server'"
    check "claudable_check() does not report that role: it keeps claudable's verifier" \
        test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role app_u_salty_tenant'")" = 0
    check "and the pooler export keeps it, leaving out only the first tenant's" \
        test "$(as_url "$pooler" "SELECT string_agg(username, ',') FROM claudable_pooler_entries() WHERE username IN ('app_u_salty_tenant', 'app_u_slow_tenant')")" = app_u_salty_tenant
else
    check "a second tenant sets a verifier with a 3000-byte salt, which PostgreSQL accepts" \
        as_url "$tenant2" "ALTER ROLE CURRENT_USER PASSWORD 'SCRAM-SHA-256\$4096:$long_salt\$$stored:$server'"
    check "claudable_check() reports it as changed too" \
        test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role app_u_salty_tenant' AND problem LIKE 'password was changed%'")" = 1
    check "and the pooler export leaves it out as well" \
        test "$(as_url "$pooler" "SELECT count(*) FROM claudable_pooler_entries() WHERE username IN ('app_u_salty_tenant', 'app_u_slow_tenant')")" = 0
fi

check "claudable_reconcile() (superuser) puts claudable's verifiers back, within a 60 s statement_timeout" \
    as_super "SET statement_timeout = '60s'" "SELECT count(*) FROM claudable_reconcile()"
check "after which claudable_check() reports no changed password" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE problem LIKE 'password was changed%'")" = 0
check "and the pooler export holds every project again" \
    test "$(as_url "$pooler" "SELECT count(*) FROM claudable_pooler_entries()")" = 101
check "the tenant logs in again with the DATABASE_URL it was given" as_url "$tenant" "SELECT 1"

check "a tenant removes its own password (ALTER ROLE self PASSWORD NULL)" \
    as_url "$tenant" "ALTER ROLE CURRENT_USER PASSWORD NULL"
check "after which its URL is refused" login_refused "$tenant" 'password authentication failed for user "app_u_slow_tenant"'
check "claudable_check() reports the role's password as changed" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'role app_u_slow_tenant' AND problem LIKE 'password was changed%'")" = 1
check "claudable_reconcile() puts it back, and the URL logs in again" \
    bash -c '[ "$(psql -X -At -d meta -c "SELECT action FROM claudable_reconcile() WHERE object = '"'project slow-tenant'"'")" = repaired ] && psql -X -At "$1" -c "SELECT 1"' _ "$tenant"
tap_done
