#!/usr/bin/env bash
# Attack: PgBouncer in front of a server as README's Install step 5b sets it up (a wildcard
# database entry, auth_query through pg_catalog.claudable_pooler_lookup as
# claudable.pooler_auth_user). Pooled URLs work the moment they are returned, follow a
# rotation and a deprovision at once, and every attacker that can reach the lookup (a tenant
# with its own URL, over the pooler and in its own database; the deploy service; a client
# naming the lookup role itself) gets no verifier but its own project's and breaks nothing
# but its own pooled login.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
source "$here/../lib/pooler.sh"
start_attack_cluster || exit 1
psql -X -q -d meta -c "CREATE DATABASE notaproject" -c "REVOKE CONNECT, TEMPORARY ON DATABASE notaproject FROM PUBLIC" || exit 1
early=$(tenant_url early owner-a)  # made before the pooler was set up
check "PgBouncer starts with README's pgbouncer.ini after README's lookup block" pooler_start
monitor=$(readme_actor monitoring) || exit 1
pooled_of() { as_deploy "SELECT pooled_database_url FROM claudable_provision('$1', '$2')"; }
login_as() { psql -X -At "$1" -c 'SELECT current_user || chr(32) || current_database()' 2>&1; }
pooled_refused() {  # URL: PgBouncer refuses the login, with any FATAL
    local out
    out=$(psql -X -At "$1" -c 'SELECT 1' 2>&1 >/dev/null)
    [ $? = 2 ] && [[ "$out" == *FATAL* ]]
}
# After a failed lookup (a database whose pooled login was not prepared), PgBouncer refuses
# that database's clients ("server login has been failing, try again later") until its next
# try of the server succeeds (README's server_login_retry = 1): up to five attempts, 1.1 s apart.
login_after_retry() {
    local out
    for _ in 1 2 3 4 5; do
        out=$(login_as "$1")
        [[ "$out" == *"server login has been failing"* ]] || break
        sleep 1.1
    done
    echo "$out"
}
export -f login_as pooled_refused login_after_retry sqlstate_of absent

# ---- works at once ------------------------------------------------------------------
a=$(pooled_of alpha owner-a)
check "a new project's pooled URL names PgBouncer's port" bash -c '[[ "$1" == *":$2/app_db_alpha" ]]' _ "$a" "$POOLER_PORT"
check "and logs in through PgBouncer on the first attempt after the call returns" \
    test "$(login_as "$a")" = "app_u_alpha app_db_alpha"
b=$(pooled_of beta owner-b)
check "a second project's too" test "$(login_as "$b")" = "app_u_beta app_db_beta"
check "the project database holds the lookup in pg_catalog, owned by the superuser, with default privileges" \
    test "$(psql -X -At -d app_db_alpha -c "SELECT pg_get_userbyid(p.proowner) || ' ' || p.prosecdef || ' ' || (p.proacl IS NULL)
                                             FROM pg_proc p WHERE p.oid = 'pg_catalog.claudable_pooler_lookup(text)'::regprocedure")" = "postgres true true"
check "the lookup role holds CONNECT on the project database and nothing on meta or on databases that are not projects" \
    test "$(q -c "SELECT has_database_privilege('claudable_pgbouncer', 'app_db_alpha', 'CONNECT')::text
                      || has_database_privilege('claudable_pgbouncer', 'meta', 'CONNECT')::text
                      || has_database_privilege('claudable_pgbouncer', 'notaproject', 'CONNECT')::text")" = "truefalsefalse"
check "claudable_check() is empty with the lookup role's grants in place (they are not foreign grants)" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object <> 'database app_db_early'")" = 0

