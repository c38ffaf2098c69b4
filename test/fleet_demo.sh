#!/usr/bin/env bash
# `make fleet-demo`: a directory and two claudable servers (three throwaway clusters) and
# PgBouncer in front of them. A deploy role holding EXECUTE on the directory's functions
# provisions 20 projects; the demo shows how they spread over the servers, writes
# PgBouncer's configuration with `claudable pgbouncer-config`, and logs in to every
# project through its pooled URL. Passwords are masked; everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

source test/lib/install-deps.sh
install_missing_packages
echo "== building and installing the extensions and the CLI"
make -s >/dev/null && make -s install >/dev/null && make -s client-install >/dev/null

source test/lib/cluster.sh
source test/lib/nodes.sh
source test/lib/fleet.sh
unset PGHOST PGPORT PGUSER PGDATABASE
mask_url() { sed -E 's#(://[^:/@]+:)[^@]*@#\1********@#'; }

echo "== two claudable servers, each with a role that holds EXECUTE on claudable's functions only"
fleet_start_server a
fleet_start_server b
echo "   server a: port ${NODE_PORT[a]}    server b: port ${NODE_PORT[b]}"
fleet_start_directory
echo "== the directory (claudable_fleet over PL/Proxy) on port ${NODE_PORT[directory]}"
fleet_add_server a 100
fleet_add_server b 100
nq directory -d directory -c "SELECT format('   %s: %s, capacity %s', name, state, capacity) FROM claudable_fleet.servers ORDER BY name"

echo "== deploy role (EXECUTE on claudable_provision, _deprovision, _rotate_password only):"
echo "   SELECT * FROM claudable_provision('demo-N', 'demo-team') for N = 1..20, through the directory"
started=$(date +%s%N)
for i in $(seq 1 20); do
    psql -X -q -At "$DEPLOY_URL" -c "SELECT 1 FROM claudable_provision('demo-$i', 'demo-team')" >/dev/null
done
echo "   20 projects in $(( ($(date +%s%N) - started) / 1000000 )) ms (psql start-up included)"
echo "== how they spread"
nq directory -d directory -c "SELECT format('   server %s: %s projects (%s)', server, count(*), string_agg(project_id, ' ' ORDER BY length(project_id), project_id))
                                FROM claudable_fleet.placements GROUP BY server ORDER BY server"
echo "== one project's row, as the deploy role gets it (passwords masked)"
psql -X -q -At -F $'\t' "$DEPLOY_URL" -c "SELECT project_id, host, port, database_url, pooled_database_url
                                           FROM claudable_provision('demo-1', 'demo-team')" |
    while IFS=$'\t' read -r project host port url pooled; do
        printf '   %-20s %s\n' project_id "$project" "server" "$host:$port" database_url "$(mask_url <<<"$url")" \
            pooled_database_url "$(mask_url <<<"$pooled")"
    done

echo "== claudable pgbouncer-config against the directory"
fleet_write_pgbouncer_config
echo "   $(grep -c ' = host=' "$FLEET_DIR/pgbouncer/pgbouncer-databases.ini") [databases] entries; for example:"
grep ' = host=' "$FLEET_DIR/pgbouncer/pgbouncer-databases.ini" | head -2 | sed 's/^/     /'
echo "   userlist.txt: $(wc -l <"$FLEET_DIR/pgbouncer/userlist.txt") SCRAM verifiers, mode $(stat -c %a "$FLEET_DIR/pgbouncer/userlist.txt"), no password"
fleet_start_pgbouncer
echo "== PgBouncer 1.18 on port $PGBOUNCER_PORT (auth_type scram-sha-256, pool_mode transaction)"

echo "== every project through its pooled URL"
ok=0
while IFS=$'\t' read -r project url; do
    got=$(psql -X -At -F ' ' "$url" -c "SELECT current_user, current_database(), inet_server_port()")
    printf '   %-8s -> %s\n' "$project" "$got"
    [ -n "$got" ] && ok=$((ok + 1))
done < <(psql -X -q -At -F $'\t' "$DEPLOY_URL" -c "SELECT project_id, pooled_database_url
                                                     FROM generate_series(1, 20) AS n, claudable_provision('demo-' || n, 'demo-team')")
echo "== $ok of 20 projects logged in through PgBouncer (inet_server_port is the server behind it)"
echo "== removing the clusters and PgBouncer"
[ "$ok" = 20 ]
