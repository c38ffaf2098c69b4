# A fleet on one machine, as README "Fleet" sets one up: claudable servers, a directory
# (claudable_fleet over PL/Proxy) and PgBouncer in front of them. For the fleet suite, the
# fleet demo and the fleet benchmark. Source cluster.sh and nodes.sh first, then:
#   fleet_start_directory                 node "directory": database directory, claudable_fleet,
#                                         the deploy role (EXECUTE on the provision, rotation,
#                                         deprovision, snapshot and branch functions only) and
#                                         the pooler role (EXECUTE on claudable_fleet_pooler_entries)
#   fleet_start_server NAME               node NAME: database meta, claudable, hardened, pooled
#                                         URLs pointing at PgBouncer, the fleet role (EXECUTE only)
#   fleet_add_server NAME CAPACITY        claudable_fleet_add_server on the directory
#   fleet_write_pgbouncer_config          `claudable pgbouncer-config` into $FLEET_DIR/pgbouncer
#   fleet_start_pgbouncer [settings...]   PgBouncer on $PGBOUNCER_PORT (transaction pooling)
# And PgBouncer as README's "Pooled URLs" sets it up for a fleet, from README's blocks with only
# the addresses, ports and paths replaced:
#   fleet_pooler_lookup NAME              on server NAME: Install step 5b's lookup block
#                                         (<!-- readme-grants: pgbouncer-lookup -->) with PgBouncer's
#                                         address, and the lookup role's password (the same on each)
#   fleet_pooler_role                     in the directory: the role pooler-sync logs in as
#                                         (<!-- readme-example: fleet-pooler-role -->), its password
#   fleet_start_pooler_sync [args...]     `claudable pooler-sync` as README's unit runs it
#                                         (<!-- readme-example: fleet-pooler-sync-unit -->), in the
#                                         background as postgres, its passwords in a .pgpass:
#                                         POOLER_SYNC_PID, POOLER_SYNC_LOG, POOLER_SYNC_OUT
#   fleet_start_pgbouncer_auth_query      PgBouncer with README's fleet pgbouncer.ini
#                                         (<!-- readme-example: fleet-pgbouncer-ini -->): auth_query
#                                         through each server's lookup, pooler-sync's entries
#   fleet_restart_pgbouncer               stops it and starts it again with the same files
# Exports DEPLOY_URL, POOLER_ADMIN_URL (directory, TCP) and PGBOUNCER_PORT. No password is
# printed, and none reaches a server log: each is set with statement logging off.
FLEET_DIR=$(mktemp -d /tmp/claudable-fleet.XXXXXX)
chmod 0755 "$FLEET_DIR"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$FLEET_DIR"
NODES_STARTED+=("$FLEET_DIR")  # removed by nodes_cleanup with the clusters
PGBOUNCER_PORT=$(free_port)
FLEET_ROLE_PASSWORD=$(random_password)
LOOKUP_PASSWORD=$(random_password)
POOLER_ROLE_PASSWORD=$(random_password)
PGBOUNCER_ADMIN_PASSWORD=$(random_password)
POOLER_SYNC_OUT="$FLEET_DIR/pooler"
POOLER_SYNC_LOG="$FLEET_DIR/pooler-sync.log"
POOLER_SYNC_PID=
export PGBOUNCER_PORT
fleet_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Statements that carry a password: neither logged as they run nor when they fail.
without_statement_log() {  # $1: node, $2: database, stdin: SQL
    { echo "BEGIN; SET LOCAL log_statement = 'none'; SET LOCAL log_min_error_statement = 'panic';"; cat; echo "COMMIT;"; } |
        nq "$1" -d "$2" -f - >/dev/null
}

fleet_start_directory() {
    node_start directory "log_statement = 'all'" "log_line_prefix = '%m [%p] %q%u@%d '" "max_connections = 300" || return 1
    local deploy_password pooler_password
    deploy_password=$(random_password)
    pooler_password=$(random_password)
    nq directory -c "CREATE DATABASE directory" >/dev/null &&
        nq directory -d directory -c "CREATE EXTENSION claudable_fleet CASCADE" \
            -c "REVOKE CONNECT, TEMPORARY ON DATABASE directory FROM PUBLIC" >/dev/null 2>&1 || return 1
    without_statement_log directory directory <<SQL || return 1
CREATE ROLE deploy LOGIN PASSWORD '$deploy_password';
GRANT CONNECT ON DATABASE directory TO deploy;
GRANT EXECUTE ON FUNCTION claudable_provision(text, text), claudable_deprovision(text, text),
                          claudable_rotate_password(text, text) TO deploy;
GRANT EXECUTE ON FUNCTION claudable_snapshot(text, text, text), claudable_snapshots(text, text),
                          claudable_restore(text, text, text), claudable_drop_snapshot(text, text, text),
                          claudable_branch(text, text, text, text, timestamptz) TO deploy;
CREATE ROLE pooler_admin LOGIN PASSWORD '$pooler_password';
GRANT CONNECT ON DATABASE directory TO pooler_admin;
GRANT EXECUTE ON FUNCTION claudable_fleet_pooler_entries() TO pooler_admin;
SQL
    export DEPLOY_URL="postgresql://deploy:$deploy_password@127.0.0.1:${NODE_PORT[directory]}/directory"
    export POOLER_ADMIN_URL="postgresql://pooler_admin:$pooler_password@127.0.0.1:${NODE_PORT[directory]}/directory"
}

