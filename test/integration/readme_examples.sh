#!/usr/bin/env bash
# Every settings example in README.md (the ```sql blocks marked <!-- readme-example: settings -->)
# runs exactly as printed, each in a session of its own in which the library is not loaded
# yet, and takes effect. Needs the cluster from test/lib/cluster.sh; what the examples change
# (ALTER SYSTEM, app_template, the spare pool) is undone afterwards.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

db=claudable_readme
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -qAt -d postgres -c "CREATE DATABASE $db" >/dev/null
q -q -c "CREATE EXTENSION claudable" -f "$here/../lib/harden.sql"
work=$(mktemp -d)

# Writes each marked block to $work/example-N.sql.
awk -v dir="$work" '
    /^<!-- readme-example: settings -->$/ { armed = 1; next }
    armed && /^```sql$/ { n++; file = dir "/example-" n ".sql"; inside = 1; armed = 0; next }
    inside && /^```$/ { inside = 0; close(file); next }
    inside { print > file }
    { armed = 0 }
' "$here/../../README.md"
examples=$(ls "$work"/example-*.sql 2>/dev/null | wc -l)
check "README marks its settings examples ($examples found)" test "$examples" -ge 4

for example in "$work"/example-*.sql; do
    first=$(grep -m1 -vE '^\s*(--|$)' "$example")
    check "README example runs as printed: ${first:0:70}" q -q -f "$example"
done
check "the ALTER SYSTEM examples take effect after the reload" \
    test "$(q -c "SELECT current_setting('claudable.max_projects_per_owner') || ' ' || current_setting('claudable.template')")" = "50 app_template"

check "the spare pool example leaves 8 spares copied from app_template" \
    test "$(q -c "SELECT count(*) || ' ' || string_agg(DISTINCT template_name, ',') FROM claudable.spares WHERE state = 'ready'")" = "8 app_template"

q -q -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.2
check "with the settings reset, a refill drops the spares again" test "$(q -c "SELECT claudable_refill_spares()")" = 0
psql -X -qAt -d postgres -c "DROP DATABASE IF EXISTS app_template" -c "DROP DATABASE $db" >/dev/null
rm -rf "$work"
tap_done