# ---- a project made before the setting ------------------------------------------------
early_pooled=$(pooled_url "$early")
check "a project made before the setting is reported by claudable_check() as not prepared" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'database app_db_early' AND problem LIKE 'its pooled URL does not log in%'")" = 1
check "and its pooled URL is refused" pooled_refused "$early_pooled"
check "its next claudable_provision prepares it" test "$(pooled_of early owner-a | sed -E 's#.*/##')" = app_db_early
check "after which its pooled URL logs in (within a few seconds of PgBouncer's failed lookup)" \
    test "$(login_after_retry "$early_pooled")" = "app_u_early app_db_early"

# ---- rotation and deprovision -------------------------------------------------------
old_b=$b
new_b=$(as_deploy "SELECT pooled_database_url FROM claudable_rotate_password('beta', 'owner-b')")
check "a rotated password logs in through PgBouncer at once" test "$(login_as "$new_b")" = "app_u_beta app_db_beta"
check "and the old one is refused there at once" pooled_refused "$old_b"
gone=$(pooled_of gamma owner-a)
check "a project about to be deprovisioned logs in through PgBouncer" test "$(login_as "$gone")" = "app_u_gamma app_db_gamma"
as_deploy "SELECT claudable_deprovision('gamma', 'owner-a')" >/dev/null
check "after claudable_deprovision its pooled URL is refused" pooled_refused "$gone"

# ---- a tenant, through PgBouncer --------------------------------------------------------
a_password=$(sed -E 's#^postgresql://[^:]*:([^@]*)@.*#\1#' <<<"$a")
check "tenant alpha's credentials are refused for beta's database through PgBouncer" \
    pooled_refused "${a%/*}/app_db_beta"
check "and as beta's role name with alpha's password" \
    pooled_refused "postgresql://app_u_beta:$a_password@127.0.0.1:$POOLER_PORT/app_db_beta"
check "and for meta, postgres, template1 and a database that is not a project (each after README's query_wait_timeout)" \
    bash -c 'pids=(); for d in meta postgres template1 notaproject; do pooled_refused "${1%/*}/$d" & pids+=($!); done
             for p in "${pids[@]}"; do wait "$p" || exit 1; done' _ "$a"
check "a client naming the lookup role itself is refused (with a tenant's password)" \
    pooled_refused "postgresql://claudable_pgbouncer:$a_password@127.0.0.1:$POOLER_PORT/app_db_alpha"
check "a client naming the lookup role itself is refused (with any password)" \
    pooled_refused "postgresql://claudable_pgbouncer:x@127.0.0.1:$POOLER_PORT/app_db_alpha"
check "a client naming the superuser is refused" pooled_refused "postgresql://postgres:x@127.0.0.1:$POOLER_PORT/app_db_alpha"

# ---- a tenant, in its own database --------------------------------------------------------
check "the tenant calling the lookup in its own database gets no row, not even its own verifier" \
    test "$(as_url "$a" "SELECT count(*) FROM pg_catalog.claudable_pooler_lookup('app_u_alpha')")" = 0
check "nor after SET ROLE to itself or a SET of the setting's name in its session" \
    test "$(as_url "$a" "SET claudable.pooler_auth_user = 'app_u_alpha'" "SET ROLE app_u_alpha" "SELECT count(*) FROM pg_catalog.claudable_pooler_lookup('app_u_alpha')")" = 0
check "the tenant cannot drop the lookup (42501)" \
    test "$(sqlstate_of "$a" "DROP FUNCTION pg_catalog.claudable_pooler_lookup(text)")" = 42501
check "nor replace it (42501)" \
    test "$(sqlstate_of "$a" "CREATE OR REPLACE FUNCTION pg_catalog.claudable_pooler_lookup(username text) RETURNS TABLE (usename text, passwd text) LANGUAGE sql AS 'SELECT NULL::text, NULL::text'")" = 42501