fleet_start_server() {  # $1: name
    local name=$1
    node_start "$name" "log_statement = 'all'" "log_line_prefix = '%m [%p] %q%u@%d '" "max_connections = 300" \
        "claudable.host = '127.0.0.1'" "claudable.pooler_host = '127.0.0.1'" \
        "claudable.pooler_port = $PGBOUNCER_PORT" || return 1
    nq "$name" -c "CREATE DATABASE meta" >/dev/null &&
        nq "$name" -d meta -c "CREATE EXTENSION claudable" -f "$(dirname "${BASH_SOURCE[0]}")/harden.sql" >/dev/null || return 1
    without_statement_log "$name" meta <<SQL
CREATE ROLE claudable_fleet LOGIN PASSWORD '$FLEET_ROLE_PASSWORD';
GRANT CONNECT ON DATABASE meta TO claudable_fleet;
GRANT EXECUTE ON FUNCTION claudable_provision(text, text), claudable_deprovision(text, text),
                          claudable_rotate_password(text, text), claudable_check(), claudable_databases(),
                          claudable_databases(text), claudable_pooler_entries() TO claudable_fleet;
GRANT EXECUTE ON FUNCTION claudable_snapshot(text, text, text), claudable_snapshots(text, text),
                          claudable_restore(text, text, text), claudable_drop_snapshot(text, text, text),
                          claudable_branch(text, text, text, text, timestamptz) TO claudable_fleet;
SQL
}

fleet_add_server() {  # $1: name, $2: capacity
    without_statement_log directory directory <<SQL
SELECT claudable_fleet_add_server('$1',
    'host=127.0.0.1 port=${NODE_PORT[$1]} dbname=meta user=claudable_fleet password=$FLEET_ROLE_PASSWORD', $2);
SQL
}

fleet_write_pgbouncer_config() {  # its status is the command's: a file an earlier run left proves nothing
    claudable pgbouncer-config --admin-url "$POOLER_ADMIN_URL" --out "$FLEET_DIR/pgbouncer" >/dev/null || return 1
    chown -R postgres:postgres "$FLEET_DIR/pgbouncer"
}

fleet_start_pgbouncer() {  # extra [pgbouncer] settings
    local ini="$FLEET_DIR/pgbouncer.ini"
    {
        echo "[pgbouncer]"
        echo "listen_addr = 127.0.0.1"
        echo "listen_port = $PGBOUNCER_PORT"
        echo "unix_socket_dir ="
        echo "auth_type = scram-sha-256"
        echo "auth_file = $FLEET_DIR/pgbouncer/userlist.txt"
        echo "pool_mode = transaction"
        echo "max_client_conn = 1000"
        echo "default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}"
        echo "logfile = $FLEET_DIR/pgbouncer.log"
        echo "pidfile = $FLEET_DIR/pgbouncer.pid"
        for line in "$@"; do echo "$line"; done
        echo "%include $FLEET_DIR/pgbouncer/pgbouncer-databases.ini"
    } >"$ini"
    chown postgres:postgres "$ini" 2>/dev/null
    pgbouncer_start "$ini"
}

