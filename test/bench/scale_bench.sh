#!/usr/bin/env bash
# `make bench-scale` (not part of `make test` or `make bench`): the maintenance calls with
# thousands of projects on one server (issue 23), measured by test/bench/scale_bench.py at
# each step of BENCH_SCALE_STEPS (default 1000 2000 5000), fsync on, on a throwaway cluster
# set up as README's Install does it; every project is provisioned through the deploy role
# (EXECUTE only). 5,000 projects take about 40 GB of disk and most of an hour here.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/production_build.sh
bench_production_build
source test/lib/cluster.sh
source test/lib/deploy_role.sh
start_cluster_with_deploy_role "max_connections = 300" "max_worker_processes = 40" "log_min_messages = warning" \
    "fsync = on" "max_wal_size = '4GB'" >/dev/null
export PG_BINDIR CLUSTER_DIR DEPLOY_URL=$CLAUDABLE_TEST_ADMIN_URL
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -X -At -c 'SHOW server_version'), fsync on"
PYTHONPATH=test/bench python3 test/bench/scale_bench.py
