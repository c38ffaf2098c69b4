#!/usr/bin/env bash
# The fleet's rows of `make bench` (also alone: BENCH_ONLY=fleet make bench): a directory
# in front of one claudable server, and PgBouncer in front of that server, each compared
# with the server reached directly (test/bench/fleet_bench.py). Throwaway clusters and
# PgBouncer, removed at the end; no password is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/nodes.sh
export PGBOUNCER_POOL_SIZE=${BENCH_POOL_SIZE:-8}
source test/lib/fleet.sh
unset PGHOST PGPORT PGUSER PGDATABASE

fleet_start_server a
fleet_start_directory
fleet_add_server a 100000
# Statement logging off for the measurement, as in production.
for node in a directory; do
    nq "$node" -c "ALTER SYSTEM SET log_statement = 'none'" -c "SELECT pg_reload_conf()" >/dev/null
done
app_url=$(psql -X -At "$DEPLOY_URL" -c "SELECT database_url FROM claudable_provision('bench-app', 'owner-bench')")
"$PG_BINDIR/pgbench" -i -q -s 1 "$app_url" >/dev/null 2>&1
fleet_write_pgbouncer_config
fleet_start_pgbouncer "max_client_conn = 1000"
export DEPLOY_URL APP_URL="$app_url" POOL_SIZE="$PGBOUNCER_POOL_SIZE" PG_BINDIR
export POOLED_APP_URL=$(psql -X -At "$DEPLOY_URL" -c "SELECT pooled_database_url FROM claudable_provision('bench-app', 'owner-bench')")
export SERVER_URL="postgresql://claudable_fleet:$FLEET_ROLE_PASSWORD@127.0.0.1:${NODE_PORT[a]}/meta"
export SERVER_SOCKET="host=${NODE_DIR[a]} port=${NODE_PORT[a]} user=postgres dbname=postgres"
echo "# fleet: directory and server a on this machine, PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') with pool size $POOL_SIZE"
PYTHONPATH=test/bench python3 test/bench/fleet_bench.py