check "nor revoke EXECUTE on it from PUBLIC (nothing is revoked: its privileges stay the default)" \
    bash -c 'psql -X -q "$1" -c "REVOKE EXECUTE ON FUNCTION pg_catalog.claudable_pooler_lookup(text) FROM PUBLIC" 2>&1 | grep -q "no privileges could be revoked" &&
             [ "$(psql -X -At -d app_db_alpha -c "SELECT COALESCE(proacl, acldefault('"'f'"', proowner)) = acldefault('"'f'"', proowner) FROM pg_proc WHERE oid = '"'pg_catalog.claudable_pooler_lookup(text)'"'::regprocedure")" = t ]' _ "$a"
check "nor make a schema of its own stand in for the lookup (auth_query names pg_catalog)" \
    bash -c 'psql -X -q "$1" -c "CREATE SCHEMA evil" -c "CREATE FUNCTION evil.claudable_pooler_lookup(text, OUT usename text, OUT passwd text) RETURNS SETOF record LANGUAGE sql AS \$\$SELECT \$1, NULL::text\$\$" \
               -c "ALTER ROLE app_u_alpha SET search_path = evil, pg_catalog" -c "ALTER DATABASE app_db_alpha SET search_path = evil, pg_catalog" &&
             [ "$(login_as "$1")" = "app_u_alpha app_db_alpha" ] && pooled_refused "postgresql://app_u_alpha:wrong@127.0.0.1:$2/app_db_alpha"' _ "$a" "$POOLER_PORT"
psql -X -q "$a" -c "ALTER ROLE app_u_alpha RESET search_path" -c "ALTER DATABASE app_db_alpha RESET search_path" 2>/dev/null

check "the tenant revokes the lookup role's CONNECT on its own database" \
    as_url "$a" "REVOKE CONNECT ON DATABASE app_db_alpha FROM claudable_pgbouncer"
pooler_admin "RECONNECT app_db_alpha" >/dev/null  # PgBouncer's lookup connection there was made before
check "which, once PgBouncer reconnects, breaks its own pooled login" pooled_refused "$a"
check "and no other project's" test "$(login_as "$new_b")" = "app_u_beta app_db_beta"
check "claudable_check() reports it, repairable" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'database app_db_alpha' AND problem LIKE '%may not connect to it%'")" = 1
check "claudable_reconcile() grants it again" \
    bash -c 'psql -X -At -d meta -c "SELECT action FROM claudable_reconcile() WHERE object = '"'project alpha'"'" | grep -qx repaired'
check "and the pooled URL logs in again" test "$(login_after_retry "$a")" = "app_u_alpha app_db_alpha"

check "the tenant sets its own database's role, read-only default and a 1 ms statement_timeout" \
    as_url "$a" "ALTER DATABASE app_db_alpha SET role = app_u_alpha" "ALTER DATABASE app_db_alpha SET default_transaction_read_only = on" \
                "ALTER DATABASE app_db_alpha SET statement_timeout = 1" "REVOKE CONNECT ON DATABASE app_db_alpha FROM claudable_pgbouncer"
check "and the repair's worker in that database still prepares the pooled login" \
    bash -c 'psql -X -At -d meta -c "SELECT action FROM claudable_reconcile() WHERE object = '"'project alpha'"'" | grep -qx repaired &&
             [ "$(psql -X -At -d meta -c "SELECT has_database_privilege('"'claudable_pgbouncer'"', '"'app_db_alpha'"', '"'CONNECT'"')")" = t ]'
q -c "ALTER DATABASE app_db_alpha RESET ALL" >/dev/null

c=$(pooled_of gamma2 owner-c)
check "a tenant sets its own password to a verifier of another shape (2,000,000 rounds)" \
    as_url "$c" "ALTER ROLE app_u_gamma2 PASSWORD 'SCRAM-SHA-256\$2000000:c2FsdHNhbHRzYWx0c2FsdA==\$uUxS9J0V1Yf1cHE0hR8JbHRqtxuEaU0O+4aYuJqzBW8=:lHyXlOlrDqO8YyVJYqQ9+KlyXjdEd4kTgK41u8Sxh2A='"
check "after which the lookup gives PgBouncer nothing for it, and its pooled login is refused" pooled_refused "$c"
check "while other projects log in through PgBouncer as before" test "$(login_as "$a")" = "app_u_alpha app_db_alpha"

