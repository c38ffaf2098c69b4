#!/usr/bin/env bash
# The fleet (README, "Fleet"): a directory (claudable_fleet over PL/Proxy), two claudable
# servers, later a third, and PgBouncer in front of them, each a throwaway process on this
# machine. The deploy service is a role holding EXECUTE on the directory's provision, rotation,
# deprovision, snapshot and branch functions, over TCP; the directory reaches each server as a
# role holding EXECUTE only. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/nodes.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/fleet.sh"
source "$here/../lib/node_package.sh"
source "$here/../lib/readme.sh"
unset PGHOST PGPORT PGUSER PGDATABASE
export -f absent absent_all fleet_write_pgbouncer_config pgbouncer_reload
export FLEET_DIR POOLER_ADMIN_URL PGBOUNCER_PID 2>/dev/null

fleet_start_server a || exit 1
fleet_start_server b || exit 1
# README "Pooled URLs": each server's lookup for PgBouncer's auth_query (Install step 5b).
fleet_pooler_lookup a || exit 1
fleet_pooler_lookup b || exit 1
fleet_start_directory || exit 1
fleet_pooler_role || exit 1

dq() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$DEPLOY_URL" "$@"; }
sq() { nq directory -d directory "$@"; }          # the directory, as its superuser
sqlstate_of() {  # the SQLSTATE of the error a deploy-role statement raises (empty if none)
    dq -v VERBOSITY=verbose -c "$1" 2>&1 >/dev/null | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -1
}
error_of() { dq -c "$1" 2>&1 >/dev/null; }
provision() { dq -F ' ' -c "SELECT created, port FROM claudable_provision('$1', '${2:-owner-fleet}')"; }
server_port() { dq -c "SELECT port FROM claudable_provision('$1', '${2:-owner-fleet}')"; }
password_of() { dq -c "SELECT password FROM claudable_provision('$1', 'owner-fleet')"; }
# same A B: A is not empty (a failed query prints nothing) and B is the same.
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
secrets_file="$FLEET_DIR/secrets"  # every password the suite saw, for the log checks at the end
remember_secret() { printf '%s\n' "$1" >>"$secrets_file"; }
remember_secret "$FLEET_ROLE_PASSWORD"
remember_secret "$LOOKUP_PASSWORD"
remember_secret "$POOLER_ROLE_PASSWORD"
remember_secret "$PGBOUNCER_ADMIN_PASSWORD"

echo "# adding servers"
check "claudable_fleet_add_server adds server a" fleet_add_server a 100
check "and server b" fleet_add_server b 100
without_statement_log a meta <<<"ALTER ROLE postgres PASSWORD 'superuser-pw';"
remember_secret superuser-pw
as_superuser=$(sq -v VERBOSITY=verbose -c "BEGIN; SET LOCAL log_statement = 'none'; SET LOCAL log_min_error_statement = 'panic'" -c "SELECT claudable_fleet_add_server('root',
    'host=127.0.0.1 port=${NODE_PORT[a]} dbname=meta user=postgres password=superuser-pw', 10)" 2>&1)
check "a server reached as a superuser is refused (42501)" grep -q 'ERROR:  42501: .*holds more than EXECUTE' <<<"$as_superuser"
unreachable=$(sq -v VERBOSITY=verbose -c "SELECT claudable_fleet_add_server('gone', 'host=127.0.0.1 port=1 dbname=meta user=claudable_fleet', 10)" 2>&1)
check "a server that cannot be reached is refused (08001)" grep -q 'ERROR:  08001: claudable fleet: server "gone" cannot be reached' <<<"$unreachable"
as_url=$(sq -v VERBOSITY=verbose -c "SELECT claudable_fleet_add_server('url', 'postgresql://u@127.0.0.1/meta', 10)" 2>&1)
check "a URL instead of key=value conninfo is refused (22023)" \
    grep -q 'ERROR:  22023: claudable fleet: conninfo must be libpq key=value pairs' <<<"$as_url"
twice=$(sq -v VERBOSITY=verbose -c "SELECT claudable_fleet_add_server('a', 'host=127.0.0.1 dbname=meta user=claudable_fleet', 10)" 2>&1)
check "a name already in the fleet is refused (42710)" grep -q 'ERROR:  42710: ' <<<"$twice"
check "and a refused server leaves no row, SQL/MED server or user mapping behind" \
    test "$(sq -c "SELECT (SELECT count(*) FROM claudable_fleet.servers) || ' ' || (SELECT count(*) FROM pg_foreign_server)
                          || ' ' || (SELECT count(*) FROM pg_user_mappings)")" = "2 2 2"
check "the fleet role's password is in each server's user mapping" \
    test "$(sq -c "SELECT count(*) FROM pg_user_mappings WHERE array_to_string(umoptions, ',') LIKE '%password=%'")" = 2
check "which the deploy role cannot read" \
    test "$(dq -c "SELECT count(*) FROM pg_user_mappings WHERE umoptions IS NOT NULL")" = 0
check "the deploy role cannot read the placements (42501)" \
    test "$(sqlstate_of 'SELECT * FROM claudable_fleet.placements')" = 42501
check "nor execute any of the directory's internal functions, the PL/Proxy ones included" \
    test "$(dq -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'claudable_fleet' AND has_function_privilege(p.oid, 'EXECUTE')")" = 0
check "nor read the pooler entries, which hold SCRAM verifiers (42501)" \
    test "$(sqlstate_of 'SELECT * FROM claudable_fleet_pooler_entries()')" = 42501
check "nor add a server (42501)" \
    test "$(sqlstate_of "SELECT claudable_fleet_add_server('x', 'host=h dbname=d user=u', 1)")" = 42501

echo "# the same function as on a server"
check "claudable_provision on the directory returns the columns a server returns, in the same order" \
    same "$(sq -c "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute
                   WHERE attrelid = 'claudable_fleet.provisioned_project'::regclass AND attnum > 0")" \
         "$(nq a -d meta -c "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute
                   WHERE attrelid = 'claudable.provisioned_project'::regclass AND attnum > 0")"
check "its arguments, SECURITY DEFINER and pinned search_path are those of the server's" \
    same "$(sq -c "SELECT proargnames::text || prosecdef || proconfig::text FROM pg_proc WHERE oid = 'claudable_provision(text,text)'::regprocedure")" \
         "$(nq a -d meta -c "SELECT proargnames::text || prosecdef || proconfig::text FROM pg_proc WHERE oid = 'claudable_provision(text,text)'::regprocedure")"

fleet_functions="FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
                 JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'claudable_fleet'"
check "every SECURITY DEFINER function of claudable_fleet pins search_path to pg_catalog, pg_temp" \
    test "$(sq -c "SELECT count(*) $fleet_functions WHERE p.prosecdef
                     AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']")" = 0
check "and PUBLIC may execute none of its functions" \
    test "$(sq -c "SELECT count(*) $fleet_functions, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                   WHERE a.grantee = 0")" = 0

echo "# spread and sticky placement"
for i in $(seq 1 20); do provision "spread-$i" >/dev/null; done
check "20 new projects spread evenly over two servers of equal capacity" \
    test "$(sq -c "SELECT string_agg(name || '=' || projects, ' ' ORDER BY name) FROM claudable_fleet.servers")" = "a=10 b=10"
check "each placement matches the server that holds the project" \
    test "$(nq a -d meta -c "SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'spread-%'") $(nq b -d meta -c "SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'spread-%'")" = "10 10"
first_password=$(password_of spread-1)
remember_secret "$first_password"
first_port=$(server_port spread-1)
check "a later call for a project goes to its server and returns created = false" \
    test "$(provision spread-1)" = "f $first_port"
check "and the same password" same "$(password_of spread-1)" "$first_password"
check "its DATABASE_URL logs in to that server as the project's role" \
    test "$(psql -X -A -t "$(dq -c "SELECT database_url FROM claudable_provision('spread-1', 'owner-fleet')")" -c 'SELECT current_user')" = app_u_spread_1
check "claudable_rotate_password is routed to the project's server" \
    test "$(dq -c "SELECT port FROM claudable_rotate_password('spread-2', 'owner-fleet')")" = "$(server_port spread-2)"

echo "# refusals are the server's, with its SQLSTATE, and place nothing"
check "an invalid project_id: 22023" test "$(sqlstate_of "SELECT claudable_provision('bad id!', 'owner-fleet')")" = 22023
check "the server's message and hint come through unwrapped" \
    grep -q '^ERROR:  invalid project_id: only A-Z' <<<"$(error_of "SELECT claudable_provision('bad id!', 'owner-fleet')")"
check "a NULL project_id: 22023" test "$(sqlstate_of "SELECT claudable_provision(NULL, 'owner-fleet')")" = 22023
check "another owner's project: 42501" test "$(sqlstate_of "SELECT claudable_provision('spread-1', 'intruder')")" = 42501
check "rotating an unknown project: P0002" test "$(sqlstate_of "SELECT claudable_rotate_password('nobody', 'owner-fleet')")" = P0002
check "deprovisioning an unknown project returns false" test "$(dq -c "SELECT claudable_deprovision('nobody', 'owner-fleet')")" = f
check "no refused call left a placement" test "$(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id NOT LIKE 'spread-%'")" = 0

echo "# drain"
sq -c "SELECT claudable_fleet_drain_server('b')" >/dev/null
for i in 1 2 3 4; do provision "drained-$i" >/dev/null; done
check "a drained server gets no new project" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id LIKE 'drained-%' AND server = 'a'")" = 4
b_project=$(sq -c "SELECT project_id FROM claudable_fleet.placements WHERE server = 'b' ORDER BY project_id LIMIT 1")
check "while its projects keep working there" test "$(provision "$b_project")" = "f ${NODE_PORT[b]}"
check "the servers view shows it draining" test "$(sq -c "SELECT state FROM claudable_fleet.servers WHERE name = 'b'")" = draining
check "draining an unknown server: 42704" grep -q 'ERROR:  42704' <<<"$(sq -v VERBOSITY=verbose -c "SELECT claudable_fleet_drain_server('nope')" 2>&1)"
sq -c "SELECT claudable_fleet_resume_server('b')" >/dev/null
provision after-resume >/dev/null
check "after claudable_fleet_resume_server it takes new projects again" \
    test "$(sq -c "SELECT server FROM claudable_fleet.placements WHERE project_id = 'after-resume'")" = b

echo "# 32 concurrent first calls for one project"
race_dir="$FLEET_DIR/race"
mkdir -p "$race_dir"
for i in $(seq 1 32); do
    dq -F ' ' -c "SELECT created, port, md5(password) FROM claudable_provision('race-one', 'owner-fleet')" >"$race_dir/$i" 2>"$race_dir/$i.err" &
