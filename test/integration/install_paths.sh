#!/usr/bin/env bash
# A fresh CREATE EXTENSION (the full script of the current version) and every upgrade
# path from an earlier version give the same extension objects, compared object by object
# (test/lib/extension_signature.sql). Needs the cluster from test/lib/cluster.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

signature_sql="$here/../lib/extension_signature.sql"
work=$(mktemp -d)
for db in claudable_fresh claudable_from_0_1_0 claudable_from_0_2_0 claudable_from_0_3_0 claudable_from_0_4_0 claudable_from_0_5_0 claudable_from_0_6_0 claudable_from_0_6_1 claudable_from_0_7_0; do
    psql -X -qAt -d postgres -c "CREATE DATABASE $db" >/dev/null
done
check "CREATE EXTENSION installs the current version from its full script" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_fresh -c "CREATE EXTENSION claudable"
check "0.1.0 updates straight to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_1_0 -c "CREATE EXTENSION claudable VERSION '0.1.0'" \
         -c "ALTER EXTENSION claudable UPDATE"
check "0.1.0 updates to 0.2.0, then to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_2_0 -c "CREATE EXTENSION claudable VERSION '0.1.0'" \
         -c "ALTER EXTENSION claudable UPDATE TO '0.2.0'" -c "ALTER EXTENSION claudable UPDATE"
check "0.3.0 updates to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_3_0 -c "CREATE EXTENSION claudable VERSION '0.3.0'" \
         -c "ALTER EXTENSION claudable UPDATE"
check "0.4.0 updates to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_4_0 -c "CREATE EXTENSION claudable VERSION '0.4.0'" \
         -c "ALTER EXTENSION claudable UPDATE"
check "0.5.0 updates to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_5_0 -c "CREATE EXTENSION claudable VERSION '0.5.0'" \
         -c "ALTER EXTENSION claudable UPDATE"
check "0.6.0 updates to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_6_0 -c "CREATE EXTENSION claudable VERSION '0.6.0'" \
         -c "ALTER EXTENSION claudable UPDATE"
check "0.6.1 updates to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_6_1 -c "CREATE EXTENSION claudable VERSION '0.6.1'" \
         -c "ALTER EXTENSION claudable UPDATE"
check "0.7.0 updates to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d claudable_from_0_7_0 -c "CREATE EXTENSION claudable VERSION '0.7.0'" \
         -c "ALTER EXTENSION claudable UPDATE"
for db in claudable_fresh claudable_from_0_1_0 claudable_from_0_2_0 claudable_from_0_3_0 claudable_from_0_4_0 claudable_from_0_5_0 claudable_from_0_6_0 claudable_from_0_6_1 claudable_from_0_7_0; do
    check "${db#claudable_}: the extension's objects can be listed" \
        bash -c 'psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$2" >"$3"' _ "$db" "$signature_sql" "$work/$db"
done
objects=$(grep -c '' "$work/claudable_fresh")
check "the fresh install has the extension's objects ($objects lines)" test "$objects" -ge 30
for db in claudable_from_0_1_0 claudable_from_0_2_0 claudable_from_0_3_0 claudable_from_0_4_0 claudable_from_0_5_0 claudable_from_0_6_0 claudable_from_0_6_1 claudable_from_0_7_0; do
    check "${db#claudable_}: the same objects as a fresh install" diff "$work/claudable_fresh" "$work/$db"
    diff "$work/claudable_fresh" "$work/$db" | head -20 | sed 's/^/# /'
done

# claudable_fleet the same way: its fresh install, its update from 0.1.0 straight to the
# current version, from 0.1.0 to 0.2.0 (the frozen upgrade script), then to the current one,
# and from 0.1.0 to 0.3.0 (both frozen upgrade scripts), then to the current one.
fleet_dbs="fleet_fresh fleet_from_0_1_0 fleet_from_0_2_0 fleet_from_0_3_0"
for db in $fleet_dbs; do
    psql -X -qAt -d postgres -c "CREATE DATABASE $db" >/dev/null
    psql -X -qAt -d "$db" -c "CREATE EXTENSION plproxy" >/dev/null