# ---- the deploy service and misconfiguration ---------------------------------------------
check "the deploy service's SET claudable.pooler_auth_user in its session grants its own role nothing" \
    bash -c 'psql -X -q "$1" -c "SET claudable.pooler_auth_user = '"'deploy_service'"'" -c "SELECT 1 FROM claudable_provision('"'sess'"', '"'owner-o'"')" >/dev/null 2>&1;
             [ "$(psql -X -At -d meta -c "SELECT has_database_privilege('"'deploy_service'"', '"'app_db_sess'"', '"'CONNECT'"')::text
                                                 || has_database_privilege('"'claudable_pgbouncer'"', '"'app_db_sess'"', '"'CONNECT'"')::text")" = falsetrue ]' _ "$DEPLOY_URL"
check "nor as a startup option (refused at login or ignored: provisioning still grants only the server's role)" \
    bash -c 'PGOPTIONS="-c claudable.pooler_auth_user=deploy_service" psql -X -At "$1" -c "SELECT 1 FROM claudable_provision('"'opt'"', '"'owner-o'"')" >/dev/null 2>&1;
             [ "$(psql -X -At -d meta -c "SELECT has_database_privilege('"'deploy_service'"', '"'app_db_opt'"', '"'CONNECT'"')" 2>/dev/null)" != t ]' _ "$DEPLOY_URL"
check "nor call the lookup in meta (it is not there)" \
    test "$(sqlstate_of "$DEPLOY_URL" "SELECT * FROM pg_catalog.claudable_pooler_lookup('app_u_alpha')")" = 42883
q -c "LOAD 'claudable'" -c "ALTER SYSTEM SET claudable.pooler_auth_user = 'nobody_here'" -c "SELECT pg_reload_conf()" >/dev/null; sleep 0.3
check "a setting naming a missing role refuses a new project (42704), creating nothing" \
    bash -c '[ "$(sqlstate_of "$1" "SELECT 1 FROM claudable_provision('"'missing'"', '"'owner-m'"')")" = 42704 ] &&
             [ "$(psql -X -At -d meta -c "SELECT count(*) FROM pg_roles WHERE rolname = '"'app_u_missing'"'")" = 0 ]' _ "$DEPLOY_URL"
check "and claudable_check() names the setting" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE object = 'setting claudable.pooler_auth_user'")" = 1
q -c "LOAD 'claudable'" -c "ALTER SYSTEM SET claudable.pooler_auth_user = 'postgres'" -c "SELECT pg_reload_conf()" >/dev/null; sleep 0.3
check "a setting naming a superuser refuses a new project (22023), creating nothing" \
    bash -c '[ "$(sqlstate_of "$1" "SELECT 1 FROM claudable_provision('"'supers'"', '"'owner-m'"')")" = 22023 ] &&
             [ "$(psql -X -At -d meta -c "SELECT count(*) FROM pg_roles WHERE rolname = '"'app_u_supers'"'")" = 0 ]' _ "$DEPLOY_URL"
q -c "LOAD 'claudable'" -c "ALTER SYSTEM SET claudable.pooler_auth_user = 'claudable_pgbouncer'" -c "SELECT pg_reload_conf()" >/dev/null; sleep 0.3

# ---- spares ---------------------------------------------------------------------------
q -c "LOAD 'claudable'" -c "ALTER SYSTEM SET claudable.spare_databases = 2" -c "SELECT pg_reload_conf()" >/dev/null; sleep 0.3
check "the spare pool fills with spares that carry the lookup" \
    bash -c '[ "$(psql -X -At -d meta -c "SELECT claudable_refill_spares()")" = 2 ] &&
             for d in $(psql -X -At -d meta -c "SELECT name FROM claudable.spares WHERE state = '"'ready'"'"); do
                 [ "$(psql -X -At -d "$d" -c "SELECT to_regprocedure('"'pg_catalog.claudable_pooler_lookup(text)'"') IS NOT NULL AND has_database_privilege('"'claudable_pgbouncer'"', current_database(), '"'CONNECT'"')")" = t ] || exit 1
             done'
