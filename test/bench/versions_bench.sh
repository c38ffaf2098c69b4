#!/usr/bin/env bash
# Rows 27-33 of `make bench` (also alone: BENCH_ONLY=versions make bench): snapshots, restore
# and branches (README, "Snapshots, restore and branches"), measured by
# test/bench/versions_bench.py on a cluster set up as README's Install does it, with fsync on.
# A throwaway cluster, removed at the end; no password is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/deploy_role.sh
start_cluster_with_deploy_role "max_connections = 200" "log_min_messages = warning" "fsync = on" >/dev/null
export PG_BINDIR DEPLOY_URL=$CLAUDABLE_TEST_ADMIN_URL CLUSTER_LOG
echo "# snapshots, restore and branches: one server, fsync $(psql -X -At -c 'SHOW fsync')"
PYTHONPATH=test/bench python3 test/bench/versions_bench.py
