#!/usr/bin/env bash
# Rows 24-26 of `make bench` (also alone: BENCH_ONLY=pooled make bench): PgBouncer in front of
# one server as README's Install step 5b sets it up (test/lib/pooler.sh), measured by
# test/bench/pooled_bench.py: what claudable.pooler_auth_user costs a cold and a warm call,
# and how soon a new project's pooled URL logs in. A throwaway cluster and PgBouncer,
# removed at the end; no password is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/deploy_role.sh
source test/lib/pooler.sh
start_cluster_with_deploy_role "max_connections = 200" "log_min_messages = warning" >/dev/null
pooler_start
export PG_BINDIR DEPLOY_URL=$CLAUDABLE_TEST_ADMIN_URL
echo "# pooled logins: one server, PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') as Install step 5b sets it up"
PYTHONPATH=test/bench python3 test/bench/pooled_bench.py
