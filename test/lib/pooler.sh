# PgBouncer in front of a throwaway cluster, set up as README's Install step 5b does it: the
# lookup role and settings from README's block (<!-- readme-grants: pgbouncer-lookup -->)
# and README's pgbouncer.ini, with only what README tells the DBA to put their own in
# replaced (the server's socket and port, PgBouncer's port and file paths). The throwaway
# cluster trusts local connections, so the lookup role needs no password, as README's peer
# line gives it none. Source it after cluster.sh and deploy_role.sh
# (start_cluster_with_deploy_role), then:
#   pooler_start          PgBouncer as postgres on POOLER_PORT; stopped on pooler_stop / EXIT
#   pooled_url URL        URL with PgBouncer's host and port instead of the server's
#   pooler_admin SQL      a statement on PgBouncer's admin console (RECONNECT, RELOAD, SHOW ...)
pooler_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$pooler_lib/readme.sh"
POOLER_PID=

# README's pgbouncer.ini: the heredoc that step 5b writes to /etc/pgbouncer/pgbouncer.ini.
readme_pgbouncer_ini() {
    awk '/^cat >\/etc\/pgbouncer\/pgbouncer.ini <<.INI.$/ { inside = 1; next }
         inside && /^INI$/ { exit }
         inside { print }' "$README_FILE"
}

pooler_start() {
    local dir="$CLUSTER_DIR/pgbouncer" ini
    mkdir -p "$dir" && chown postgres:postgres "$dir" || return 1
    POOLER_PORT=$(free_port) || return 1
    export POOLER_PORT
    # README's SQL, with PgBouncer's port ours.
    readme_grants pgbouncer-lookup | sed "s/6432/$POOLER_PORT/; s/'db.internal'/'127.0.0.1'/" >"$dir/lookup.sql"
    grep -q 'claudable.pooler_auth_user' "$dir/lookup.sql" || { echo "README has no pgbouncer-lookup block" >&2; return 1; }
    psql -X -q -v ON_ERROR_STOP=1 -d meta -f "$dir/lookup.sql" >/dev/null || return 1
    ini="$dir/pgbouncer.ini"
    readme_pgbouncer_ini | sed -e "s#host=/var/run/postgresql port=5432#host=$CLUSTER_DIR port=$PGPORT#" \
        -e "s#^listen_addr = .*#listen_addr = 127.0.0.1#" -e "s#^listen_port = 6432#listen_port = $POOLER_PORT#" \
        -e "s#^unix_socket_dir =.*#unix_socket_dir = $dir#" \
        -e "s#^auth_file = .*#auth_file = $dir/userlist.txt#" -e "s#^logfile = .*#logfile = $dir/pgbouncer.log#" \
        -e "s#^pidfile = .*#pidfile = $dir/pgbouncer.pid#" >"$ini"
    grep -q '^auth_query = ' "$ini" || { echo "README has no pgbouncer.ini" >&2; return 1; }
    # The admin console, for tests that RECONNECT or RELOAD: its user and password in the
    # auth file, as PgBouncer's documentation has it (README's file is empty of projects).
    echo "admin_users = pgbouncer_admin" >>"$ini"
    POOLER_ADMIN_PASSWORD=$(random_password)
    export POOLER_ADMIN_PASSWORD
    printf '"pgbouncer_admin" "%s"\n' "$POOLER_ADMIN_PASSWORD" >"$dir/userlist.txt"
    chown postgres:postgres "$ini" "$dir/userlist.txt"
    chmod 600 "$dir/userlist.txt"
    runuser -u postgres -- pgbouncer -d "$ini" >/dev/null || return 1
    for _ in $(seq 1 100); do
        [ -s "$dir/pgbouncer.pid" ] && POOLER_PID=$(cat "$dir/pgbouncer.pid") && break
        sleep 0.1
    done
    [ -n "$POOLER_PID" ] || return 1
    POOLER_OWNER=$BASHPID
    POOLER_LOG="$dir/pgbouncer.log"
    POOLER_SOCKET_DIR=$dir
    export POOLER_LOG POOLER_SOCKET_DIR
    trap 'pooler_stop; cluster_stop' EXIT
}

pooler_stop() {
    [ "$BASHPID" = "${POOLER_OWNER:-}" ] || return 0  # not from a pipeline's subshell
    if [ -n "$POOLER_PID" ] && kill -INT "$POOLER_PID" 2>/dev/null; then
        for _ in $(seq 1 50); do kill -0 "$POOLER_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    POOLER_PID=
}

pooled_url() { sed -E "s#@[^/@]*/#@127.0.0.1:$POOLER_PORT/#" <<<"$1"; }

pooler_admin() {
    PGPASSWORD=$POOLER_ADMIN_PASSWORD psql -X -At -h 127.0.0.1 -p "$POOLER_PORT" -U pgbouncer_admin -d pgbouncer -c "$1"
}
