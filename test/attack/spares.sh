#!/usr/bin/env bash
# Attack: a tenant grants what it owns to the roles of the spare databases (issue 19, item
# 6), and watches for a spare open to PUBLIC while the pool is filled (item 12). A spare
# carrying any privilege is never claimed; the refill undoes the grants, drops it and still
# fills the pool; no spare is ever seen open to PUBLIC.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
start_attack_cluster "claudable.spare_databases = 2" || exit 1
monitor=$(readme_actor monitoring) || exit 1
spares() { q -c "SELECT string_agg(name, ' ' ORDER BY name) FROM claudable.spares WHERE state = 'ready'"; }

tenant=$(tenant_url granter owner-spares)
db=$(q -c "SELECT database_name FROM claudable.projects WHERE project_id = 'granter'")
check "the pool holds two ready spares" test "$(q -c "SELECT claudable_refill_spares()")" = 2
read -r spare_a spare_b <<<"$(spares)"
grants_to() {  # SPARE: what the tenant grants that spare's role, with its own rights
    local large_object
    large_object=$(as_url "$tenant" "SELECT lo_from_bytea(0, 'x')") || return 1
    as_url "$tenant" "CREATE TABLE IF NOT EXISTS shared_t (x int)" "GRANT SELECT, INSERT ON shared_t TO $1" \
        "GRANT USAGE, CREATE ON SCHEMA public TO $1" "GRANT CONNECT, TEMPORARY ON DATABASE $db TO $1" \
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO $1" "GRANT SELECT ON LARGE OBJECT $large_object TO $1"
}
check "the tenant grants a table, its schema, its database, default privileges and a large object to one spare's role" \
    grants_to "$spare_a"
check "and its database alone to the other spare's role" as_url "$tenant" "GRANT CONNECT ON DATABASE $db TO $spare_b"
check "neither spare is intact any more" \
    test "$(q -c "SELECT count(*) FROM claudable.spare_pool('template0') WHERE intact")" = 0
check "claudable_check() of the monitoring role reports both" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE problem LIKE 'spare was changed%'")" = 2

as_deploy "SELECT 1 FROM claudable_provision('after-grants', 'owner-spares')" >/dev/null
# (Its call also starts the refiller, which may retire both spares at once: the audit row
# says how the project was made.)
check "the next project is not made from a spare that was granted something: its role and database were created" \
    test "$(q -c "SELECT detail FROM claudable.events WHERE project_id = 'after-grants' AND action = 'provision'
                   AND outcome = 'succeeded'")" = "role and database created"
in_tenant_db() { psql -X -At -d "$db" -c "$1"; }
check "and its role holds nothing in the granting tenant's database" \
    test "$(in_tenant_db "SELECT has_table_privilege('app_u_after_grants', 'shared_t', 'SELECT') OR
                             has_database_privilege('app_u_after_grants', '$db', 'CONNECT')")" = f

check "claudable_refill_spares() succeeds and the pool holds two spares again" \
    test "$(q -c "SELECT claudable_refill_spares()")" = 2
check "the granted spares' roles are gone" \
    test "$(q -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('$spare_a', '$spare_b')")" = 0
check "no grant to them remains in the tenant's database (table, schema, default privileges)" \
    test "$(in_tenant_db "SELECT (SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a WHERE c.relname = 'shared_t' AND a.grantee <> c.relowner)
                             + (SELECT count(*) FROM pg_default_acl)
                             + (SELECT count(*) FROM pg_largeobject_metadata m, aclexplode(m.lomacl) a WHERE a.grantee <> m.lomowner)")" = 0
check "the server log holds no failed retirement" \
    bash -c '! grep -q "could not retire spare" "$1"' _ "$CLUSTER_LOG"
check "no project or spare ever failed a retirement: claudable_check() reports no spare as changed" \
    test "$(as_url "$monitor" "SELECT count(*) FROM claudable_check() WHERE problem LIKE 'spare%'")" = 0

# While the pool is filled, the tenant polls pg_database for a spare PUBLIC may connect to.
q -c "ALTER SYSTEM SET claudable.spare_databases = 0" -c "SELECT pg_reload_conf()" >/dev/null
q -c "SELECT claudable_refill_spares()" >/dev/null
q -c "ALTER SYSTEM SET claudable.spare_databases = 4" -c "SELECT pg_reload_conf()" >/dev/null
watch_out=$(mktemp)
(as_url "$tenant" "CREATE TEMP TABLE seen (name text)" "DO \$\$
    DECLARE stop timestamptz := clock_timestamp() + interval '8 seconds';
    BEGIN
        WHILE clock_timestamp() < stop AND (SELECT count(*) FROM pg_database WHERE datname LIKE 'claudable_spare%') < 4 LOOP
            INSERT INTO seen SELECT datname FROM pg_database
             WHERE datname LIKE 'claudable_spare%' AND has_database_privilege('public', oid, 'CONNECT');
        END LOOP;
    END \$\$" "SELECT count(*) FROM seen" >"$watch_out") &
watcher=$!
sleep 0.3
filled=$(q -c "SELECT claudable_refill_spares()")
wait "$watcher"
check "the refill makes four spares while the tenant watches" test "$filled" = 4
check "the tenant never saw one open to PUBLIC" test "$(cat "$watch_out")" = 0
rm -f "$watch_out"
tap_done