done
wait
check "all 32 succeed" test "$(cat "$race_dir"/*.err | wc -c)" = 0
check "they name one server and one password" test "$(cut -d' ' -f2,3 "$race_dir"/[0-9]* | sort -u | wc -l)" = 1
check "exactly one of them created the project" test "$(grep -c '^t ' "$race_dir"/[0-9]* | awk -F: '{s += $2} END {print s}')" = 1
race_server=$(sq -c "SELECT server FROM claudable_fleet.placements WHERE project_id = 'race-one'")
other_server=$([ "$race_server" = a ] && echo b || echo a)
check "one placement, and the other server holds no such project" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id = 'race-one'") $(nq "$other_server" -d meta -c "SELECT count(*) FROM claudable.projects WHERE project_id = 'race-one'")" = "1 0"

echo "# a server down, then back"
b_password=$(password_of "$b_project")
remember_secret "$b_password"
node_stop b
down=$(dq -v VERBOSITY=verbose -c "SELECT claudable_provision('$b_project', 'owner-fleet')" 2>&1 >/dev/null)
check "a call for a project on the stopped server fails with 08001" grep -q '^ERROR:  08001: claudable fleet: server "b" cannot be reached' <<<"$down"
check "and a hint naming the server" grep -q '^HINT:  .*server "b"' <<<"$down"
a_project=$(sq -c "SELECT project_id FROM claudable_fleet.placements WHERE server = 'a' ORDER BY project_id LIMIT 1")
check "while b is down, a project placed on a answers as before" test "$(provision "$a_project")" = "f ${NODE_PORT[a]}"
# README (Fleet, a server down): a server that cannot answer whether it holds a project may
# hold it, so a first call is placed nowhere until it answers.
while_down=$(dq -v VERBOSITY=verbose -c "SELECT claudable_provision('while-down', 'owner-fleet')" 2>&1 >/dev/null)
check "a first call while b is down is refused with 08001 naming b, which may hold the project" \
    grep -q '^ERROR:  08001: claudable fleet: server "b" could not be asked whether it holds project "while-down", so it was placed on no server$' <<<"$while_down"
check "and is placed nowhere: no placement, and a did not create it" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id = 'while-down'") $(nq a -d meta -c "SELECT count(*) FROM claudable.projects WHERE project_id = 'while-down'")" = "0 0"
check "claudable_fleet_check() reports the server as unreachable" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check() WHERE server = 'b' AND object = 'server b' AND problem LIKE 'cannot be reached%'")" = 1
node_restart b
check "once it is back, its projects answer again with the same password" same "$(password_of "$b_project")" "$b_password"
check "and the refused first call, made again, is placed" \
    test "$(dq -c "SELECT created FROM claudable_provision('while-down', 'owner-fleet')") $(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id = 'while-down'")" = "t 1"

