# Throwaway PostgreSQL cluster for tests and the demo. Source this file, then:
#   cluster_start [extra postgresql.conf lines...]   sets PGHOST, PGPORT, PGUSER, CLUSTER_DIR, CLUSTER_LOG
#   cluster_stop                                     stops it and removes its directory (also run on EXIT)
# PostgreSQL refuses to run as root, so the server runs as the `postgres` OS user.

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
# Debian's /usr/bin/pg_config belongs to libpq-dev and reports /usr/bin; the server is elsewhere.
[ -x "$PG_BINDIR/initdb" ] || PG_BINDIR=/usr/lib/postgresql/15/bin

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free TCP port found" >&2
    return 1
}

cluster_start() {
    CLUSTER_DIR=$(mktemp -d /tmp/claudable-cluster.XXXXXX)
    trap cluster_stop EXIT
    chmod 0755 "$CLUSTER_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$CLUSTER_DIR"
    CLUSTER_LOG="$CLUSTER_DIR/server.log"
    as_postgres "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1 || {
        cat "$CLUSTER_DIR/initdb.log" >&2
        return 1
    }
    PGPORT=$(free_port) || return 1
    {
        echo "port = $PGPORT"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$CLUSTER_DIR'"
        echo "password_encryption = 'scram-sha-256'"
        echo "fsync = off"
        for line in "$@"; do echo "$line"; done
    } >>"$CLUSTER_DIR/data/postgresql.conf"
    as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_LOG" -w -t 60 start >/dev/null || {
        cat "$CLUSTER_LOG" >&2
        return 1
    }
    export PGHOST="$CLUSTER_DIR" PGPORT PGUSER=postgres PGDATABASE=postgres CLUSTER_DIR CLUSTER_LOG
}

cluster_stop() {
    [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ] || return 0
    as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER_DIR"
    CLUSTER_DIR=
}
