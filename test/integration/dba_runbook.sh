#!/usr/bin/env bash
# README's DBA path, as printed, on a Debian-managed cluster: pg_createcluster makes one on a
# free port, and every block README marks (<!-- readme-example: runbook-sh|runbook-sql|
# runbook-cron -->) runs in order, the way README says to run it: shell blocks as root,
# SQL blocks with `runuser -u postgres -- psql --cluster ... -d meta`, and the cron line once
# as the postgres OS user. Only the values README tells the DBA to put their own in are
# replaced: the cluster (15/main) and the two networks (by loopback, where this test's
# clients are). Then each actor README creates acts with exactly its rights over TCP: the
# deploy service through the claudable CLI, the monitoring role, the pooler's job, a tenant.
# The cluster is dropped at the end, also on failure. Needs root and the installed extension.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"   # free_port, random_password
export -f absent login_refused

# A DBA's root shell has no PG* variables; make test's own (the shared cluster's) must not
# steer README's commands to another cluster.
unset PGHOST PGPORT PGUSER PGDATABASE PGHOSTADDR PGPASSWORD
version=${PG_MAJOR:-15}
name="claudable-runbook-$$"
port=$(free_port) || exit 1
work=$(mktemp -d /tmp/claudable-runbook.XXXXXX)
chmod 755 "$work"
job_log=/var/log/postgresql/claudable-job.log
job_log_size=$(stat -c %s "$job_log" 2>/dev/null || echo none)
# Step 5b writes the machine's /etc/pgbouncer/pgbouncer.ini and restarts Debian's PgBouncer
# service on a free port: both are put back as they were at the end.
pgbouncer_port=$(free_port) || exit 1
pgbouncer_ini=/etc/pgbouncer/pgbouncer.ini
pgbouncer_log=/var/log/postgresql/pgbouncer.log
pgbouncer_log_size=$(stat -c %s "$pgbouncer_log" 2>/dev/null || echo none)
[ -f "$pgbouncer_ini" ] && cp -p "$pgbouncer_ini" "$work/pgbouncer.ini.before"
cleanup() {
    if [ -n "${pgbouncer_started:-}" ]; then service pgbouncer stop >/dev/null 2>&1; fi
    if [ -f "$work/pgbouncer.ini.before" ]; then cp -p "$work/pgbouncer.ini.before" "$pgbouncer_ini"; fi
    if [ "$pgbouncer_log_size" = none ]; then rm -f "$pgbouncer_log"; else truncate -s "$pgbouncer_log_size" "$pgbouncer_log"; fi
    pg_dropcluster --stop "$version" "$name" >/dev/null 2>&1
    if [ "$job_log_size" = none ]; then rm -f "$job_log"; else truncate -s "$job_log_size" "$job_log"; fi
    rm -rf "$work"
}
trap cleanup EXIT
# Never stop a PgBouncer this test did not start: README's step restarts the machine's service.
if service pgbouncer status >/dev/null 2>&1; then
    check "Debian's PgBouncer service is not already running (README's step 5b restarts it)" false
    tap_done
    exit 1
fi
pgbouncer_started=1

check "pg_createcluster makes a Debian-managed cluster $version/$name on port $port" \
    bash -c 'pg_createcluster "$1" "$2" -p "$3" >"$4/createcluster.log" 2>&1 && pg_ctlcluster "$1" "$2" start' \
        _ "$version" "$name" "$port" "$work"
conf="/etc/postgresql/$version/$name"
server_log="/var/log/postgresql/postgresql-$version-$name.log"
# The deploy service and the apps are on other hosts in README; here they connect over
# loopback, so Debian's own loopback rules go and README's lines alone let them in. Every
# statement is logged, to prove README's way of setting passwords keeps them out of the log.
sed -i -E '/^host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s/d' "$conf/pg_hba.conf"
pg_conftool "$version" "$name" set log_statement all
pg_ctlcluster "$version" "$name" reload

# README's marked blocks, in order, with the DBA's own values put in.
awk -v dir="$work" '
    /^<!-- readme-example: runbook-(sh|sql|cron) -->$/ { kind = $3; sub(/^runbook-/, "", kind); armed = 1; next }
    armed && /^<!-- readme-grants: / { next }
    armed && /^```/ { n++; file = sprintf("%s/block-%02d.%s", dir, n, kind); inside = 1; armed = 0; next }
    inside && /^```$/ { inside = 0; close(file); next }
    inside { print > file }
    { armed = 0 }
