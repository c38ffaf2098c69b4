#!/usr/bin/env bash
# The benchmark command (`make bench`): builds and installs the production build, starts
# its own throwaway cluster, runs test/bench/bench.py, and removes the cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/production_build.sh
bench_production_build client
# BENCH_ONLY=fleet: the fleet's rows (14-19) alone, on clusters of their own.
if [ "${BENCH_ONLY:-}" = fleet ]; then
    export PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
    exec bash test/bench/fleet_bench.sh
fi
# BENCH_ONLY=pooler-sync: row 23 alone (a fleet's pooled URLs kept current by pooler-sync).
if [ "${BENCH_ONLY:-}" = pooler-sync ]; then
    export PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
    exec bash test/bench/pooler_sync_bench.sh
fi
# BENCH_ONLY=pooled: rows 24-26 alone (pooled URLs that work at once on one server).
if [ "${BENCH_ONLY:-}" = pooled ]; then
    export PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
    exec bash test/bench/pooled_bench.sh
fi
# BENCH_ONLY=versions: rows 27-33 alone (snapshots, restore and branches, fsync on).
if [ "${BENCH_ONLY:-}" = versions ]; then
    export PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
    exec bash test/bench/versions_bench.sh
fi
# BENCH_ONLY=clone: rows 34-37 alone (PostgreSQL 18's file_copy_method = clone, in its root filesystem).
if [ "${BENCH_ONLY:-}" = clone ]; then
    exec bash test/bench/clone_bench.sh
fi
source test/lib/cluster.sh
cluster_start "max_connections = 200" "max_worker_processes = 40" "log_min_messages = warning" >/dev/null
export PG_BINDIR
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); PostgreSQL $(psql -X -At -c 'SHOW server_version')"
time python3 test/bench/bench.py
# BENCH_ONLY=spares or attacks: those rows alone.
[ -n "${BENCH_ONLY:-}" ] && exit 0

# 7. The Node package's warm call against a raw pg query of the same SELECT (client/node).
(cd client/node && npm ci --no-audit --no-fund >/dev/null 2>&1 && npm run -s build) || { echo "node package build failed" >&2; exit 1; }
bench_password=$(random_password)
psql -X -q -c "CREATE DATABASE claudable_node_bench"
psql -X -q -d claudable_node_bench -c "CREATE EXTENSION claudable" \
    -c "CREATE ROLE node_bench LOGIN PASSWORD '$bench_password'" \
    -c "GRANT EXECUTE ON FUNCTION claudable_provision(text, text) TO node_bench" \
    -c "SELECT 1 FROM claudable_provision('node-warm', 'owner')" >/dev/null
BENCH_PROJECT=node-warm BENCH_ADMIN_URL="postgresql://node_bench:$bench_password@127.0.0.1:$PGPORT/claudable_node_bench" \
    node client/node/bench/warm-latency.mjs

# 14-19. The fleet: the directory against a server, PgBouncer against direct connections.
cluster_stop
bash test/bench/fleet_bench.sh

# 23. A new project's pooled URL through a fleet's PgBouncer, kept current by pooler-sync.
bash test/bench/pooler_sync_bench.sh

# 24-26. One server with PgBouncer as Install step 5b sets it up: what
# claudable.pooler_auth_user costs a call, and how soon a new project's pooled URL logs in.
bash test/bench/pooled_bench.sh

# 27-33. Snapshots, restore and branches, fsync on: what new connections wait for a snapshot,
# how long a restore keeps the app's database unavailable, branches against the raw DDL.
bash test/bench/versions_bench.sh

# 34-37. PostgreSQL 18's file_copy_method = clone against copy, on an XFS with reflink and on
# this machine's disk, in the root filesystem that packages 18.
bash test/bench/clone_bench.sh
