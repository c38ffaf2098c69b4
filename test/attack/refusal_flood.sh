#!/usr/bin/env bash
# Attack: the deploy service floods the audit trail with refused calls (issue 19, item 10):
# 2,000 wrong-owner calls, from one session and from twenty at once. Every refusal is
# counted; the trail grows by one event per (actor, project, action) and minute, and
# claudable's own LOG lines by one per event.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
source "$here/../lib/wait.sh"
start_attack_cluster || exit 1
for project in victim victim-2 victim-3; do tenant_url "$project" owner-real >/dev/null; done
calls=$(mktemp)
for i in $(seq 1 2000); do echo "SELECT 1 FROM claudable_provision('victim', 'intruder');"; done >"$calls"
refused=$(psql -X -q "$DEPLOY_URL" -f "$calls" 2>&1 >/dev/null | grep -c 'permission denied for project "victim"')
check "2,000 calls of the deploy role with the wrong owner_id are all refused" test "$refused" = 2000
drained() {  # COUNT: the queue is drained and the trail counts COUNT refusals of victim/intruder
    wait_for_row "SELECT 1 WHERE (SELECT coalesce(sum(repeats), 0) FROM claudable.events
                                   WHERE project_id = 'victim' AND owner_id = 'intruder') = $1"
}
counted=ok
drained 2000 || {  # what to look at when it did not: the count, the queue files, the drainer's errors
    counted=short
    echo "# counted: $(q -c "SELECT coalesce(sum(repeats), 0) FROM claudable.events WHERE owner_id = 'intruder'")"
    ls -la "$CLUSTER_DIR"/data/claudable_refusals* 2>&1 | sed 's/^/# /'
    grep -E 'drainer|claudable_refusals|could not' "$CLUSTER_LOG" | tail -5 | sed 's/^/# /'
}
check "claudable.events counts all 2,000 (sum of repeats)" test "$counted" = ok
events=$(q -c "SELECT count(*) FROM claudable.events WHERE project_id = 'victim' AND owner_id = 'intruder'")
echo "# 2,000 refusals from one session: $events event(s) in claudable.events"
check "in at most two events (one per minute a burst spans)" test "$events" -le 2
check "each with the refusal's SQLSTATE, the actor and a first and last time" \
    test "$(q -c "SELECT count(*) FROM claudable.events WHERE project_id = 'victim' AND owner_id = 'intruder'
                   AND actor = 'deploy_service' AND detail = '42501: owner_id does not match the registered owner'
                   AND (repeats = 1 OR last_at >= at)")" = "$events"
lines=$(grep -c 'claudable: refused provision of project "victim" for owner "intruder"' "$CLUSTER_LOG")
check "claudable's LOG lines for them: one per event" test "$lines" = "$events"

for s in $(seq 1 20); do
    (for i in $(seq 1 100); do echo "SELECT 1 FROM claudable_provision('victim-2', 'intruder-parallel');"; done |
        psql -X -q "$DEPLOY_URL" >/dev/null 2>&1) &
done
wait
parallel_drained() {
    wait_for_row "SELECT 1 WHERE (SELECT coalesce(sum(repeats), 0) FROM claudable.events
                                   WHERE project_id = 'victim-2' AND owner_id = 'intruder-parallel') = 2000"
}
check "2,000 refusals from twenty sessions at once are all counted" parallel_drained
events=$(q -c "SELECT count(*) FROM claudable.events WHERE project_id = 'victim-2' AND owner_id = 'intruder-parallel'")
echo "# 2,000 refusals from twenty sessions: $events event(s)"
check "in at most two events" test "$events" -le 2
# The owner_id is the caller's to choose: a different one on every call is still one actor
# refused for one project.
for i in $(seq 1 2000); do echo "SELECT 1 FROM claudable_provision('victim-3', 'intruder-$i');"; done >"$calls"
psql -X -q "$DEPLOY_URL" -f "$calls" >/dev/null 2>&1
varied_drained() {
    wait_for_row "SELECT 1 WHERE (SELECT coalesce(sum(repeats), 0) FROM claudable.events
                                   WHERE project_id = 'victim-3' AND outcome = 'failed') = 2000"
}
varied_drained || echo "# counted: $(q -c "SELECT coalesce(sum(repeats), 0) || ' in ' || count(*) FROM claudable.events WHERE project_id = 'victim-3' AND outcome = 'failed'")"
check "2,000 refusals with 2,000 different owner_ids are all counted" varied_drained
events=$(q -c "SELECT count(*) FROM claudable.events WHERE project_id = 'victim-3' AND outcome = 'failed'")
echo "# 2,000 refusals with a new owner_id each: $events event(s)"
check "in at most two events" test "$events" -le 2
check "claudable's LOG lines for them: one per event" \
    test "$(grep -c 'claudable: refused provision of project "victim-3"' "$CLUSTER_LOG")" = "$events"
check "the project and its owner are untouched" \
    test "$(q -c "SELECT owner_id || ' ' || status FROM claudable.projects WHERE project_id = 'victim'")" = "owner-real ready"
rm -f "$calls"
tap_done