echo "# a third server, which already holds a project of its own"
fleet_start_server c || exit 1
fleet_pooler_lookup c || exit 1
nq c -d meta -c "SELECT 1 FROM claudable_provision('born-on-c', 'owner-fleet')" >/dev/null
born_password=$(nq c -d meta -c "SELECT password FROM claudable_provision('born-on-c', 'owner-fleet')")
remember_secret "$born_password"
old_url=$(dq -c "SELECT md5(database_url || pooled_database_url) FROM claudable_provision('spread-3', 'owner-fleet')")
without_statement_log c meta <<SQL
CREATE ROLE half_fleet LOGIN PASSWORD '$FLEET_ROLE_PASSWORD';
GRANT CONNECT ON DATABASE meta TO half_fleet;
GRANT EXECUTE ON FUNCTION claudable_provision(text, text) TO half_fleet;
SQL
servers_before=$(sq -c "SELECT (SELECT count(*) FROM claudable_fleet.servers) || ' ' || (SELECT count(*) FROM pg_foreign_server)
                             || ' ' || (SELECT count(*) FROM pg_user_mappings)")
half=$( { echo '\set VERBOSITY verbose'; echo "SELECT claudable_fleet_add_server('half', 'host=127.0.0.1 port=${NODE_PORT[c]} dbname=meta user=half_fleet password=$FLEET_ROLE_PASSWORD', 100);"; } |
        without_statement_log directory directory 2>&1)
check "a server whose role lacks EXECUTE on a function the directory calls is refused (42501)" \
    grep -q 'ERROR:  42501: claudable fleet: role "half_fleet" may not call every claudable function the directory needs' <<<"$half"
check "and leaves no row, SQL/MED server or user mapping behind" \
    same "$(sq -c "SELECT (SELECT count(*) FROM claudable_fleet.servers) || ' ' || (SELECT count(*) FROM pg_foreign_server)
                          || ' ' || (SELECT count(*) FROM pg_user_mappings)")" "$servers_before"
check "claudable_fleet_add_server adds server c" fleet_add_server c 100
check "the project c held before is placed there on its first call through the directory" \
    test "$(provision born-on-c) $(sq -c "SELECT server FROM claudable_fleet.placements WHERE project_id = 'born-on-c'")" = "f ${NODE_PORT[c]} c"
check "with the password it had" same "$(password_of born-on-c)" "$born_password"
for i in 1 2 3 4 5; do provision "on-c-$i" >/dev/null; done
check "new projects go to the server with the most free capacity, the new one" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id LIKE 'on-c-%' AND server = 'c'")" = 5
check "and the URLs of older projects are unchanged" \
    same "$(dq -c "SELECT md5(database_url || pooled_database_url) FROM claudable_provision('spread-3', 'owner-fleet')")" "$old_url"

echo "# what the directory sees"
check "claudable_fleet.databases lists every placed project with its server" \
    same "$(sq -c "SELECT count(*) FROM claudable_fleet.databases d JOIN claudable_fleet.placements p USING (project_id) WHERE d.server = p.server")" \
         "$(sq -c "SELECT count(*) FROM claudable_fleet.placements")"
check "claudable_fleet_check() finds nothing wrong with a healthy fleet" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check()")" = 0
spread4_server=$(sq -c "SELECT server FROM claudable_fleet.placements WHERE project_id = 'spread-4'")
spread4_password=$(password_of spread-4)
remember_secret "$spread4_password"
sq -c "DELETE FROM claudable_fleet.placements WHERE project_id = 'spread-4'" >/dev/null
check "it warns of a project that a server holds but no placement points at" \
    test "$(sq -c "SELECT severity FROM claudable_fleet_check() WHERE object = 'project spread-4' AND problem LIKE 'held by this server but not placed%'")" = warning
check "whose next call through the directory places it back on that server, with its password" \
    bash -c '[ -n "$3" ] && [ -n "$4" ] && [ "$1 $2" = "$3 $4" ]' _ "$(password_of spread-4)" \
        "$(sq -c "SELECT server FROM claudable_fleet.placements WHERE project_id = 'spread-4'")" "$spread4_password" "$spread4_server"
sq -c "INSERT INTO claudable_fleet.placements (project_id, server) VALUES ('ghost', 'a')" >/dev/null
check "it reports a placement whose server holds no such project" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check() WHERE server = 'a' AND object = 'project ghost'")" = 1
sq -c "DELETE FROM claudable_fleet.placements WHERE project_id = 'ghost'" >/dev/null
check "and nothing once they are set right" test "$(sq -c "SELECT count(*) FROM claudable_fleet_check()")" = 0

echo "# PgBouncer: one pooled endpoint for the whole fleet"
check "claudable pgbouncer-config, run against the directory, writes the entries of every server" fleet_write_pgbouncer_config
check "one [databases] entry per project, each pointing at its own server" \
    same "$(grep -c ' = host=127.0.0.1 port=' "$FLEET_DIR/pgbouncer/pgbouncer-databases.ini")" "$(sq -c "SELECT count(*) FROM claudable_fleet.placements")"
check "both files are mode 0600" \
    test "$(stat -c %a "$FLEET_DIR/pgbouncer/userlist.txt" "$FLEET_DIR/pgbouncer/pgbouncer-databases.ini")" = $'600\n600'
check "the auth file holds a SCRAM verifier on every line and none of the passwords the suite saw" \
    bash -c '[ -s "$1" ] && { grep -v "\"SCRAM-SHA-256\$4096:" "$1"; [ $? = 1 ]; } && absent_all "$2" "$1"' \
        _ "$FLEET_DIR/pgbouncer/userlist.txt" "$secrets_file"
single="$FLEET_DIR/single-server"
claudable pgbouncer-config --admin-url "postgresql://claudable_fleet:$FLEET_ROLE_PASSWORD@127.0.0.1:${NODE_PORT[a]}/meta" --out "$single" >/dev/null 2>&1
check "run against one server, it writes that server's projects" \
    same "$(grep -c ' = host=' "$single/pgbouncer-databases.ini" 2>/dev/null)" "$(nq a -d meta -c "SELECT count(*) FROM claudable.projects")"
echo "# PgBouncer for the fleet, as README's Pooled URLs sets it up: auth_query and claudable pooler-sync"
check "claudable pooler-sync starts as README's unit runs it, and writes every project's entry before PgBouncer starts" \
    fleet_start_pooler_sync
check "it runs README's command line as PgBouncer's OS user, with --auth-user and --pgbouncer-admin-url, passwords in .pgpass" \
    bash -c 'grep -q -- " --auth-user $2 " "$1" && grep -q -- " --pgbouncer-admin-url postgresql://[a-z_]*@" "$1" &&
             ! grep -q -- "://[^@ ]*:[^@ ]*@" "$1"' _ "$FLEET_DIR/pooler-sync.args" "$LOOKUP_ROLE"
check "PgBouncer starts with README's fleet pgbouncer.ini (auth_query through each server's lookup, pooler-sync's entries)" \
    fleet_start_pgbouncer_auth_query
# log_wait PATTERN [SECONDS]: pooler-sync's log has (another) line matching PATTERN.
log_count() { grep -c -- "$1" "$POOLER_SYNC_LOG"; }
log_wait() {  # PATTERN COUNT_BEFORE [SECONDS]: waits until more lines than COUNT_BEFORE match
    for _ in $(seq 1 $((${3:-10} * 10))); do
        [ "$(log_count "$1")" -gt "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
check "pooler-sync RELOADs PgBouncer once it is up (it tries again with backoff until then)" log_wait "PgBouncer reloaded" 0 15
pooler_ini="$POOLER_SYNC_OUT/pgbouncer-databases.ini"
check "one entry per project, each naming its server and the lookup role as auth_user" \
    same "$(grep -c "^app_db_[a-z0-9_]* = host=127.0.0.1 port=[0-9]* dbname=app_db_[a-z0-9_]* auth_user=$LOOKUP_ROLE pool_mode=transaction$" "$pooler_ini")" \
         "$(sq -c "SELECT count(*) FROM claudable_fleet.placements")"
check "and no verifier anywhere: no userlist.txt of projects, none in the entries file" \
    bash -c '[ ! -e "$1/userlist.txt" ] && ! grep -q SCRAM "$1/pgbouncer-databases.ini"' _ "$POOLER_SYNC_OUT"

pooled_url() { dq -c "SELECT pooled_database_url FROM claudable_provision('$1', 'owner-fleet')"; }
pooled_logins=0
projects=$(sq -c "SELECT project_id FROM claudable_fleet.placements ORDER BY project_id")
for project in $projects; do
    expected="app_u_${project//-/_} app_db_${project//-/_}"
    got=$(psql -X -A -t -F ' ' "$(pooled_url "$project")" -c 'SELECT current_user, current_database()' 2>/dev/null)
    [ "$got" = "$expected" ] && pooled_logins=$((pooled_logins + 1))
done
check "every project logs in through its pooled URL with psql ($pooled_logins of $(wc -w <<<"$projects"))" \
    test "$pooled_logins" = "$(wc -w <<<"$projects")"
check "the pooled URL differs from DATABASE_URL only in host and port" \
    test "$(dq -c "SELECT regexp_replace(pooled_database_url, '@[^/]+/', '@/') = regexp_replace(database_url, '@[^/]+/', '@/')
                   AND pooled_database_url LIKE '%@127.0.0.1:$PGBOUNCER_PORT/%' FROM claudable_provision('spread-5', 'owner-fleet')")" = t

# A login PgBouncer refuses: psql fails (2) with a FATAL; the message, masked of any password, for the log.
pooled_refused() {
    local out
    out=$(PGCONNECT_TIMEOUT=20 psql -X -At "$1" -c 'SELECT current_user' 2>&1)
    [ $? = 2 ] && [[ "$out" == *FATAL* ]]
}
export -f pooled_refused
spread1_url=$(pooled_url spread-1)
spread1_server=$(sq -c "SELECT server FROM claudable_fleet.placements WHERE project_id = 'spread-1'")
neighbour=$(sq -c "SELECT project_id FROM claudable_fleet.placements WHERE server = '$spread1_server' AND project_id <> 'spread-1' LIMIT 1")
stranger=$(sq -c "SELECT project_id FROM claudable_fleet.placements WHERE server <> '$spread1_server' LIMIT 1")
database_of() { dq -c "SELECT database_name FROM claudable_provision('$1', 'owner-fleet')"; }
check "through the pooler a project's role is refused for another project's database on its server (its lookup answers that database's own role only)" \
    pooled_refused "${spread1_url%/*}/$(database_of "$neighbour")"
check "and for one on another server, where its role does not exist" pooled_refused "${spread1_url%/*}/$(database_of "$stranger")"
wrong_password=$(psql -X -A -t "$(sed -E 's#(://[^:]+:)[^@]+@#\1wrong@#' <<<"$spread1_url")" -c 'SELECT 1' 2>&1)
check "and a wrong password is refused by PgBouncer itself" grep -q 'SASL authentication failed' <<<"$wrong_password"
spread1_password=$(sed -E 's#^postgresql://[^:]*:([^@]*)@.*#\1#' <<<"$spread1_url")
check "a client naming the lookup role (whose password is in PgBouncer's auth file) with a tenant's password is refused" \
    pooled_refused "postgresql://$LOOKUP_ROLE:$spread1_password@127.0.0.1:$PGBOUNCER_PORT/$(database_of spread-1)"
check "a project's role cannot reach the servers' metadata database through PgBouncer (no entry: refused)" \
    pooled_refused "${spread1_url%/*}/meta"

echo "# pooler-sync: a new project's pooled URL logs in once pooler-sync is notified of claudable_provision"
# pooled_lag URL: milliseconds from now (the call that returned URL has just returned) until URL
# logs in through PgBouncer, trying every 20 ms; nothing, and a failure, past 5 s. The bound
# tells a sync that a notification started from one that pooler-sync's 30 s safety net did,
# on a machine that runs other suites beside this one; how fast it is (README: within a
# second) is make bench's row 23, not a timed check here.
pooled_lag() {
    local started=${EPOCHREALTIME/./} now
    while :; do
        if [ "$(PGCONNECT_TIMEOUT=2 psql -X -At "$1" -c 'SELECT 1' 2>/dev/null)" = 1 ]; then
            now=${EPOCHREALTIME/./}
            echo $(((now - started) / 1000))
            return 0
        fi
        now=${EPOCHREALTIME/./}
        [ $(((now - started) / 1000)) -ge 5000 ] && return 1
        sleep 0.02
    done
}
new_project_lag() {  # PROJECT: provisions it through the directory, then the lag of its pooled URL
    local url
    url=$(pooled_url "$1") && [ -n "$url" ] && pooled_lag "$url"
}
notified_in_time() { [ -n "$1" ] && [ "$1" -le 5000 ]; }
changes_before=$(log_count " skipped: wrote ")
lags=()
for i in 1 2 3 4 5; do
    lag=$(new_project_lag "synced-$i")
    lags+=("${lag:-over 5000}")
    check "new project synced-$i logs in through PgBouncer within 5 s of the directory's call returning (${lag:-over 5000} ms)" \
        notified_in_time "$lag"
done
echo "# pooled login lag of 5 new projects through the directory: ${lags[*]} ms"
check "pooler-sync logged one line per change: 5 new ones, each adding one entry (+1 -0)" \
    test "$(($(log_count " skipped: wrote ") - changes_before)) $(tail -5 "$POOLER_SYNC_LOG" | grep -c '), +1 -0, 0 skipped: wrote .*; PgBouncer reloaded$')" = "5 5"
old_url=$(pooled_url synced-1)
new_url=$(dq -c "SELECT pooled_database_url FROM claudable_rotate_password('synced-1', 'owner-fleet')")
remember_secret "$(sed -E 's#^postgresql://[^:]*:([^@]*)@.*#\1#' <<<"$new_url")"
check "a rotated password logs in through PgBouncer on the first attempt after the call returns" \
    test "$(psql -X -At "$new_url" -c 'SELECT current_user' 2>/dev/null)" = app_u_synced_1
check "and the old one is refused there at once" pooled_refused "$old_url"
gone_url=$(pooled_url synced-2)
dq -c "SELECT claudable_deprovision('synced-2', 'owner-fleet')" >/dev/null
check "a deprovisioned project's pooled URL is refused at once" pooled_refused "$gone_url"
entry_gone() {
    for _ in $(seq 1 250); do
        grep -q '^app_db_synced_2 = ' "$pooler_ini" || return 0
        sleep 0.02
    done
    return 1
}
check "and its entry leaves pgbouncer-databases.ini within 5 s (the directory's deprovision notifies too)" entry_gone
# The deploy role's own session LISTENs: psql prints each notification the session gets.
notified() { psql -X -q "$DEPLOY_URL" -c "LISTEN claudable_pooler" -c "$1" -c "SELECT 1" 2>&1 | grep -c 'Asynchronous notification "claudable_pooler"'; }
check "a call that creates a project notifies claudable_pooler at its commit" \
    test "$(notified "SELECT 1 FROM claudable_provision('synced-6', 'owner-fleet')")" -ge 1
check "a warm call (the project exists and is placed) notifies nothing" \
    test "$(notified "SELECT 1 FROM claudable_provision('synced-6', 'owner-fleet')")" = 0
check "nor does a rotation (PgBouncer asks the server for the verifier at each login)" \
    test "$(notified "SELECT 1 FROM claudable_rotate_password('synced-6', 'owner-fleet')")" = 0
check "nor a call that rolls back" \
    test "$(notified "BEGIN; SELECT 1 FROM claudable_provision('rolled-back', 'owner-fleet'); ROLLBACK;")" = 0
# Its server made the project (and committed); the directory's placement rolled back. The next
# call places it there, and notifies: the pooler serves it from then on.
check "the next call for it places it on the server that holds it, and notifies" \
    test "$(notified "SELECT 1 FROM claudable_provision('rolled-back', 'owner-fleet')")" -ge 1

echo "# node-postgres through PgBouncer, with the package installed as a user installs it"
# The package as a clone has it (tracked files only: nothing built here), packed and installed.
tarball=$(node_package_tarball "$FLEET_DIR")
check "the package installs from its npm pack tarball" \
    bash -c 'cd "$1" && npm init -y >/dev/null && npm install --no-audit --no-fund "./$2" >npm-install.log 2>&1' _ "$FLEET_DIR" "$tarball"
cat >"$FLEET_DIR/pooled.mjs" <<'JS'
// Provisions a new project through the directory with the package, then logs in with
// node-postgres through PgBouncer (SCRAM-SHA-256 against the verifier its auth_query reads on
// the project's server, pass-through to it), trying every 20 ms for up to 1 s: pooler-sync
// adds the project's entry within that (README, "Pooled URLs").
import pg from 'pg';
import { provisionProjectDatabase, closeClaudablePools } from 'claudable-client';
const info = await provisionProjectDatabase('node-pooled', 'owner-fleet', { adminUrl: process.env.DEPLOY_URL });
const started = Date.now();
const shown = JSON.stringify(info);
let rows, failure;
while (!rows && Date.now() - started < 5000) {
  const client = new pg.Client({ connectionString: info.pooledDatabaseUrl });
  try {
    await client.connect();
    ({ rows } = await client.query('SELECT current_user AS who, current_database() AS db'));
  } catch (error) {
    failure = error.code || 'no code';
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await client.end().catch(() => {});
  }
}
await closeClaudablePools();
if (!rows) {
  console.log(`no login within 5 s (${failure})`);
  process.exit(1);
}
console.log([rows[0].who, rows[0].db, shown.includes(info.password) ? 'password-shown' : 'masked',
             new URL(info.pooledDatabaseUrl).port, `${Date.now() - started}ms`].join(' '));
JS
node_out=$(cd "$FLEET_DIR" && DEPLOY_URL="$DEPLOY_URL" node pooled.mjs 2>&1)
# What it printed (no secret: the script prints names, a port, a time and whether the password showed).
head -5 <<<"$node_out" | sed 's/^/# /'
check "node-postgres logs in through PgBouncer, within 5 s, with the pooledDatabaseUrl the package returns for a new project" \
    bash -c '[[ "$1" =~ ^app_u_node_pooled\ app_db_node_pooled\ masked\ $2\ [0-9]+ms$ ]]' _ "$node_out" "$PGBOUNCER_PORT"

echo "# a new project and pooler-sync's RELOAD, with clients connected"
psql -X -A -t "$spread1_url" -c 'SELECT 1' -c 'SELECT pg_sleep(4)' -c "SELECT 'still connected'" >"$FLEET_DIR/held.out" 2>&1 &
held=$!
sleep 1
reloads_before=$(log_count "PgBouncer reloaded")
lag=$(new_project_lag after-reload)
check "a new project logs in through its pooled URL within 5 s (${lag:-over 5000} ms) while a client is connected" notified_in_time "$lag"
check "after pooler-sync RELOADed PgBouncer" test "$(log_count "PgBouncer reloaded")" -gt "$reloads_before"
check "the held client is still connected (in its pg_sleep) after the RELOAD" kill -0 "$held"
wait "$held"
held_status=$?
check "and a client connected through the reload kept its connection" \
    bash -c 'test "$1" = 0 && grep -q "still connected" "$2"' _ "$held_status" "$FLEET_DIR/held.out"

echo "# pooler-sync survives PgBouncer's restart and the directory's"
reloads_not_yet=$(log_count "PgBouncer not reloaded yet")
check "PgBouncer stops" pgbouncer_stop
down_url=$(pooled_url while-pgbouncer-down)
check "a project made while PgBouncer is down is written, and pooler-sync says PgBouncer is not reloaded yet" \
    bash -c 'for _ in $(seq 1 50); do grep -q "^app_db_while_pgbouncer_down = " "$1" && break; sleep 0.1; done &&
             grep -q "^app_db_while_pgbouncer_down = " "$1"' _ "$pooler_ini"
check "pooler-sync logs that PgBouncer could not be reloaded, once" \
    log_wait "PgBouncer not reloaded yet" "$reloads_not_yet" 5
check "PgBouncer starts again with the same files" pgbouncer_start "$PGBOUNCER_INI"
lag=$(pooled_lag "$down_url")
check "that project logs in through it at once (${lag:-over 5000} ms after its start): PgBouncer read the file pooler-sync wrote" \
    notified_in_time "$lag"
lag=$(new_project_lag after-pgbouncer-restart)
check "and a new project after the restart logs in within 5 s (${lag:-over 5000} ms): pooler-sync reached the new admin console" \
    notified_in_time "$lag"
check "pooler-sync logged that PgBouncer was reloaded again" log_wait "PgBouncer reloaded after [0-9]* failed attempt" 0 1
listens_before=$(log_count "listening on channel claudable_pooler")
node_stop directory
check "while the directory is down, PgBouncer keeps serving the projects it has" \
    test "$(psql -X -At "$new_url" -c 'SELECT current_user' 2>/dev/null)" = app_u_synced_1
node_restart directory
check "pooler-sync listens on the directory again once it is back (reconnected with backoff)" \
    log_wait "listening on channel claudable_pooler" "$listens_before" 30
lag=$(new_project_lag after-directory-restart)
check "and a new project after the restart logs in within 5 s (${lag:-over 5000} ms)" notified_in_time "$lag"
check "pooler-sync is still the process the suite started" kill -0 "$POOLER_SYNC_PID"

echo "# attacks on pooler-sync"
directory_server_log="${NODE_DIR[directory]}/server.log"
syncs_in() { tail -c "+$(($1 + 1))" "$directory_server_log" | grep -c "$POOLER_ROLE@directory LOG: .*FROM claudable_fleet_pooler_entries() AS r"; }
# A tenant's own DATABASE_URL reaches its own database only: its NOTIFY reaches no listener there.
tenant_url=$(dq -c "SELECT database_url FROM claudable_provision('spread-6', 'owner-fleet')")
mark=$(stat -c %s "$directory_server_log")
flood_sql() {  # N: N notifications on claudable_pooler, one transaction each, each with a 992-byte payload
    echo "DO \$\$ BEGIN FOR i IN 1..$1 LOOP PERFORM pg_notify('claudable_pooler', repeat(md5(i::text), 31)); COMMIT; END LOOP; END \$\$"
}
check "a tenant sends 2,000 NOTIFY claudable_pooler in its own database" psql -X -q "$tenant_url" -c "$(flood_sql 2000)"
sleep 0.5
check "which cost pooler-sync no sync (at most its interval's)" test "$(syncs_in "$mark")" -le 1
# The pooler role and the deploy role may connect to the directory, so they may NOTIFY its
# channel: 10,000 notifications each, at once, with payloads; a new project in the middle.
mark=$(stat -c %s "$directory_server_log")
changes_before=$(log_count " skipped: wrote ")
flood_started=${EPOCHREALTIME/./}
PGPASSWORD=$POOLER_ROLE_PASSWORD psql -X -q -h 127.0.0.1 -p "${NODE_PORT[directory]}" -U "$POOLER_ROLE" -d directory \
    -c "$(flood_sql 10000)" >/dev/null 2>"$FLEET_DIR/flood-pooler.err" &
flood_pooler=$!
psql -X -q "$DEPLOY_URL" -c "$(flood_sql 10000)" >/dev/null 2>"$FLEET_DIR/flood-deploy.err" &
flood_deploy=$!
sleep 0.5
lag=$(new_project_lag during-flood)
wait "$flood_pooler"
flood_status=$?
wait "$flood_deploy"
flood_status="$flood_status $?"
flood_ms=$(((${EPOCHREALTIME/./} - flood_started) / 1000))
sleep 0.5
flood_syncs=$(syncs_in "$mark")
echo "# flood: 20,000 notifications (pooler role and deploy role at once) in $flood_ms ms: $flood_syncs syncs; a new project during it logged in after ${lag:-over 5000} ms"
check "the pooler role and the deploy role each send 10,000 NOTIFY claudable_pooler on the directory" test "$flood_status" = "0 0"
check "a new project made during the flood logs in within 5 s (${lag:-over 5000} ms)" notified_in_time "$lag"
check "the flood costs at most one sync per 0.2 s ($flood_syncs syncs in $flood_ms ms)" \
    test "$flood_syncs" -le $((flood_ms / 200 + 2))
check "and no change but the new project's: one line in pooler-sync's log, one RELOAD" \
    test "$(($(log_count " skipped: wrote ") - changes_before))" = 1
check "pooler-sync keeps up: it is still running and no notification is left queued on the directory" \
    bash -c 'kill -0 "$1" && [ "$(psql -X -At "$2" -c "SELECT pg_notification_queue_usage() < 0.001")" = t ]' _ "$POOLER_SYNC_PID" "$DEPLOY_URL"

# A server that returns entries no PgBouncer line may hold: a name and a host that would add
# settings of their own. Its superuser puts them into the function the directory calls there.
on_b() { nq b -d meta "$@"; }
on_b -c "ALTER FUNCTION public.claudable_pooler_entries() RENAME TO claudable_pooler_entries_real" \
     -c "CREATE FUNCTION public.claudable_pooler_entries()
         RETURNS TABLE (database_name text, username text, host text, port integer, scram_verifier text)
         LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS \$f\$
             SELECT * FROM public.claudable_pooler_entries_real()
             UNION ALL VALUES (E'app_db_evil\\nadmin_users = app_u_evil', 'app_u_evil', '127.0.0.1', 5432, ''),
                              ('app_db_evil_host', 'app_u_evil_host', '127.0.0.1 auth_user=postgres', 5432, ''),
                              ('app_db_evil = host=10.6.6.6', 'app_u_evil', '127.0.0.1', 5432, '') \$f\$" \
     -c "REVOKE ALL ON FUNCTION public.claudable_pooler_entries() FROM PUBLIC" \
     -c "GRANT EXECUTE ON FUNCTION public.claudable_pooler_entries() TO claudable_fleet" >/dev/null
log_lines_before=$(wc -l <"$POOLER_SYNC_LOG")
lag=$(new_project_lag beside-hostile)
check "with server b returning three hostile entries, a new project still logs in within 5 s (${lag:-over 5000} ms)" \
    notified_in_time "$lag"
check "pooler-sync names the hostile entries in its log as pgbouncer-config would (\"?\" for a name that is not one)" \
    bash -c 'tail -n "+$(($2 + 1))" "$1" | grep -q "skipped database \"?\" on server \"b\": it has an unusable database name" &&
             tail -n "+$(($2 + 1))" "$1" | grep -q "skipped database \"app_db_evil_host\" on server \"b\": it has an unusable host"' \
        _ "$POOLER_SYNC_LOG" "$log_lines_before"
check "and writes none of them: no evil name, no host of its own, no setting" \
    bash -c '! grep -qE "evil|10\.6\.6\.6|admin_users|auth_user=postgres" "$1" && [ "$(grep -vc "^;\|^\[databases\]$\|^app_db_[a-z0-9_]* = host=127.0.0.1 port=[0-9]* dbname=app_db_[a-z0-9_]* auth_user=[a-z_]* pool_mode=transaction$" "$1")" = 0 ]' \
        _ "$pooler_ini"
check "every other project's entry is still written" grep -q '^app_db_beside_hostile = ' "$pooler_ini"
on_b -c "DROP FUNCTION public.claudable_pooler_entries()" \
     -c "ALTER FUNCTION public.claudable_pooler_entries_real() RENAME TO claudable_pooler_entries" >/dev/null
check "pooler-sync --once, the cron form, syncs once, RELOADs PgBouncer and exits 0" \
    bash -c 'setpriv --reuid=postgres --regid=postgres --init-groups env PGPASSFILE="$1" $(cat "$2") --once >"$3" 2>&1 &&
             grep -q "^wrote [0-9]* database entries (3 servers) to .*; PgBouncer reloaded$" "$3"' \
        _ "$FLEET_DIR/pooler-sync.pgpass" "$FLEET_DIR/pooler-sync.args" "$FLEET_DIR/pooler-sync-once.out"
failed_before=$tap_failed
check "pooler-sync's log holds no URL, no verifier and no password the suite saw" \
    bash -c '! grep -qE "postgresql://|SCRAM-SHA-256\\$" "$1" && absent_all "$2" "$1" && absent "$3" "$1" && absent "$4" "$1" && absent "$5" "$1"' \
        _ "$POOLER_SYNC_LOG" "$secrets_file" "$LOOKUP_PASSWORD" "$POOLER_ROLE_PASSWORD" "$PGBOUNCER_ADMIN_PASSWORD"
if [ "$tap_failed" = "$failed_before" ]; then  # shown only once it is known to hold no secret
    echo "# pooler-sync's log ($(wc -l <"$POOLER_SYNC_LOG") lines), for example:"
    { grep -m1 ', +1 -0, ' "$POOLER_SYNC_LOG"; grep -m1 'could not be reloaded' "$POOLER_SYNC_LOG"
      grep -m1 'skipped database "?"' "$POOLER_SYNC_LOG"; } | sed 's/^/#   /'
fi

echo "# deprovision through the directory"
check "claudable_deprovision is routed to the project's server and drops the placement" \
    test "$(dq -c "SELECT claudable_deprovision('drained-1', 'owner-fleet')") $(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id = 'drained-1'") $(nq a -d meta -c "SELECT count(*) FROM claudable.projects WHERE project_id = 'drained-1'")" = "t 0 0"

# ---- issue 19: cancelled first calls, a duplicate made by hand, restarts, lookup errors ----
# Helpers on a server, as its superuser: the test fault point (test builds only) armed for the
# role the directory logs in as there, so that the directory's next connection's provisioning
# worker waits before its reservation, and a session holding the lock that worker waits for.
fault_lock=$((0x636c6402))
on_server() { local name=$1; shift; nq "$name" -d meta "$@"; }
wait_on() {  # NODE DATABASE QUERY: polls until QUERY returns a row (30 s at most)
    for _ in $(seq 1 300); do
        [ -n "$(nq "$1" -d "$2" -c "$3" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}
arm_fault_point() {  # SERVER POINT
    on_server "$1" -c "ALTER ROLE claudable_fleet SET claudable.fault_point = '$2'" >/dev/null
}
disarm_fault_point() { on_server "$1" -c "ALTER ROLE claudable_fleet RESET claudable.fault_point" >/dev/null; }
hold_fault_lock() {  # SERVER
    on_server "$1" -c "SELECT pg_advisory_lock($fault_lock, 0)" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
    fault_lock_holder=$!
    wait_on "$1" meta "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $fault_lock AND objid = 0 AND granted"
}
release_fault_lock() {  # SERVER
    on_server "$1" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE query LIKE 'SELECT pg_sleep(120)%' AND pid <> pg_backend_pid()" >/dev/null
    wait "$fault_lock_holder" 2>/dev/null
}
parked_at() {  # SERVER POINT: a worker there waits at that fault point
    wait_on "$1" meta "SELECT 1 FROM pg_stat_activity WHERE query = 'claudable: fault point $2'"
}
# SERVER...: only these servers take new projects.
only_accepting() {
    local name
    for name in a b c; do
        if [[ " $* " == *" $name "* ]]; then sq -c "SELECT claudable_fleet_resume_server('$name')" >/dev/null
        else sq -c "SELECT claudable_fleet_drain_server('$name')" >/dev/null; fi
    done
}
# The servers where PROJECT is ready, in name order ("a c": two copies).
ready_on() {
    local name found=()
    for name in a b c; do
        [ "$(on_server "$name" -c "SELECT count(*) FROM claudable.projects WHERE project_id = '$1' AND status = 'ready'")" = 1 ] &&
            found+=("$name")
    done
    echo "${found[*]}"
}
placed_on() { sq -c "SELECT server FROM claudable_fleet.placements WHERE project_id = '$1'"; }
port_of() { [ -n "$1" ] && echo "${NODE_PORT[$1]:-}"; }  # SERVER: its port (nothing for no server)
# No record, role or database of PROJECT on SERVER.
holds_nothing() {  # SERVER PROJECT
    test "$(on_server "$1" -c "SELECT (SELECT count(*) FROM claudable.projects WHERE project_id = '$2')
                                    + (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_${2//-/_}')
                                    + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_${2//-/_}')")" = 0
}
# SERVER PROJECT: the late worker of PROJECT's cancelled first call finished there, refused
# with 55000 because the server had answered the directory's lookup after that call began.
late_worker_refused() {
    wait_on "$1" meta "SELECT 1 FROM claudable.events WHERE project_id = '$2' AND action = 'provision' AND outcome = 'failed'
                        AND detail LIKE '55000: claudable: project \"$2\" was not created: after this call began, a fleet directory was told%'"
}

echo "# a first call cancelled while its server's worker is still queued, then a retry elsewhere (issue 19)"
# The first call goes to a (the only accepting server), whose worker parks before its
# reservation; the deploy role's call then ends three ways: its statement_timeout, its own
# pg_cancel_backend, its client killed. Each time a is drained and the call made again; then
# a's worker goes on. Whatever the order, the project ends up ready on one server only.
only_accepting a
arm_fault_point a before_reservation
hold_fault_lock a
timed_out=$(dq -v VERBOSITY=verbose -c "SET statement_timeout = '2s'" \
               -c "SELECT created FROM claudable_provision('late-timeout', 'owner-fleet')" 2>&1 >/dev/null)
parked=no; parked_at a before_reservation && parked=yes
check "a first call through the directory ends with its statement_timeout (57014) while a's worker waits before its reservation" \
    bash -c '[[ "$1" == *"ERROR:  57014:"* ]] && [ "$2" = yes ]' _ "$timed_out" "$parked"
check "and leaves no placement" test "$(placed_on late-timeout)" = ""
disarm_fault_point a
only_accepting b c
retry=$(dq -F ' ' -c "SELECT created, port FROM claudable_provision('late-timeout', 'owner-fleet')")
retry_server=$(placed_on late-timeout)
check "a is drained: the call made again is placed on another server and creates the project there" \
    bash -c '[ -n "$2" ] && [ "$2" != a ] && [ "$1" = "t $3" ]' _ "$retry" "$retry_server" "$(port_of "$retry_server")"
release_fault_lock a
check "once a's worker goes on, it refuses (55000): a had told the directory it does not hold the project" \
    late_worker_refused a late-timeout
check "a holds no record, role or database of the project" holds_nothing a late-timeout
check "the project is ready on exactly one server, the one it is placed on" test "$(ready_on late-timeout)" = "$retry_server"

only_accepting a
arm_fault_point a before_reservation
hold_fault_lock a
dq -v VERBOSITY=verbose -c "SELECT created FROM claudable_provision('late-cancel', 'owner-fleet')" >/dev/null 2>"$FLEET_DIR/late-cancel.err" &
first_call=$!
parked_at a before_reservation
# The deploy role cancels its own call from another session (pg_cancel_backend is allowed on
# one's own sessions).
cancelled=$(dq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
                    WHERE usename = current_user AND pid <> pg_backend_pid() AND query LIKE '%late-cancel%'")
wait "$first_call"
check "a first call the deploy role cancels with pg_cancel_backend while a's worker waits ends with 57014" \
    bash -c '[ "$1" = t ] && grep -q "^ERROR:  57014: canceling statement due to user request" "$2"' _ "$cancelled" "$FLEET_DIR/late-cancel.err"
disarm_fault_point a
only_accepting b c
retry=$(dq -F ' ' -c "SELECT created, port FROM claudable_provision('late-cancel', 'owner-fleet')")
retry_server=$(placed_on late-cancel)
check "a is drained: the call made again is placed on another server and creates the project there" \
    bash -c '[ -n "$2" ] && [ "$2" != a ] && [ "$1" = "t $3" ]' _ "$retry" "$retry_server" "$(port_of "$retry_server")"
release_fault_lock a
check "once a's worker goes on, it refuses (55000)" late_worker_refused a late-cancel
check "a holds no record, role or database of the project" holds_nothing a late-cancel
check "the project is ready on exactly one server, the one it is placed on" test "$(ready_on late-cancel)" = "$retry_server"

only_accepting a
arm_fault_point a before_reservation
hold_fault_lock a
# psql itself in the background (not through dq), so that $! is the client to kill.
psql -X -q -A -t "$DEPLOY_URL" -c "SELECT created FROM claudable_provision('late-gone', 'owner-fleet')" >/dev/null 2>&1 &
first_call=$!
parked_at a before_reservation
# The deploy service dies: its connection closes without a word. Its directory session does
# not notice while it waits for a, and keeps its placement, not committed.
kill -KILL "$first_call"
wait "$first_call" 2>/dev/null
check "a first call whose client is killed while a's worker waits stays in its call in the directory" \
    wait_on directory directory "SELECT 1 FROM pg_stat_activity WHERE usename = 'deploy' AND state = 'active' AND query LIKE '%late-gone%'"
disarm_fault_point a
only_accepting b c
dq -F ' ' -c "SELECT created, port FROM claudable_provision('late-gone', 'owner-fleet')" >"$FLEET_DIR/late-gone.out" 2>&1 &
retry_call=$!
check "the call made again after a is drained waits for that one to end, before it asks any server" \
    wait_on directory directory "SELECT 1 FROM pg_stat_activity WHERE usename = 'deploy' AND wait_event_type = 'Lock' AND query LIKE '%late-gone%'"
release_fault_lock a
wait "$retry_call"
check "once a's worker goes on, the vanished call completes on a and the call made again returns that copy, though a is drained" \
    test "$(cat "$FLEET_DIR/late-gone.out") $(placed_on late-gone)" = "f ${NODE_PORT[a]} a"
check "the project is ready on exactly one server, the one it is placed on" test "$(ready_on late-gone)" = a

# Two first calls for one project at once: the second waits for the first before it asks any
# server, so its lookup never tells a "not here" while the first one's worker is on its way.
only_accepting a
arm_fault_point a before_reservation
hold_fault_lock a
dq -F ' ' -c "SELECT created, port FROM claudable_provision('together', 'owner-fleet')" >"$FLEET_DIR/together-1.out" 2>&1 &
together_first=$!
parked_at a before_reservation
disarm_fault_point a
dq -F ' ' -c "SELECT created, port FROM claudable_provision('together', 'owner-fleet')" >"$FLEET_DIR/together-2.out" 2>&1 &
together_second=$!
check "a second first call for a project whose first call's worker is queued on a waits for it" \
    wait_on directory directory "SELECT 1 FROM pg_stat_activity WHERE usename = 'deploy' AND wait_event_type = 'Lock' AND query LIKE '%together%'"
release_fault_lock a
wait "$together_first" "$together_second"
check "then the first creates the project on a and the second returns it: a never refused the first (55000)" \
    test "$(cat "$FLEET_DIR/together-1.out")|$(cat "$FLEET_DIR/together-2.out")|$(on_server a -c "SELECT count(*) FROM claudable.events
            WHERE project_id = 'together' AND outcome = 'failed'")" = "t ${NODE_PORT[a]}|f ${NODE_PORT[a]}|0"
only_accepting a b c

echo "# one project on two servers, made by hand: reported, and left out of PgBouncer's files"
# A superuser on a and on b provisions the same project on each, past the directory.
on_server a -c "SELECT 1 FROM claudable_provision('twin', 'owner-fleet')" >/dev/null
on_server b -c "SELECT 1 FROM claudable_provision('twin', 'owner-fleet')" >/dev/null
twin_findings() {
    sq -c "SELECT string_agg(server, ' ' ORDER BY server) FROM claudable_fleet_check()
            WHERE object = 'project twin' AND severity = 'error' AND problem LIKE 'held by this server and also by server %'"
}
check "claudable_fleet_check() reports it as held by two servers, on each of them" test "$(twin_findings)" = "a b"
check "and does not offer to record either copy as the placement" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check() WHERE object = 'project twin' AND problem LIKE '%INSERT%'")" = 0
dq -c "SELECT 1 FROM claudable_provision('twin', 'owner-fleet')" >/dev/null
check "once a call through the directory places it (on a, the first that holds it), it still reports both copies" \
    test "$(placed_on twin) $(twin_findings)" = "a a b"
twin_out="$FLEET_DIR/pgbouncer-twin"
claudable pgbouncer-config --admin-url "$POOLER_ADMIN_URL" --out "$twin_out" >/dev/null 2>"$FLEET_DIR/twin.err"
twin_status=$?
check "claudable pgbouncer-config then exits 8" test "$twin_status" = 8
check "it names the database on stderr with each server that has it" \
    bash -c 'grep -q "^claudable: pgbouncer-config skipped database \"app_db_twin\" on server \"a\": it has a database name that server \"b\" also has" "$1" &&
             grep -q "^claudable: pgbouncer-config skipped database \"app_db_twin\" on server \"b\": it has a database name that server \"a\" also has" "$1"' \
        _ "$FLEET_DIR/twin.err"
check "and no verifier" bash -c '[ -s "$1" ] && ! grep -q "SCRAM-SHA-256" "$1"' _ "$FLEET_DIR/twin.err"
check "it leaves both copies out: no entry for the database, no line for its role" \
    bash -c '[ -s "$1/pgbouncer-databases.ini" ] && [ -s "$1/userlist.txt" ] &&
             ! grep -q "app_db_twin" "$1/pgbouncer-databases.ini" && ! grep -q "app_u_twin" "$1/userlist.txt"' _ "$twin_out"
check "and writes every other project's entry" \
    same "$(sed -n 's/^\(app_db_[a-z0-9_]*\) = host=.*/\1/p' "$twin_out/pgbouncer-databases.ini" | LC_ALL=C sort | tr '\n' ' ')" \
         "$(sq -c "SELECT database_name FROM claudable_fleet_pooler_entries() WHERE database_name <> 'app_db_twin' ORDER BY database_name COLLATE \"C\"" | tr '\n' ' ')"
# The copy the directory does not route to is removed on its server; the report clears.
on_server b -c "SELECT claudable_deprovision('twin', 'owner-fleet')" >/dev/null
check "once the copy on b is removed, claudable_fleet_check() reports nothing about the project" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check() WHERE object = 'project twin'")" = 0

echo "# a server restarted under the directory's cached connections (issue 19)"
# One session keeps the connections PL/Proxy opened, calls, has a restarted in between (fast
# shutdown: its sessions get 57P01), and calls again within PL/Proxy's 2 s, so that the cached
# connection is written on as it is. The directory notes in its log each call it makes again.
restart_a="$FLEET_DIR/restart-a.sh"
cat >"$restart_a" <<SH
runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "${NODE_DIR[a]}/data" -m fast -w -t 60 stop >/dev/null &&
runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "${NODE_DIR[a]}/data" -l "${NODE_DIR[a]}/server.log" -w -t 60 start >/dev/null
SH
directory_log="${NODE_DIR[directory]}/server.log"
log_since() { tail -c "+$(($1 + 1))" "$directory_log"; }  # OFFSET: what the directory logged after it
# session URL SQL-BEFORE SQL-AFTER: both statements' output, a restarted between them.
across_restart() {
    { echo '\set VERBOSITY verbose'; echo "$2"; echo "\\! bash $restart_a"; echo "$3"; } | psql -X -q -A -t "$1" 2>&1
}
made_again() {  # OFFSET CALL: "yes" if the directory logged that it made CALL on server a once more after a 57P01
    log_since "$1" | grep -qF "claudable fleet: the connection to server \"a\" was lost (57P01) during $2; it is made once more" &&
        echo yes
}
two_lines() { printf '%s\n%s' "$1" "$2"; }
project_on_a=$(sq -c "SELECT project_id FROM claudable_fleet.placements WHERE server = 'a' ORDER BY project_id LIMIT 1")
mark=$(stat -c %s "$directory_log")
out=$(across_restart "$DEPLOY_URL" "SELECT port FROM claudable_provision('$project_on_a', 'owner-fleet');" \
                     "SELECT port FROM claudable_provision('$project_on_a', 'owner-fleet');")
check "after a restarts, the session's next claudable_provision succeeds: made once more on a new connection after its 57P01" \
    test "$out|$(made_again "$mark" claudable_provision)" = "$(two_lines "${NODE_PORT[a]}" "${NODE_PORT[a]}")|yes"
mark=$(stat -c %s "$directory_log")
out=$(across_restart "$DEPLOY_URL" "SELECT port FROM claudable_provision('$project_on_a', 'owner-fleet');" \
                     "SELECT created FROM claudable_provision('after-restart', 'owner-fleet');")
check "and its next first call succeeds: the lookup on a is made once more after its 57P01" \
    test "$out|$(made_again "$mark" "claudable_databases(project_id)")" = "$(two_lines "${NODE_PORT[a]}" t)|yes"
mark=$(stat -c %s "$directory_log")
entries=$(sq -c "SELECT count(*) FROM claudable_fleet_pooler_entries()")
out=$(across_restart "$POOLER_ADMIN_URL" "SELECT count(*) FROM claudable_fleet_pooler_entries();" \
                     "SELECT count(*) FROM claudable_fleet_pooler_entries();")
check "the pooler role's next listing of the pooler entries returns every entry: made once more after a's 57P01" \
    test "$out|$(made_again "$mark" "claudable_pooler_entries()")" = "$(two_lines "$entries" "$entries")|yes"
mark=$(stat -c %s "$directory_log")
rotations() { on_server a -c "SELECT count(*) FROM claudable.events WHERE project_id = '$project_on_a' AND action = 'rotate'"; }
rotations_before=$(rotations)
out=$(across_restart "$DEPLOY_URL" "SELECT port FROM claudable_provision('$project_on_a', 'owner-fleet');" \
                     "SELECT port FROM claudable_rotate_password('$project_on_a', 'owner-fleet');")
check "the session's next rotation succeeds, sent once: the directory's check of the cached connection found it ended" \
    test "$out|$(rotations)|$(made_again "$mark" "a check of its connection")" = \
         "$(two_lines "${NODE_PORT[a]}" "${NODE_PORT[a]}")|$((rotations_before + 1))|yes"
remember_secret "$(password_of "$project_on_a")"

# A deprovision whose connection the server ends while it runs is not sent again: its
# worker on a waits (fault point deprovision_marked), and a terminates the directory's session.
victim=$(sq -c "SELECT project_id FROM claudable_fleet.placements WHERE server = 'a' ORDER BY project_id DESC LIMIT 1")
arm_fault_point a deprovision_marked
hold_fault_lock a
a_log="${NODE_DIR[a]}/server.log"
a_mark=$(stat -c %s "$a_log")
dq -v VERBOSITY=verbose -c "SELECT claudable_deprovision('$victim', 'owner-fleet')" >/dev/null 2>"$FLEET_DIR/victim.err" &
deprovision_call=$!
parked_at a deprovision_marked
on_server a -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'claudable_fleet' AND backend_type = 'client backend'" >/dev/null
wait "$deprovision_call"
disarm_fault_point a
check "a deprovision whose session on a is terminated while it runs fails with 08006 naming a (it may have run)" \
    grep -q '^ERROR:  08006: claudable fleet: the connection to server "a" broke during the call' "$FLEET_DIR/victim.err"
check "and was sent to a once, never again" \
    test "$(tail -c "+$((a_mark + 1))" "$a_log" | grep -c 'claudable_fleet@meta LOG:  execute .*claudable_deprovision')" = 1
release_fault_lock a
wait_on a meta "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE 'claudable: fault point%')"
dq -c "SELECT claudable_deprovision('$victim', 'owner-fleet')" >/dev/null 2>&1  # the placement pointed at nothing

echo "# a server whose lookup fails (issue 19)"
# EXECUTE on claudable_databases(text) revoked on a: a cannot answer a first call's lookup.
on_server a -c "REVOKE EXECUTE ON FUNCTION claudable_databases(text) FROM claudable_fleet" >/dev/null
unanswered=$(dq -v VERBOSITY=verbose -c "SELECT claudable_provision('while-a-refuses', 'owner-fleet')" 2>&1 >/dev/null)
check "a first call while a's lookup fails is refused with 08001 naming a" \
    grep -q '^ERROR:  08001: claudable fleet: server "a" could not be asked whether it holds project "while-a-refuses", so it was placed on no server$' <<<"$unanswered"
check "with a's own error as the cause" grep -q '^DETAIL:  server "a": 42501: permission denied for function claudable_databases' <<<"$unanswered"
check "and is placed nowhere and created on no server" \
    test "$(placed_on while-a-refuses)|$(ready_on while-a-refuses)" = "|"
on_server c -c "SELECT 1 FROM claudable_provision('held-by-c', 'owner-fleet')" >/dev/null
check "a first call for a project c already holds is placed on c: a, which cannot answer, is only passed over" \
    test "$(dq -F ' ' -c "SELECT created, port FROM claudable_provision('held-by-c', 'owner-fleet')") $(placed_on held-by-c)" = "f ${NODE_PORT[c]} c"
on_server a -c "GRANT EXECUTE ON FUNCTION claudable_databases(text) TO claudable_fleet" >/dev/null
check "once a answers again, the refused first call is placed" \
    test "$(dq -c "SELECT created FROM claudable_provision('while-a-refuses', 'owner-fleet')")" = t
check "and the fleet is consistent again: claudable_fleet_check() finds nothing" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check()")" = 0

echo "# a server gone for good, retired by hand as README prints it"
node_stop c
gone=$(dq -v VERBOSITY=verbose -c "SELECT claudable_provision('after-c', 'owner-fleet')" 2>&1 >/dev/null)
check "while c is down, a first call is refused with 08001 naming c" \
    grep -q '^ERROR:  08001: claudable fleet: server "c" could not be asked whether it holds project "after-c"' <<<"$gone"
readme_sql_after "<!-- readme-example: fleet-retire-server -->" >"$FLEET_DIR/retire.sql"
retired=no
grep -q "DROP SERVER" "$FLEET_DIR/retire.sql" && sq -v ON_ERROR_STOP=1 -f "$FLEET_DIR/retire.sql" >/dev/null 2>&1 && retired=yes
check "README's statements retire it: no placement, row, SQL/MED server or user mapping of c is left" \
    test "$retired $(sq -c "SELECT (SELECT count(*) FROM claudable_fleet.placements WHERE server = 'c')
                              + (SELECT count(*) FROM claudable_fleet.server_registry WHERE name = 'c')
                              + (SELECT count(*) FROM pg_foreign_server WHERE srvname = 'claudable_fleet_c')
                              + (SELECT count(*) FROM pg_user_mappings WHERE srvname = 'claudable_fleet_c')")" = "yes 0"
after_c="$(dq -c "SELECT created FROM claudable_provision('after-c', 'owner-fleet')") $(placed_on after-c)"
check "then the first call is placed on another server" bash -c '[[ "$1" =~ ^t\ [ab]$ ]]' _ "$after_c"

echo "# README's fleet examples, run as printed (the add-server one with this machine's address)"
node_start readme "log_statement = 'all'" >/dev/null || exit 1
readme_example() { readme_sql_after "<!-- readme-example: $1 -->"; }
nq readme -c "CREATE DATABASE meta" >/dev/null && nq readme -d meta -c "CREATE EXTENSION claudable" >/dev/null
run_example() { readme_example "$1" | grep -q . && readme_example "$1" | nq readme -d "$2" -f -; }
check "the directory example runs as printed" run_example fleet-directory postgres
check "the server role example runs as printed" run_example fleet-server meta
readme_password=$(random_password)
remember_secret "$readme_password"
without_statement_log readme meta <<<"ALTER ROLE claudable_fleet PASSWORD '$readme_password';"
readme_example fleet-add-server |
    sed -e "s/host=10.0.0.7 port=5432/host=127.0.0.1 port=${NODE_PORT[readme]}/" -e "s/password=\.\.\./password=$readme_password/" \
    >"$FLEET_DIR/add-server.sql"
check "the add-server example adds the server" nq readme -d directory -f "$FLEET_DIR/add-server.sql"
check "and the directory it sets up provisions through it" \
    test "$(nq readme -d directory -c "SELECT created FROM claudable_provision('readme-fleet', 'owner-fleet')")" = t

echo "# snapshots, restore and branches through the directory (claudable 0.7.0, claudable_fleet 0.4.0)"
# The deploy role calls each function as it calls claudable_provision (EXECUTE on the
# directory's functions only); the server each call lands on is read there, as its superuser.
on_both() { echo "$(on_server a -c "$1") $(on_server b -c "$1")"; }  # SQL: its answer on a, then on b
provision_on_server() {  # SERVER PROJECT: the project's first call through the directory, with only SERVER accepting
    local other=$([ "$1" = a ] && echo b || echo a)
    sq -c "SELECT claudable_fleet_drain_server('$other')" >/dev/null
    dq -c "SELECT 1 FROM claudable_provision('$2', 'owner-fleet')" >/dev/null
    sq -c "SELECT claudable_fleet_resume_server('$other')" >/dev/null
    placed_on "$2"
}
url_of() { dq -c "SELECT database_url FROM claudable_provision('$1', 'owner-fleet')"; }
in_project() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$(url_of "$1")" -c "$2"; }  # PROJECT SQL: as the project's own role
new_functions="('claudable_snapshot', 'claudable_snapshots', 'claudable_restore', 'claudable_drop_snapshot', 'claudable_branch')"
signature_sql="SELECT string_agg(p.proname || '(' || pg_get_function_arguments(p.oid) || ') ' || p.prosecdef || ' '
                                 || coalesce(p.proconfig::text, '-'), '; ' ORDER BY p.proname)
                 FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname IN $new_functions"
check "claudable_snapshot, claudable_snapshots, claudable_restore, claudable_drop_snapshot and claudable_branch have the server's arguments, defaults, SECURITY DEFINER and search_path" \
    same "$(sq -c "$signature_sql")" "$(on_server a -c "$signature_sql")"
columns_sql() { echo "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute
                      WHERE attrelid = '$1'::regclass AND attnum > 0"; }
check "claudable_snapshot and claudable_snapshots return the server's columns, in the same order" \
    same "$(sq -c "$(columns_sql claudable_fleet.snapshot)")" "$(on_server a -c "$(columns_sql claudable.snapshot)")"

check "a project made while a is drained is placed on b" test "$(provision_on_server b fork-b)" = b
remember_secret "$(password_of fork-b)"
in_project fork-b "CREATE TABLE t (n integer); INSERT INTO t VALUES (1)" >/dev/null
first_snap=$(dq -F ' ' -c "SELECT snapshot_id, project_id, label FROM claudable_snapshot('fork-b', 'owner-fleet', 'one row')")
first_snap_id=${first_snap%% *}
check "claudable_snapshot through the directory returns the server's row: a snapshot id, the project, the label" \
    bash -c '[[ "$1" =~ ^snap-[0-9a-f]{12}\ fork-b\ one\ row$ ]]' _ "$first_snap"
check "and the snapshot is taken on the project's server, b, not on a" \
    test "$(on_both "SELECT count(*) FROM claudable.snapshots WHERE snapshot_id = '$first_snap_id' AND project_id = 'fork-b'")" = "0 1"
in_project fork-b "INSERT INTO t VALUES (2)" >/dev/null
second_snap_id=$(dq -c "SELECT snapshot_id FROM claudable_snapshot('fork-b', 'owner-fleet')")
in_project fork-b "INSERT INTO t VALUES (3)" >/dev/null
listed=$(dq -c "SELECT snapshot_id, label, size_bytes, created_at FROM claudable_snapshots('fork-b', 'owner-fleet')")
check "claudable_snapshots through the directory returns b's list, newest first" \
    bash -c '[ "$1" = "$2" ] && [ "$(cut -d"|" -f1 <<<"$1" | tr "\n" " ")" = "$3 $4 " ]' _ "$listed" \
        "$(on_server b -c "SELECT snapshot_id, label, size_bytes, created_at FROM claudable_snapshots('fork-b', 'owner-fleet')")" \
        "$second_snap_id" "$first_snap_id"
before_restore=$(dq -F ' ' -c "SELECT port, md5(password), md5(database_url) FROM claudable_provision('fork-b', 'owner-fleet')")
restored=$(dq -F ' ' -c "SELECT created, port, md5(password), md5(database_url) FROM claudable_restore('fork-b', 'owner-fleet', '$first_snap_id')")
check "claudable_restore through the directory restores on b: the project's database holds what it held at the snapshot" \
    test "$(in_project fork-b "SELECT string_agg(n::text, ',' ORDER BY n) FROM t")" = 1
check "and returns created = false with b's port, the same password and the same URL" test "$restored" = "f $before_restore"
check "the state before the restore is kept on b as a new snapshot, labelled after the one restored" \
    test "$(on_both "SELECT count(*) FROM claudable.snapshots WHERE project_id = 'fork-b' AND label = 'before restore of $first_snap_id'")" = "0 1"
check "claudable_drop_snapshot through the directory drops the snapshot on b and returns true" \
    test "$(dq -c "SELECT claudable_drop_snapshot('fork-b', 'owner-fleet', '$second_snap_id')") $(on_server b -c "SELECT count(*) FROM claudable.snapshots WHERE snapshot_id = '$second_snap_id'")" = "t 0"
check "and returns false for a snapshot the project does not have (any more)" \
    test "$(dq -c "SELECT claudable_drop_snapshot('fork-b', 'owner-fleet', '$second_snap_id')")" = f
check "a snapshot of a project on a is taken on a" \
    bash -c '[ "$1" = a ] && [ "$3" = "1 0" ]' _ "$(provision_on_server a fork-a)" \
        "$(dq -c "SELECT 1 FROM claudable_snapshot('fork-a', 'owner-fleet')")" \
        "$(on_both "SELECT count(*) FROM claudable.snapshots WHERE project_id = 'fork-a'")"

echo "# refusals of the snapshot and branch calls are the server's, with its SQLSTATE"
check "claudable_snapshot with another owner_id: 42501" test "$(sqlstate_of "SELECT claudable_snapshot('fork-b', 'intruder')")" = 42501
check "claudable_snapshots with another owner_id: 42501" test "$(sqlstate_of "SELECT claudable_snapshots('fork-b', 'intruder')")" = 42501
check "claudable_restore with another owner_id: 42501" \
    test "$(sqlstate_of "SELECT claudable_restore('fork-b', 'intruder', '$first_snap_id')")" = 42501
check "claudable_drop_snapshot with another owner_id: 42501" \
    test "$(sqlstate_of "SELECT claudable_drop_snapshot('fork-b', 'intruder', '$first_snap_id')")" = 42501
check "claudable_branch with another owner_id: 42501, and no placement of the branch" \
    test "$(sqlstate_of "SELECT claudable_branch('fork-b', 'intruder', 'theirs')")|$(placed_on 'fork-b~theirs')" = "42501|"
refusal_lines() { grep -E '^(ERROR|DETAIL|HINT):'; }
check "the refusal's message, detail and hint are b's own, unwrapped" \
    same "$(error_of "SELECT claudable_snapshot('fork-b', 'intruder')" | refusal_lines)" \
         "$(on_server b -c "SELECT claudable_snapshot('fork-b', 'intruder')" 2>&1 >/dev/null | refusal_lines)"
check "claudable_restore of a snapshot the project does not have: P0002" \
    test "$(sqlstate_of "SELECT claudable_restore('fork-b', 'owner-fleet', 'snap-000000000000')")" = P0002
check "a snapshot of a project the directory has not placed: P0002" \
    test "$(sqlstate_of "SELECT claudable_snapshot('nobody', 'owner-fleet')")" = P0002
check "claudable_branch of a project the directory has not placed: P0002, and no placement" \
    test "$(sqlstate_of "SELECT claudable_branch('nobody', 'owner-fleet', 'x')")|$(placed_on 'nobody~x')" = "P0002|"
check "an invalid branch_id: the server's 22023, and no placement" \
    test "$(sqlstate_of "SELECT claudable_branch('fork-b', 'owner-fleet', 'bad id!')")|$(placed_on 'fork-b~bad id!')" = "22023|"
check "a NULL branch_id: 22023, as on a server" \
    test "$(sqlstate_of "SELECT claudable_branch('fork-b', 'owner-fleet', NULL)") $(on_server b -v VERBOSITY=verbose -c "SELECT claudable_branch('fork-b', 'owner-fleet', NULL)" 2>&1 >/dev/null | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p')" = "22023 22023"

echo "# branches: made on the parent's server, placed there, routed there"
branch=$(dq -F ' ' -c "SELECT project_id, created, port FROM claudable_branch('fork-b', 'owner-fleet', 'pr-1')")
check "claudable_branch through the directory creates the branch on the parent's server, b" \
    test "$branch|$(on_both "SELECT count(*) FROM claudable.projects WHERE project_id = 'fork-b~pr-1' AND parent_project_id = 'fork-b'")" = \
         "fork-b~pr-1 t ${NODE_PORT[b]}|0 1"
check "and places it on b" test "$(placed_on 'fork-b~pr-1')" = b
branch_password=$(password_of 'fork-b~pr-1')
remember_secret "$branch_password"
check "its DATABASE_URL logs in to its own database as its own role, with the parent's rows (source 'current')" \
    same "$(in_project 'fork-b~pr-1' "SELECT current_user || ' ' || current_database() || ' ' || string_agg(n::text, ',') FROM t")" \
         "$(dq -c "SELECT username || ' ' || database_name || ' 1' FROM claudable_provision('fork-b~pr-1', 'owner-fleet')")"
check "a second claudable_branch with that branch_id returns the branch: created = false, the same password" \
    same "$(dq -F ' ' -c "SELECT created, password FROM claudable_branch('fork-b', 'owner-fleet', 'pr-1', 'empty')")" "f $branch_password"
check "claudable_provision of the branch's id goes to b: created = false, the branch's password" \
    same "$(dq -F ' ' -c "SELECT created, port, password FROM claudable_provision('fork-b~pr-1', 'owner-fleet')")" \
         "f ${NODE_PORT[b]} $branch_password"
rotated=$(dq -F ' ' -c "SELECT port, database_url FROM claudable_rotate_password('fork-b~pr-1', 'owner-fleet')")
remember_secret "$(sed -E 's#^.*://[^:]*:([^@]*)@.*#\1#' <<<"$rotated")"
check "claudable_rotate_password of the branch's id goes to b, and its new password logs in" \
    bash -c '[ "${1%% *}" = "$2" ] && [ "$(psql -X -At "${1#* }" -c "SELECT 1")" = 1 ]' _ "$rotated" "${NODE_PORT[b]}"
check "claudable_snapshot of the branch's id takes the snapshot on b" \
    bash -c '[ -n "$1" ] && [ "$2" = "0 1" ]' _ "$(dq -c "SELECT snapshot_id FROM claudable_snapshot('fork-b~pr-1', 'owner-fleet')")" \
        "$(on_both "SELECT count(*) FROM claudable.snapshots WHERE project_id = 'fork-b~pr-1'")"
check "claudable_snapshots of the branch's id lists it from b" \
    test "$(dq -c "SELECT count(*) FROM claudable_snapshots('fork-b~pr-1', 'owner-fleet')")" = 1
check "a branch made from a snapshot (source = its snapshot_id) holds the snapshot's rows" \
    test "$(dq -c "SELECT created FROM claudable_branch('fork-b', 'owner-fleet', 'from-snap', '$first_snap_id')")|$(in_project 'fork-b~from-snap' "SELECT count(*) FROM t")" = "t|1"
check "claudable_branch of a branch: the server's 0A000, and no placement" \
    test "$(sqlstate_of "SELECT claudable_branch('fork-b~pr-1', 'owner-fleet', 'deeper')")|$(placed_on 'fork-b~pr-1~deeper')" = "0A000|"
check "claudable_fleet.databases lists the branch on b (b's claudable.databases has four more columns than the directory reads)" \
    test "$(sq -c "SELECT server FROM claudable_fleet.databases WHERE project_id = 'fork-b~pr-1'")" = b
check "claudable_fleet_pooler_entries() has the branch's database, on b" \
    test "$(sq -c "SELECT e.server FROM claudable_fleet_pooler_entries() e
                    JOIN claudable_fleet.databases d ON d.database_name = e.database_name WHERE d.project_id = 'fork-b~pr-1'")" = b
check "claudable_fleet_check() finds nothing wrong with these parents and branches" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check() WHERE object LIKE 'project fork%'")" = 0
sq -c "DELETE FROM claudable_fleet.placements WHERE project_id = 'fork-b~from-snap'" >/dev/null
check "a branch whose placement was lost is placed back on b by the next claudable_provision of its id (a first call: its lookup asks for branch ids too)" \
    test "$(dq -c "SELECT created FROM claudable_provision('fork-b~from-snap', 'owner-fleet')") $(placed_on 'fork-b~from-snap')" = "f b"

echo "# branches and pooler-sync"
# SQL: how many notifications on claudable_pooler the deploy role's session got for it, or
# "failed" when SQL failed (a call that fails notifies nothing, which proves nothing).
notified_by() {
    local out
    out=$(psql -X -q -v ON_ERROR_STOP=1 "$DEPLOY_URL" -c "LISTEN claudable_pooler" -c "$1" -c "SELECT 1" 2>&1) || { echo failed; return; }
    grep -c 'Asynchronous notification "claudable_pooler"' <<<"$out"
}
check "a new branch notifies claudable_pooler" \
    test "$(notified_by "SELECT 1 FROM claudable_branch('fork-b', 'owner-fleet', 'pr-2')")" -ge 1
check "claudable_branch of an existing branch notifies nothing" \
    test "$(notified_by "SELECT 1 FROM claudable_branch('fork-b', 'owner-fleet', 'pr-2')")" = 0
check "nor does a snapshot" test "$(notified_by "SELECT 1 FROM claudable_snapshot('fork-b', 'owner-fleet')")" = 0
check "nor a restore" test "$(notified_by "SELECT 1 FROM claudable_restore('fork-b', 'owner-fleet', '$first_snap_id')")" = 0
branch_url=$(dq -c "SELECT pooled_database_url FROM claudable_branch('fork-b', 'owner-fleet', 'pooled')")
remember_secret "$(sed -E 's#^.*://[^:]*:([^@]*)@.*#\1#' <<<"$branch_url")"
lag=$(pooled_lag "$branch_url")
check "a new branch's pooled URL logs in through PgBouncer within 5 s of claudable_branch returning (${lag:-over 5000} ms)" \
    notified_in_time "$lag"
pooled_branch_db=$(dq -c "SELECT database_name FROM claudable_provision('fork-b~pooled', 'owner-fleet')")
pooled_branch_gone=$(dq -c "SELECT claudable_deprovision('fork-b~pooled', 'owner-fleet')")
check "claudable_deprovision of a branch's id returns true, removes the branch on b and its placement, and leaves its parent" \
    test "$pooled_branch_gone|$(on_both "SELECT count(*) FROM claudable.projects WHERE project_id = 'fork-b~pooled'")|$(placed_on 'fork-b~pooled')|$(placed_on fork-b)" = \
         "t|0 0||b"
check "and its entry leaves pgbouncer-databases.ini within 5 s" \
    bash -c '[ -n "$2" ] && [ -s "$1" ] || exit 1
             for _ in $(seq 1 250); do grep -q "^$2 = " "$1" || exit 0; sleep 0.02; done; exit 1' _ "$pooler_ini" "$pooled_branch_db"

echo "# deprovisioning a parent removes its branches' placements"
check "two parents on b, fork_x and forkax (fork_x read as a LIKE pattern matches forkax)" \
    test "$(provision_on_server b fork_x) $(provision_on_server b forkax)" = "b b"
for branch_id in one two; do dq -c "SELECT 1 FROM claudable_branch('fork_x', 'owner-fleet', '$branch_id')" >/dev/null; done
dq -c "SELECT 1 FROM claudable_branch('forkax', 'owner-fleet', 'keep')" >/dev/null
check "setup: fork_x has two branches placed on b, forkax one" \
    test "$(sq -c "SELECT string_agg(project_id || '=' || server, ' ' ORDER BY project_id) FROM claudable_fleet.placements
                    WHERE project_id LIKE 'fork_x~%' OR project_id LIKE 'forkax~%'")" = "fork_x~one=b fork_x~two=b forkax~keep=b"
check "deprovisioning the parent fork_x through the directory notifies claudable_pooler" \
    test "$(notified_by "SELECT claudable_deprovision('fork_x', 'owner-fleet')")" -ge 1
check "and removes the placements of its branches with its own" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet.placements WHERE project_id = 'fork_x' OR starts_with(project_id, 'fork_x~')")" = 0
check "b removed the branches themselves" \
    test "$(on_server b -c "SELECT count(*) FROM claudable.projects WHERE project_id IN ('fork_x', 'fork_x~one', 'fork_x~two')")" = 0
check "the branch of forkax keeps its placement" test "$(placed_on 'forkax~keep')" = b

echo "# a branch that expires on its server"
expires=$(sq -c "SELECT (clock_timestamp() + interval '3 seconds')::text")
dq -c "SELECT 1 FROM claudable_branch('fork-b', 'owner-fleet', 'short-lived', 'empty', '$expires')" >/dev/null
check "claudable_branch passes expires_at on: b records the branch's expiry as the call gave it" \
    test "$(on_server b -c "SELECT expires_at = '$expires'::timestamptz FROM claudable.projects WHERE project_id = 'fork-b~short-lived'")" = t
for _ in $(seq 1 50); do [ "$(on_server b -c "SELECT now() > '$expires'::timestamptz")" = t ] && break; sleep 0.1; done
on_server b -c "SELECT claudable_reconcile()" >/dev/null  # the periodic job, as README's step 6 schedules it
check "once b's claudable_reconcile() has removed it, claudable_fleet_check() reports its placement as a branch b no longer holds" \
    test "$(sq -c "SELECT count(*) FROM claudable_fleet_check() WHERE server = 'b' AND object = 'project fork-b~short-lived'
                    AND problem LIKE 'a branch placed on this server, which holds no such branch%'")" = 1
check "and claudable_deprovision of its id returns false and removes the placement" \
    test "$(dq -c "SELECT claudable_deprovision('fork-b~short-lived', 'owner-fleet')")|$(placed_on 'fork-b~short-lived')" = "f|"

echo "# the directory's role on a server without EXECUTE on a 0.7.0 function"
on_server a -c "REVOKE EXECUTE ON FUNCTION claudable_snapshot(text, text, text) FROM claudable_fleet" >/dev/null
no_grant=$(error_of "SELECT claudable_snapshot('fork-a', 'owner-fleet')")
on_server a -c "GRANT EXECUTE ON FUNCTION claudable_snapshot(text, text, text) TO claudable_fleet" >/dev/null
check "a snapshot there is refused with a's own 42501 and a hint naming the server and the function, not the owner" \
    bash -c 'grep -q "^ERROR:  permission denied for function claudable_snapshot$" <<<"$1" &&
             grep -q "^HINT:  The role the directory logs in as on server \"a\" lacks EXECUTE on claudable_snapshot there" <<<"$1"' _ "$no_grant"

echo "# a server down: snapshot and branch calls fail as every call for its projects does"
node_stop b
snapshot_down=$(dq -v VERBOSITY=verbose -c "SELECT claudable_snapshot('fork-b', 'owner-fleet')" 2>&1 >/dev/null)
check "with b stopped, claudable_snapshot of a project on b fails with 08001 naming b" \
    grep -q '^ERROR:  08001: claudable fleet: server "b" cannot be reached$' <<<"$snapshot_down"
check "and the hint naming b" grep -q '^HINT:  Calls for the projects placed on server "b" fail until it is back' <<<"$snapshot_down"
check "claudable_snapshots of a branch on b fails with 08001 naming b" \
    grep -q '^ERROR:  08001: claudable fleet: server "b" cannot be reached$' \
        <<<"$(dq -v VERBOSITY=verbose -c "SELECT claudable_snapshots('fork-b~pr-1', 'owner-fleet')" 2>&1 >/dev/null)"
check "claudable_restore on b fails with 08001 naming b" \
    grep -q '^ERROR:  08001: claudable fleet: server "b" cannot be reached$' \
        <<<"$(dq -v VERBOSITY=verbose -c "SELECT claudable_restore('fork-b', 'owner-fleet', '$first_snap_id')" 2>&1 >/dev/null)"
check "claudable_branch of a parent on b fails with 08001 naming b, and leaves no placement" \
    bash -c 'grep -q "^ERROR:  08001: claudable fleet: server \"b\" cannot be reached$" <<<"$1" && [ -z "$2" ]' _ \
        "$(dq -v VERBOSITY=verbose -c "SELECT claudable_branch('fork-b', 'owner-fleet', 'while-down')" 2>&1 >/dev/null)" \
        "$(placed_on 'fork-b~while-down')"
check "while b is down, a snapshot of a project on a is taken as before" \
    test "$(dq -c "SELECT project_id FROM claudable_snapshot('fork-a', 'owner-fleet')")" = fork-a
node_restart b
check "once b is back, the branch refused while it was down is made there" \
    test "$(dq -F ' ' -c "SELECT created, port FROM claudable_branch('fork-b', 'owner-fleet', 'while-down')") $(placed_on 'fork-b~while-down')" = \
         "t ${NODE_PORT[b]} b"

echo "# secrets"
logs=("${NODE_DIR[directory]}/server.log" "${NODE_DIR[a]}/server.log" "${NODE_DIR[b]}/server.log" "${NODE_DIR[c]}/server.log"
      "${NODE_DIR[readme]}/server.log" "$FLEET_DIR/pgbouncer.log")
check "the suite remembered the passwords it saw ($(wc -l <"$secrets_file") of them)" test "$(wc -l <"$secrets_file")" -ge 7
check "no password the suite saw is in any server's log or PgBouncer's" absent_all "$secrets_file" "${logs[@]}"
check "nor is the deploy role's or the pooler role's" \
    bash -c 'absent "${1#*://*:}" "${@:3}" && absent "${2#*://*:}" "${@:3}"' _ "${DEPLOY_URL%@*}" "${POOLER_ADMIN_URL%@*}" "${logs[@]}"
tap_done
