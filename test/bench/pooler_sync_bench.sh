#!/usr/bin/env bash
# Row 23 of `make bench` (also alone: BENCH_ONLY=pooler-sync make bench): how long after the
# directory's claudable_provision returns a new project's pooled URL first logs in through
# PgBouncer, kept current by `claudable pooler-sync` as README's "Pooled URLs" sets it up (a
# directory, two servers with the lookup, PgBouncer with auth_query; test/lib/fleet.sh).
# Throwaway clusters and PgBouncer, removed at the end; no password is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/nodes.sh
source test/lib/fleet.sh
unset PGHOST PGPORT PGUSER PGDATABASE

for server in a b; do
    fleet_start_server "$server"
    fleet_pooler_lookup "$server"
done
fleet_start_directory
fleet_add_server a 100000
fleet_add_server b 100000
fleet_pooler_role
# Statement logging off for the measurement, as in production.
for node in a b directory; do
    nq "$node" -c "ALTER SYSTEM SET log_statement = 'none'" -c "SELECT pg_reload_conf()" >/dev/null
done
fleet_start_pooler_sync
fleet_start_pgbouncer_auth_query
for _ in $(seq 1 100); do grep -q "PgBouncer reloaded" "$POOLER_SYNC_LOG" && break; sleep 0.1; done
export DEPLOY_URL PG_BINDIR PGBOUNCER_LOG="$FLEET_DIR/pgbouncer.log"
echo "# pooler-sync: directory and servers a, b on this machine, PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') with auth_query"
PYTHONPATH=test/bench python3 test/bench/pooler_sync_bench.py
echo "# pooler-sync's log: $(grep -c ' skipped: wrote ' "$POOLER_SYNC_LOG") changes applied, $(grep -c 'cannot\|could not' "$POOLER_SYNC_LOG") failures"
