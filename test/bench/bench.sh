#!/usr/bin/env bash
# The benchmark command (`make bench`): builds and installs the production build, starts
# its own throwaway cluster, runs test/bench/bench.py, and removes the cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/install-deps.sh
claudable_packages+=(python3)
install_missing_packages
rm -f extension/*/*.o claudable.so
make -s >/dev/null && make -s install >/dev/null && make -s client-install >/dev/null
source test/lib/cluster.sh
cluster_start "max_connections = 200" "max_worker_processes = 40" "log_min_messages = warning" >/dev/null
export PG_BINDIR
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); PostgreSQL $(psql -X -At -c 'SHOW server_version')"
time python3 test/bench/bench.py
