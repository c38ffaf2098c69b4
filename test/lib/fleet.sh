# A fleet on one machine, as README "Fleet" sets one up: claudable servers, a directory
# (claudable_fleet over PL/Proxy) and PgBouncer in front of them. For the fleet suite, the
# fleet demo and the fleet benchmark. Source cluster.sh and nodes.sh first, then:
#   fleet_start_directory                 node "directory": database directory, claudable_fleet,
#                                         the deploy role (EXECUTE on three functions only) and
#                                         the pooler role (EXECUTE on claudable_fleet_pooler_entries)
#   fleet_start_server NAME               node NAME: database meta, claudable, hardened, pooled
#                                         URLs pointing at PgBouncer, the fleet role (EXECUTE only)
#   fleet_add_server NAME CAPACITY        claudable_fleet_add_server on the directory
#   fleet_write_pgbouncer_config          `claudable pgbouncer-config` into $FLEET_DIR/pgbouncer
#   fleet_start_pgbouncer [settings...]   PgBouncer on $PGBOUNCER_PORT (transaction pooling)
# Exports DEPLOY_URL, POOLER_ADMIN_URL (directory, TCP) and PGBOUNCER_PORT. No password is
# printed, and none reaches a server log: each is set with statement logging off.
FLEET_DIR=$(mktemp -d /tmp/claudable-fleet.XXXXXX)
chmod 0755 "$FLEET_DIR"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$FLEET_DIR"
NODES_STARTED+=("$FLEET_DIR")  # removed by nodes_cleanup with the clusters
PGBOUNCER_PORT=$(free_port)
FLEET_ROLE_PASSWORD=$(random_password)
export PGBOUNCER_PORT

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