# ---- README "Pooled URLs": PgBouncer for the fleet, kept current by pooler-sync ------------
# The block of README's kind LANG (```LANG) that follows the line MARKER.
fleet_readme_block() {  # MARKER LANG
    awk -v want="$1" -v fence="\`\`\`$2" '
        $0 == want { armed = 1; next }
        armed && $0 == fence { inside = 1; armed = 0; next }
        inside && /^```$/ { exit }
        inside { print }
    ' "$fleet_lib/../../README.md"
}

fleet_pooler_lookup() {  # $1: server
    local sql="$FLEET_DIR/lookup-$1.sql"
    fleet_readme_block "<!-- readme-grants: pgbouncer-lookup -->" sql |
        sed "s/6432/$PGBOUNCER_PORT/; s/'db.internal'/'127.0.0.1'/" >"$sql"
    LOOKUP_ROLE=$(sed -n 's/^CREATE ROLE \([a-z_]*\) .*/\1/p' "$sql")
    grep -q 'claudable.pooler_auth_user' "$sql" && [ -n "$LOOKUP_ROLE" ] ||
        { echo "README has no pgbouncer-lookup block" >&2; return 1; }
    nq "$1" -d meta -f "$sql" >/dev/null || return 1
    # README: PgBouncer logs in to remote servers as it, with a password (\password there).
    without_statement_log "$1" meta <<<"ALTER ROLE $LOOKUP_ROLE PASSWORD '$LOOKUP_PASSWORD';"
}

fleet_pooler_role() {
    local sql="$FLEET_DIR/pooler-role.sql"
    fleet_readme_block "<!-- readme-example: fleet-pooler-role -->" sql >"$sql"
    POOLER_ROLE=$(sed -n 's/^CREATE ROLE \([a-z_]*\) .*/\1/p' "$sql")
    grep -q 'claudable_fleet_pooler_entries()' "$sql" && [ -n "$POOLER_ROLE" ] ||
        { echo "README has no fleet-pooler-role block" >&2; return 1; }
    nq directory -d directory -f "$sql" >/dev/null || return 1
    without_statement_log directory directory <<<"ALTER ROLE $POOLER_ROLE PASSWORD '$POOLER_ROLE_PASSWORD';"
}

fleet_start_pooler_sync() {  # extra arguments for pooler-sync
    local command=() args=() i pgpass="$FLEET_DIR/pooler-sync.pgpass"
    read -ra command <<<"$(fleet_readme_block "<!-- readme-example: fleet-pooler-sync-unit -->" ini | sed -n 's/^ExecStart=//p')"
    PGBOUNCER_ADMIN_USER=$(fleet_readme_block "<!-- readme-example: fleet-pgbouncer-ini -->" ini | sed -n 's/^admin_users *= *//p')
    [[ "${command[0]:-}" == */claudable && "${command[1]:-}" == pooler-sync && -n "$PGBOUNCER_ADMIN_USER" ]] ||
        { echo "README has no pooler-sync unit or no admin_users" >&2; return 1; }
    # README's command line, with this machine's directory, PgBouncer and output directory.
    for ((i = 0; i < ${#command[@]}; i++)); do
        case "${command[i]}" in
            --admin-url) args+=(--admin-url "postgresql://$POOLER_ROLE@127.0.0.1:${NODE_PORT[directory]}/directory"); i=$((i + 1)) ;;
            --out) args+=(--out "$POOLER_SYNC_OUT"); i=$((i + 1)) ;;
            --pgbouncer-admin-url)
                args+=(--pgbouncer-admin-url "postgresql://$PGBOUNCER_ADMIN_USER@127.0.0.1:$PGBOUNCER_PORT/pgbouncer"); i=$((i + 1)) ;;
            *) args+=("${command[i]}") ;;
        esac
    done
    # README: the passwords in the ~/.pgpass of PgBouncer's OS user, mode 0600.
    printf '127.0.0.1:%s:directory:%s:%s\n127.0.0.1:%s:pgbouncer:%s:%s\n' \
        "${NODE_PORT[directory]}" "$POOLER_ROLE" "$POOLER_ROLE_PASSWORD" \
        "$PGBOUNCER_PORT" "$PGBOUNCER_ADMIN_USER" "$PGBOUNCER_ADMIN_PASSWORD" >"$pgpass"
    chown postgres:postgres "$pgpass" && chmod 600 "$pgpass"
    printf '%s\n' "${args[*]} $*" >"$FLEET_DIR/pooler-sync.args"  # no password in it: for the suite's checks
    # setpriv execs: $! is pooler-sync itself, which the suite signals.
    setpriv --reuid=postgres --regid=postgres --init-groups env -u DB_ADMIN_URL PGPASSFILE="$pgpass" \
        "${args[@]}" "$@" >>"$POOLER_SYNC_LOG" 2>&1 </dev/null &
    POOLER_SYNC_PID=$!
    node_background "$POOLER_SYNC_PID"
    # Its first sync writes the file PgBouncer's %include needs.
    for _ in $(seq 1 100); do
        [ -s "$POOLER_SYNC_OUT/pgbouncer-databases.ini" ] && return 0
        kill -0 "$POOLER_SYNC_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

fleet_start_pgbouncer_auth_query() {
    local ini="$FLEET_DIR/pgbouncer.ini" users="$FLEET_DIR/pgbouncer-users.txt"
    fleet_readme_block "<!-- readme-example: fleet-pgbouncer-ini -->" ini |
        sed -e "s#^listen_addr = .*#listen_addr = 127.0.0.1#" -e "s#^listen_port = .*#listen_port = $PGBOUNCER_PORT#" \
            -e "s#^auth_file = .*#auth_file = $users#" -e "s#^logfile = .*#logfile = $FLEET_DIR/pgbouncer.log#" \
            -e "s#^pidfile = .*#pidfile = $FLEET_DIR/pgbouncer.pid#" \
            -e "s#^%include .*/pgbouncer-databases.ini\$#%include $POOLER_SYNC_OUT/pgbouncer-databases.ini#" >"$ini"
    grep -q '^auth_query = ' "$ini" && grep -q "^%include $POOLER_SYNC_OUT/" "$ini" ||
        { echo "README has no fleet pgbouncer.ini" >&2; return 1; }
    # README: the auth file holds the lookup role's password and the admin console's user, no project.
    printf '"%s" "%s"\n"%s" "%s"\n' "$LOOKUP_ROLE" "$LOOKUP_PASSWORD" "$PGBOUNCER_ADMIN_USER" "$PGBOUNCER_ADMIN_PASSWORD" >"$users"
    chown postgres:postgres "$ini" "$users" && chmod 600 "$users"
    PGBOUNCER_INI=$ini
    pgbouncer_start "$ini"
}

fleet_restart_pgbouncer() { pgbouncer_stop && pgbouncer_start "$PGBOUNCER_INI"; }
