# Several throwaway clusters ("nodes") and PgBouncer on one machine, for the fleet suite,
# the fleet demo and the fleet benchmark. Source it (after cluster.sh), then:
#   node_start NAME [postgresql.conf lines...]   a cluster of its own: NODE_PORT[NAME], NODE_DIR[NAME]
#   node_stop NAME / node_restart NAME           stop it (fast) / start it again
#   nq NAME [psql args...]                       psql as postgres on that node (unaligned, tuples only)
#   pgbouncer_start INI                          runs PgBouncer as postgres with that config
#   pgbouncer_stop                               stops it (SIGINT, then waits), for a restart
#   node_background PID                          a process this shell started, stopped on cleanup
#   nodes_cleanup                                stops every node and PgBouncer this shell started and
#                                                removes their directories (registered on EXIT)
# Only what this shell started is ever stopped.
declare -A NODE_PORT NODE_DIR
NODES_STARTED=()
NODES_PIDS=()
NODES_OWNER=$BASHPID
PGBOUNCER_PIDFILE=
PGBOUNCER_PID=

node_start() {
    local name=$1 dir port
    shift
    dir=$(mktemp -d "/tmp/claudable-$name.XXXXXX")
    NODES_STARTED+=("$dir")
    trap nodes_cleanup EXIT
    port=$(free_port) || return 1
    init_throwaway_cluster "$dir" "$port" "$@" || return 1
    NODE_PORT[$name]=$port
    NODE_DIR[$name]=$dir
    node_restart "$name"
}

node_restart() {
    local dir=${NODE_DIR[$1]}
    as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
        tail -20 "$dir/server.log" >&2
        return 1
    }
}

node_stop() {
    as_postgres "$PG_BINDIR/pg_ctl" -D "${NODE_DIR[$1]}/data" -m fast -w -t 60 stop >/dev/null
}

nq() {
    local name=$1
    shift
    psql -X -q -A -t -v ON_ERROR_STOP=1 -h "${NODE_DIR[$name]}" -p "${NODE_PORT[$name]}" -U postgres "$@"
}

pgbouncer_start() {  # $1: pgbouncer.ini (its pidfile setting must be "pidfile = <dir>/pgbouncer.pid")
    PGBOUNCER_PIDFILE=$(sed -n 's/^pidfile *= *//p' "$1")
    as_postgres pgbouncer -d "$1" >/dev/null || return 1
    for _ in $(seq 1 100); do
        if [ -s "$PGBOUNCER_PIDFILE" ]; then
            PGBOUNCER_PID=$(cat "$PGBOUNCER_PIDFILE")
            return 0
        fi
        sleep 0.1
    done
    return 1
}

pgbouncer_reload() {  # RELOAD: PgBouncer re-reads its files on SIGHUP, keeping client connections
    kill -HUP "$PGBOUNCER_PID"
}

pgbouncer_stop() {  # the PgBouncer pgbouncer_start started; its pidfile goes with it
    [ -n "$PGBOUNCER_PID" ] || return 1
    kill -INT "$PGBOUNCER_PID" 2>/dev/null || return 1
    for _ in $(seq 1 100); do kill -0 "$PGBOUNCER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PGBOUNCER_PID" 2>/dev/null && return 1
    rm -f "$PGBOUNCER_PIDFILE"
    PGBOUNCER_PID=
}

node_background() { NODES_PIDS+=("$1"); }

nodes_cleanup() {
    # Only in the shell that started them: bash may run an EXIT trap in a pipeline's
    # subshell too, which must not tear the fleet down under the suite.
    [ "$BASHPID" = "$NODES_OWNER" ] || return 0
    local pid
    for pid in "${NODES_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null && for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    NODES_PIDS=()
    if [ -n "$PGBOUNCER_PID" ] && kill -INT "$PGBOUNCER_PID" 2>/dev/null; then
        for _ in $(seq 1 50); do kill -0 "$PGBOUNCER_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    PGBOUNCER_PID=
    local dir
    for dir in "${NODES_STARTED[@]}"; do
        [ -d "$dir/data" ] && as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
        rm -rf "$dir"
    done
    NODES_STARTED=()
}
