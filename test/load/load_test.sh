#!/usr/bin/env bash
# Load test: 32 concurrent calls for 32 new projects plus 32 concurrent calls for one
# new project, on a cluster with max_worker_processes = 8. Reports successes, errors
# by SQLSTATE, the databases created and the longest wait; asserts no error at all.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"

distinct=${LOAD_DISTINCT:-32}
same=${LOAD_SAME:-32}
cluster_start "max_worker_processes = 8" "max_connections = 150" >/dev/null || exit 1
psql -X -q -c "CREATE EXTENSION claudable" -f "$here/../lib/harden.sql"
work=$(mktemp -d)

# One call: "<project> <exit code> <milliseconds> <SQLSTATE or -> <created> <md5 of password>".
# Only a digest of the password is kept, to compare callers without holding the secret.
one_call() {
    local project=$1 out rc started state
    while [ ! -e "$work/go" ]; do sleep 0.01; done
    started=$(date +%s%N)
    out=$(psql -X -At -F ' ' -v VERBOSITY=verbose \
        -c "SELECT created, md5(password) FROM claudable_provision('$project', 'owner-load')" 2>&1)
    rc=$?
    state=$(grep -oE '^ERROR:  [0-9A-Z]{5}' <<<"$out" | awk '{print $2}' | head -1)
    [ "$rc" = 0 ] || out="- -"
    echo "$project $rc $(( ($(date +%s%N) - started) / 1000000 )) ${state:--} $out" >>"$work/calls"
}

for i in $(seq 1 "$distinct"); do one_call "load-$i" & done
for _ in $(seq 1 "$same"); do one_call "load-shared" & done
started=$(date +%s%N)
touch "$work/go"
wait
wall_ms=$(( ($(date +%s%N) - started) / 1000000 ))

calls=$(wc -l <"$work/calls")
successes=$(awk '$2 == 0' "$work/calls" | wc -l)
longest=$(awk '{print $3}' "$work/calls" | sort -n | tail -1)
median=$(awk '{print $3}' "$work/calls" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
databases=$(psql -X -At -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'app\_db\_load\_%'")
echo "# calls: $calls ($distinct distinct projects + $same calls for one project), wall time ${wall_ms} ms"
echo "# successes: $successes"
errors=$(awk '$2 != 0 {print $4}' "$work/calls" | sort | uniq -c | awk '{printf "%s x%s ", $2, $1}')
echo "# errors by SQLSTATE: ${errors:-none}"
echo "# databases created: $databases"
echo "# wait per call: median ${median} ms, longest ${longest} ms"

check "all $calls calls succeed" test "$successes" = "$((distinct + same))"
check "no call fails with any SQLSTATE" bash -c '! awk '"'"'$2 != 0'"'"' "$1" | grep -q .' _ "$work/calls"
check "every distinct project is created by its call" \
    test "$(awk '$1 ~ /^load-[0-9]+$/ && $5 == "t"' "$work/calls" | wc -l)" = "$distinct"
check "exactly one of the $same same-project callers sees created = true" \
    test "$(awk '$1 == "load-shared" && $5 == "t"' "$work/calls" | wc -l)" = 1
check "all same-project callers get the same password" \
    test "$(awk '$1 == "load-shared" {print $6}' "$work/calls" | sort -u | wc -l)" = 1
check "one database per project: $databases" test "$databases" = "$((distinct + 1))"
check "one role per project" \
    test "$(psql -X -At -c "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'app\_u\_load\_%'")" = "$((distinct + 1))"
check "claudable_check() reports nothing afterwards" test "$(psql -X -At -c "SELECT count(*) FROM claudable_check()")" = 0

rm -rf "$work"
tap_done