' "$root/README.md"
for block in "$work"/block-*; do
    # README names the cluster 15/main, the DBA's own: here the major under test and this test's cluster.
    sed -i -e "s#15/main#$version/$name#g" -e "s#15 main#$version $name#g" \
        -e 's#10\.0\.0\.0/24#127.0.0.1/32#g' -e 's#10\.0\.1\.0/24#127.0.0.1/32#g' \
        -e "s#port=5432#port=$port#" -e "s#6432#$pgbouncer_port#g" "$block"
    chmod 644 "$block"
done
blocks=$(ls "$work"/block-* | wc -l)
check "README marks its DBA path ($blocks blocks: shell, SQL and the cron line)" \
    bash -c '[ "$1" -ge 10 ] && ls "$2"/block-*.cron >/dev/null && ls "$2"/block-*.sql >/dev/null' _ "$blocks" "$work"

deploy_password=$(random_password) monitor_password=$(random_password) pooler_password=$(random_password)
printf '%s\n' "$deploy_password" "$deploy_password" "$monitor_password" "$monitor_password" \
    "$pooler_password" "$pooler_password" >"$work/passwords"

run_block() {  # one block, as README says to run its kind
    local block=$1
    case "$block" in
        *.sh)
            # No terminal: psql's \password then reads what the DBA would type from stdin.
            if grep -q '\\password' "$block"; then
                setsid -w bash -euo pipefail "$block" <"$work/passwords"
            else
                setsid -w bash -euo pipefail "$block" </dev/null
            fi ;;
        *.sql)
            runuser -u postgres -- psql --cluster "$version/$name" -X -v ON_ERROR_STOP=1 -d meta -f "$block" </dev/null ;;
        *.cron)  # the command cron would run: everything after the five time fields and the user
            local line
            line=$(grep -vE '^\s*(#|$)' "$block")
            [ "$(awk '{print $6}' <<<"$line")" = postgres ] || return 1
            runuser -u postgres -- sh -c "$(cut -d' ' -f7- <<<"$line")" </dev/null ;;
    esac
}
run_block_logged() { run_block "$1" >"$work/$(basename "$1").out" 2>&1; }
describe() { grep -m1 -vE '^\s*(#|--|$)' "$1" | cut -c1-70; }
move_block=$(grep -l 'claudable_move_host(' "$work"/block-*.sql)
for block in "$work"/block-*; do
    [ "$block" = "$move_block" ] && break
    check "README step runs as printed: $(describe "$block")" run_block_logged "$block"
done

q() { runuser -u postgres -- psql --cluster "$version/$name" -X -At -v ON_ERROR_STOP=1 -d meta "$@" </dev/null; }
check "the hardened server's claudable_check() is empty" test "$(q -c 'SELECT count(*) FROM claudable_check()')" = 0
check "the server listens on every address and README's pg_hba.conf lines parse" \
    test "$(q -c "SELECT current_setting('listen_addresses') || ' ' || count(*) FILTER (WHERE error IS NOT NULL)
                    || ' ' || count(*) FILTER (WHERE 'deploy_service' = ANY (user_name) AND database = '{meta}')
                  FROM pg_hba_file_rules")" = "* 0 1"

# ---- the deploy service: the claudable CLI over TCP, with exactly README's grants ----------
# db.internal is README's name for this server: every client below is told to connect to
# 127.0.0.1 for it (libpq's PGHOSTADDR), and keeps the name in its URL.
deploy_url="postgresql://deploy_service@db.internal:$port/meta"
deploy() { PGHOSTADDR=127.0.0.1 PGPASSWORD="$deploy_password" claudable --admin-url "$deploy_url" "$@"; }
tcp_psql() { PGHOSTADDR=127.0.0.1 psql "$@"; }
export -f tcp_psql
export -f deploy
export deploy_url deploy_password
deploy provision runbook-app team-runbook --json >"$work/provision.json" 2>"$work/provision.err"
check "the deploy service provisions a project with the claudable CLI" \
    grep -q '"database_url":"postgresql://app_u_runbook_app:' "$work/provision.json"
url=$(sed -E 's/.*"database_url":"([^"]*)".*/\1/' "$work/provision.json")
app_password=$(sed -E 's/.*"password":"([^"]*)".*/\1/' "$work/provision.json")
check "its DATABASE_URL names README's host db.internal and the server's port" \
    bash -c '[[ "$1" == *"@db.internal:$2/app_db_runbook_app" ]]' _ "$url" "$port"
check "the DATABASE_URL logs in over TCP as the project's role" \
    test "$(tcp_psql -X -At "$url" -c 'SELECT current_user' 2>/dev/null)" = app_u_runbook_app