s=$(pooled_of from-spare owner-s)
check "a project claimed from a spare was claimed (its audit row says so)" \
    test "$(q -c "SELECT count(*) FROM claudable.events WHERE project_id = 'from-spare' AND detail LIKE 'role and database claimed from spare%'")" = 1
check "and its pooled URL logs in through PgBouncer on the first attempt" test "$(login_as "$s")" = "app_u_from_spare app_db_from_spare"

# ---- a tenant's dump of its own database ------------------------------------------------
as_url "$a" "CREATE TABLE kept (id int)" "INSERT INTO kept VALUES (1), (2)"
direct_a=$(as_deploy "SELECT database_url FROM claudable_provision('alpha', 'owner-a')")
check "the tenant dumps its own database (pg_dump -Fc) and restores it over itself (pg_restore --clean --if-exists) without an error" \
    bash -c 'pg_dump -Fc -d "$1" -f "$2/alpha.dump" 2>"$2/dump.err" && pg_restore --clean --if-exists -d "$1" "$2/alpha.dump" 2>"$2/restore.err"' \
        _ "$direct_a" "$CLUSTER_DIR"
sed 's/^/# /' "$CLUSTER_DIR/dump.err" "$CLUSTER_DIR/restore.err" 2>/dev/null | head -10
check "the dump holds nothing of the lookup" \
    bash -c '! pg_restore -f - "$1/alpha.dump" | grep -q -e pg_catalog.claudable_pooler_lookup -e pg_authid' _ "$CLUSTER_DIR"
check "and the pooled URL still logs in afterwards" test "$(login_as "$a")" = "app_u_alpha app_db_alpha"

for p in "$a_password" "$(sed -E 's#^postgresql://[^:]*:([^@]*)@.*#\1#' <<<"$new_b")"; do
    grep -l -F -- "$p" "$POOLER_LOG" "$CLUSTER_LOG" 2>/dev/null | sed 's/^/# found a password in /'
done
# pg_upgrade and pg_dumpall do not carry pg_catalog's objects: README's way back.
psql -X -q -d app_db_beta -c "DROP FUNCTION pg_catalog.claudable_pooler_lookup(text)"
pooler_admin "RECONNECT app_db_beta" >/dev/null
check "a project database that lost its lookup (as after pg_upgrade) refuses its pooled login" pooled_refused "$new_b"
check "README's way back (the setting emptied, reconcile, set again, reconcile) puts it back" \
    bash -c 'q() { psql -X -At -d meta "$@"; }
             q -c "LOAD '"'claudable'"'" -c "ALTER SYSTEM SET claudable.pooler_auth_user = '"''"'" -c "SELECT pg_reload_conf()" >/dev/null && sleep 0.3 &&
             q -c "SELECT count(*) FROM claudable_reconcile()" >/dev/null &&
             q -c "LOAD '"'claudable'"'" -c "ALTER SYSTEM SET claudable.pooler_auth_user = '"'claudable_pgbouncer'"'" -c "SELECT pg_reload_conf()" >/dev/null && sleep 0.3 &&
             q -c "SELECT count(*) FROM claudable_reconcile()" >/dev/null &&
             [ "$(login_after_retry "$1")" = "app_u_beta app_db_beta" ]' _ "$new_b"
check "no password of a project reaches PgBouncer's log or the server's" \
    bash -c 'for p in "${@:3}"; do absent "$p" "$1" && absent "$p" "$2" || exit 1; done' _ "$POOLER_LOG" "$CLUSTER_LOG" \
        "$a_password" "$(sed -E 's#^postgresql://[^:]*:([^@]*)@.*#\1#' <<<"$new_b")"
tap_done
