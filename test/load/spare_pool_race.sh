#!/usr/bin/env bash
# The spare pool under a race: 64 concurrent cold calls for 64 new projects with 8 spares
# ready, on a cluster with max_worker_processes = 8 (the refiller runs meanwhile). Every
# call must succeed, no spare may be claimed twice, and each project must be whole.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"

callers=64
spares=8
cluster_start "max_worker_processes = 8" "max_connections = 150" "claudable.spare_databases = $spares" >/dev/null || exit 1
psql -X -q -c "CREATE EXTENSION claudable" -f "$here/../lib/harden.sql"
work=$(mktemp -d)

check "the pool is filled before the race: $spares spares" \
    test "$(psql -X -At -c "SELECT claudable_refill_spares()")" = "$spares"

# One call: "<project> <exit code> <SQLSTATE or -> <created>".
one_call() {
    local project=$1 out rc state
    while [ ! -e "$work/go" ]; do sleep 0.01; done
    out=$(psql -X -At -v VERBOSITY=verbose -c "SELECT created FROM claudable_provision('$project', 'owner-race')" 2>&1)
    rc=$?
    state=$(grep -oE '^ERROR:  [0-9A-Z]{5}' <<<"$out" | awk '{print $2}' | head -1)
    [ "$rc" = 0 ] || out=-
    echo "$project $rc ${state:--} $out" >>"$work/calls"
}
for i in $(seq 1 "$callers"); do one_call "race-$i" & done
started=$(date +%s%N)
touch "$work/go"
wait
wall_ms=$(( ($(date +%s%N) - started) / 1000000 ))

successes=$(awk '$2 == 0 && $4 == "t"' "$work/calls" | wc -l)
errors=$(awk '$2 != 0 {print $3}' "$work/calls" | sort | uniq -c | awk '{printf "%s x%s ", $2, $1}')
claimed=$(psql -X -At -c "SELECT count(*) FROM claudable.events
                           WHERE project_id LIKE 'race-%' AND detail LIKE 'role and database claimed from spare %'")
distinct_spares=$(psql -X -At -c "SELECT count(DISTINCT detail) FROM claudable.events
                                   WHERE project_id LIKE 'race-%' AND detail LIKE 'role and database claimed from spare %'")
echo "# $callers calls in ${wall_ms} ms: $successes created, errors: ${errors:-none}; $claimed claimed a spare"

check "all $callers calls create their project" test "$successes" = "$callers"
check "no call fails with any SQLSTATE" test -z "$errors"
check "at least the $spares spares ready at the start are claimed ($claimed)" test "$claimed" -ge "$spares"
check "no spare is claimed twice" test "$distinct_spares" = "$claimed"
check "one database and one role per project" test "$(psql -X -At -c \
    "SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE 'app\_db\_race\_%') || '/' ||
            (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'app\_u\_race\_%')")" = "$callers/$callers"
check "claimed spares left the pool: no spare name is a project's" test "$(psql -X -At -c \
    "SELECT count(*) FROM claudable.spares s JOIN claudable.projects p ON p.database_name = s.name")" = 0
check "the pool is full again after a refill" \
    test "$(psql -X -At -c "SELECT claudable_refill_spares()")" = "$spares"
check "claudable_check() reports nothing afterwards" test "$(psql -X -At -c "SELECT count(*) FROM claudable_check()")" = 0
psql -X -At -c "SELECT * FROM claudable_check()" | sed 's/^/# /'

rm -rf "$work"
tap_done