check "the deploy service lists the projects (claudable list)" bash -c 'deploy list | grep -q "^runbook-app\s"'
check "and runs the check (claudable check)" bash -c '[ "$(deploy check)" = "no problems found" ]'
check "and rotates a project's password (claudable rotate)" \
    bash -c 'deploy rotate runbook-app team-runbook --json | grep -q "\"password\":\"" && \
             [ "$(deploy provision runbook-app team-runbook --json | sed -E "s/.*\"password\":\"([^\"]*)\".*/\1/")" != "$1" ]' \
        _ "$app_password"
url=$(deploy provision runbook-app team-runbook --json 2>/dev/null | sed -E 's/.*"database_url":"([^"]*)".*/\1/')
app_password=$(deploy provision runbook-app team-runbook --json 2>/dev/null | sed -E 's/.*"password":"([^"]*)".*/\1/')
# ---- step 5b: the pooled URL, through Debian's PgBouncer as README set it up -----------------
pooled=$(deploy provision runbook-app team-runbook --json 2>/dev/null | sed -E 's/.*"pooled_database_url":"([^"]*)".*/\1/')
check "the row's pooled URL names PgBouncer's port" bash -c '[[ "$1" == *"@db.internal:$2/app_db_runbook_app" ]]' _ "$pooled" "$pgbouncer_port"
check "and logs in through PgBouncer as the project's role" \
    test "$(tcp_psql -X -At "$pooled" -c 'SELECT current_user' 2>/dev/null)" = app_u_runbook_app
tail -c +"$([ "$pgbouncer_log_size" = none ] && echo 1 || echo $((pgbouncer_log_size + 1)))" "$pgbouncer_log" 2>/dev/null |
    grep -E 'WARNING|ERROR|FATAL' | tail -5 | sed 's/^/# PgBouncer: /'
fresh=$(deploy provision runbook-new team-runbook --json 2>/dev/null | sed -E 's/.*"pooled_database_url":"([^"]*)".*/\1/')
check "a project made now logs in through PgBouncer on the first attempt, with no step in between" \
    test "$(tcp_psql -X -At "$fresh" -c 'SELECT current_database()' 2>/dev/null)" = app_db_runbook_new
rotated=$(deploy rotate runbook-new team-runbook --json 2>/dev/null | sed -E 's/.*"pooled_database_url":"([^"]*)".*/\1/')
check "after a rotation the new password logs in through PgBouncer at once" \
    test "$(tcp_psql -X -At "$rotated" -c 'SELECT 1' 2>/dev/null)" = 1
check "and the old one is refused there" bash -c '! tcp_psql -X -At "$1" -c "SELECT 1" >/dev/null 2>&1' _ "$fresh"
deploy deprovision runbook-new team-runbook >/dev/null
check "a deprovisioned project's pooled URL is refused" bash -c '! tcp_psql -X -At "$1" -c "SELECT 1" >/dev/null 2>&1' _ "$rotated"
pooled_password=$(sed -E 's#^postgresql://[^:]*:([^@]*)@.*#\1#' <<<"$rotated")

check "and deprovisions one (claudable deprovision)" \
    bash -c 'deploy provision runbook-gone team-runbook >/dev/null && [ "$(deploy deprovision runbook-gone team-runbook)" = "deprovisioned runbook-gone" ]'

for database in meta postgres template1; do
    check "the tenant's role is refused by $database despite README's 'host all all' line (permission denied, 42501)" \
        env PGHOSTADDR=127.0.0.1 bash -c 'login_refused "$1" "$2"' _ "${url%/*}/$database" "permission denied for database \"$database\""
done
check "the deploy service is refused by postgres (no CONNECT there)" \
    env PGHOSTADDR=127.0.0.1 PGPASSWORD="$deploy_password" bash -c 'login_refused "$1" "$2"' \
        _ "${deploy_url%/*}/postgres" 'permission denied for database "postgres"'
check "the deploy service cannot read the metadata (permission denied for schema claudable)" \
    bash -c 'PGPASSWORD="$1" tcp_psql -X -At "$2" -c "SELECT count(*) FROM claudable.projects" 2>&1 | grep -q "permission denied for schema claudable"' \
        _ "$deploy_password" "$deploy_url"

# ---- the monitoring role and the pooler's job ------------------------------------------
monitor_url="postgresql://claudable_monitor@db.internal:$port/meta"
monitor() { PGPASSWORD="$monitor_password" tcp_psql -X -At "$monitor_url" "$@" 2>&1; }
check "the monitoring role reads each project's size (claudable_databases())" \
    bash -c '[ "$1" -gt 1000000 ] 2>/dev/null' _ "$(monitor -c "SELECT size_bytes FROM claudable_databases() WHERE project_id = 'runbook-app'")"
