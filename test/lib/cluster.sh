# Throwaway PostgreSQL cluster for tests and the demo. Source this file, then:
#   cluster_start [extra postgresql.conf lines...]   sets PGHOST, PGPORT, PGUSER, CLUSTER_DIR, CLUSTER_LOG
#   cluster_stop                                     stops it and removes its directory (also run on EXIT)
# PostgreSQL refuses to run as root, so the server runs as the `postgres` OS user.

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/${PG_MAJOR:-15}/bin)}
# Debian's /usr/bin/pg_config belongs to libpq-dev and reports /usr/bin; the server is elsewhere.
[ -x "$PG_BINDIR/initdb" ] || PG_BINDIR=/usr/lib/postgresql/${PG_MAJOR:-15}/bin

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# 24 random bytes, URL-safe: a password for a role a test or demo creates.
random_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# A port nothing listens on, below the kernel's range of ephemeral ports: a port that an
# outgoing connection happens to use as its own cannot be bound either.
free_port() {
    local port lowest_ephemeral
    lowest_ephemeral=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [ "${lowest_ephemeral:-0}" -gt 21000 ] 2>/dev/null || lowest_ephemeral=32768
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % (lowest_ephemeral - 20000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free TCP port found" >&2
    return 1
}

# init_throwaway_cluster DIR PORT [postgresql.conf lines...]: initdb as postgres into
# DIR/data, with the settings every throwaway cluster shares and then the given lines.
init_throwaway_cluster() {
    local dir=$1 port=$2
    shift 2
    chmod 0755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_postgres "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    {
        echo "port = $port"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "password_encryption = 'scram-sha-256'"
        echo "fsync = off"
        for line in "$@"; do echo "$line"; done
    } >>"$dir/data/postgresql.conf"
}

cluster_start() {
    CLUSTER_DIR=$(mktemp -d "${CLUSTER_PARENT:-/tmp}/claudable-cluster.XXXXXX")  # CLUSTER_PARENT: another file system
    CLUSTER_OWNER=$BASHPID
    trap cluster_stop EXIT
    CLUSTER_LOG="$CLUSTER_DIR/server.log"
    PGPORT=$(free_port) || return 1
    init_throwaway_cluster "$CLUSTER_DIR" "$PGPORT" "$@" || return 1
    as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_LOG" -w -t 60 start >/dev/null || {
        cat "$CLUSTER_LOG" >&2
        return 1
    }
    export PGHOST="$CLUSTER_DIR" PGPORT PGUSER=postgres PGDATABASE=postgres CLUSTER_DIR CLUSTER_LOG
}

cluster_stop() {
    [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ] || return 0
    # Only the shell that started it: bash may run an EXIT trap in a pipeline's subshell too.
    [ "$BASHPID" = "${CLUSTER_OWNER:-}" ] || return 0
    as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER_DIR"
    CLUSTER_DIR=
}