done
fleet_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$here/../../fleet/claudable_fleet.control")
check "CREATE EXTENSION claudable_fleet installs the current version ($fleet_version) from its full script" \
    psql -X -q -v ON_ERROR_STOP=1 -d fleet_fresh -c "CREATE EXTENSION claudable_fleet"
check "claudable_fleet 0.1.0 updates to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d fleet_from_0_1_0 -c "CREATE EXTENSION claudable_fleet VERSION '0.1.0'" \
         -c "ALTER EXTENSION claudable_fleet UPDATE"
check "claudable_fleet 0.1.0 updates to 0.2.0, then to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d fleet_from_0_2_0 -c "CREATE EXTENSION claudable_fleet VERSION '0.1.0'" \
         -c "ALTER EXTENSION claudable_fleet UPDATE TO '0.2.0'" -c "ALTER EXTENSION claudable_fleet UPDATE"
check "claudable_fleet 0.1.0 updates to 0.3.0, then to the current version" \
    psql -X -q -v ON_ERROR_STOP=1 -d fleet_from_0_3_0 -c "CREATE EXTENSION claudable_fleet VERSION '0.1.0'" \
         -c "ALTER EXTENSION claudable_fleet UPDATE TO '0.3.0'" -c "ALTER EXTENSION claudable_fleet UPDATE"
check "every claudable_fleet database is at the current version ($fleet_version)" \
    test "$(for db in $fleet_dbs; do psql -X -qAt -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'claudable_fleet'"; done | sort -u)" = "$fleet_version"
for db in $fleet_dbs; do
    psql -X -q -v ON_ERROR_STOP=1 -v ext=claudable_fleet -d "$db" -f "$signature_sql" >"$work/$db" 2>&1
done
check "claudable_fleet's fresh install has its objects ($(grep -c '' "$work/fleet_fresh") lines)" \
    test "$(grep -c 'function' "$work/fleet_fresh")" -ge 30
for db in fleet_from_0_1_0 fleet_from_0_2_0 fleet_from_0_3_0; do
    check "claudable_fleet ${db#fleet_}: the same objects as a fresh install" diff "$work/fleet_fresh" "$work/$db"
    diff "$work/fleet_fresh" "$work/$db" | head -20 | sed 's/^/# /'
done
# What 0.3.0 adds reaches a directory updated from 0.2.0: it tells pooler-sync of new projects.
check "claudable_fleet's claudable_provision and claudable_deprovision notify channel claudable_pooler (pooler-sync)" \
    test "$(psql -X -qAt -d fleet_from_0_2_0 -c "SELECT count(*) FROM pg_proc WHERE proname IN ('claudable_provision', 'claudable_deprovision')
                                                   AND prosrc LIKE '%claudable_fleet.tell_pooler()%'")" = 2
# What 0.4.0 adds reaches a directory updated from 0.3.0: claudable 0.7.0's snapshot and branch calls.
check "claudable_fleet updated from 0.3.0 routes claudable_snapshot, claudable_snapshots, claudable_restore, claudable_drop_snapshot and claudable_branch" \
    test "$(psql -X -qAt -d fleet_from_0_3_0 -c "SELECT count(*) FROM unnest(ARRAY['claudable_snapshot(text, text, text)',
                 'claudable_snapshots(text, text)', 'claudable_restore(text, text, text)', 'claudable_drop_snapshot(text, text, text)',
                 'claudable_branch(text, text, text, text, timestamptz)']) AS f WHERE to_regprocedure(f) IS NOT NULL")" = 5

for db in claudable_fresh claudable_from_0_1_0 claudable_from_0_2_0 claudable_from_0_3_0 claudable_from_0_4_0 claudable_from_0_5_0 \
    $fleet_dbs; do
    psql -X -qAt -d postgres -c "DROP DATABASE $db" >/dev/null
done
rm -rf "$work"
tap_done