check "and runs claudable_check()" test "$(monitor -c 'SELECT count(*) FROM claudable_check()')" = 0
check "but provisions nothing (permission denied for function claudable_provision)" \
    bash -c '[[ "$1" == *"permission denied for function claudable_provision"* ]]' _ \
        "$(monitor -c "SELECT 1 FROM claudable_provision('monitor-made', 'team-runbook')")"
mkdir -m 700 "$work/pgbouncer"
check "the pooler's role writes PgBouncer's files (claudable pgbouncer-config)" \
    bash -c 'PGHOSTADDR=127.0.0.1 PGPASSWORD="$1" claudable pgbouncer-config --admin-url "$2" --out "$3" >/dev/null &&
             grep -q "^app_db_runbook_app = " "$3/pgbouncer-databases.ini" && grep -q "^\"app_u_runbook_app\" \"SCRAM-SHA-256" "$3/userlist.txt"' \
        _ "$pooler_password" "postgresql://claudable_pooler@db.internal:$port/meta" "$work/pgbouncer"
check "but provisions nothing either" \
    bash -c 'PGPASSWORD="$1" tcp_psql -X -At "$2" -c "SELECT 1 FROM claudable_provision('"'x'"', '"'y'"')" 2>&1 |
             grep -q "permission denied for function claudable_provision"' _ "$pooler_password" "postgresql://claudable_pooler@db.internal:$port/meta"

# ---- the periodic job --------------------------------------------------------------------
check "the cron line wrote the three reports to $job_log as postgres" \
    bash -c '[ "$(stat -c %U "$1")" = postgres ] && tail -c +"$2" "$1" | grep -q "severity | object | problem" &&
             ! tail -c +"$2" "$1" | grep -q "ERROR"' _ "$job_log" "$([ "$job_log_size" = none ] && echo 1 || echo $((job_log_size + 1)))"
check "pg_cron holds the job, scheduled every ten minutes in meta" \
    test "$(runuser -u postgres -- psql --cluster "$version/$name" -X -At -d postgres \
                -c "SELECT schedule || ' ' || database FROM cron.job WHERE jobname = 'claudable'" </dev/null)" = "*/10 * * * * meta"
job_command=$(runuser -u postgres -- psql --cluster "$version/$name" -X -At -d postgres \
                  -c "SELECT command FROM cron.job WHERE jobname = 'claudable'" </dev/null)
printf '%s\n' "$job_command" >"$work/job.sql"
chmod 644 "$work/job.sql"
check "its command runs in meta on a healthy server" q -f "$work/job.sql"
q -c "GRANT CONNECT ON DATABASE postgres TO PUBLIC" >/dev/null
check "and fails, naming the finding, when the check reports an error (what cron.job_run_details then shows)" \
    bash -c 'q() { runuser -u postgres -- psql --cluster "$1" -X -At -v ON_ERROR_STOP=1 -d meta "${@:2}" </dev/null; }
             ! q "$1" -f "$2" 2>"$3" && grep -q "claudable_check(): database postgres: PUBLIC may connect" "$3"' \
        _ "$version/$name" "$work/job.sql" "$work/job.err"
q -c "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC" >/dev/null

# ---- step 8: the server's address changes ------------------------------------------------
check "README step runs as printed: $(describe "$move_block")" run_block_logged "$move_block"
moved=$(deploy provision runbook-app team-runbook --json 2>/dev/null)
check "afterwards the project's URL names the new host, with the same password" \
    bash -c '[[ "$1" == *"@db2.internal:$2/app_db_runbook_app"* ]] && [[ "$1" == *"\"password\":\"$3\""* ]]' \
        _ "$moved" "$port" "$app_password"
check "and the move is audited" \
    test "$(q -c "SELECT count(*) FROM claudable.events WHERE action = 'move_host' AND project_id = 'runbook-app'")" = 1

check "no password of any actor or project reaches the server log (log_statement = all)" \
    bash -c 'for p in "${@:2}"; do absent "$p" "$1" || exit 1; done' _ "$server_log" \
        "$deploy_password" "$monitor_password" "$pooler_password" "$app_password" "$pooled_password"
check "nor PgBouncer's log" \
    bash -c 'for p in "${@:2}"; do absent "$p" "$1" || exit 1; done' _ "$pgbouncer_log" "$app_password" "$pooled_password"
tap_done
