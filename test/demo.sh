#!/usr/bin/env bash
# The main job (`make demo`): on a throwaway local cluster, a deploy role that holds
# nothing but README's grants (CONNECT on meta, EXECUTE) provisions a project over TCP; the
# row is shown with the password masked, and the DATABASE_URL is proven by logging in with it.
set -euo pipefail
cd "$(dirname "$0")/.."

# PG_MAJOR=NN (make demo PG_MAJOR=18): the same demo on another supported major, in a root
# filesystem of the Debian release that packages it (test/majors/in_rootfs.sh).
source test/lib/majors.sh
if [ -n "${PG_MAJOR:-}" ] && [ "$PG_MAJOR" != "$host_pg_major" ] && [ -z "${CLAUDABLE_IN_ROOTFS:-}" ]; then
    major_debian_suite "$PG_MAJOR" >/dev/null || exit 2
    echo "== PostgreSQL $PG_MAJOR, in a Debian $(major_debian_suite "$PG_MAJOR") root filesystem"
    exec bash test/majors/in_rootfs.sh "$PG_MAJOR" bash test/demo.sh
fi

source test/lib/install-deps.sh
install_missing_packages
echo "== building and installing the extension"
make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null

source test/lib/cluster.sh
source test/lib/deploy_role.sh
# As README's Install does it: the metadata database meta, hardened, and the deploy
# service's role made by README's grant block, with a password set by \password.
start_cluster_with_deploy_role
echo "== throwaway cluster on port $PGPORT ($CLUSTER_DIR)"
echo "== role deploy_service: $(psql -X -At -d meta -c "SELECT format('superuser=%s createdb=%s createrole=%s', rolsuper, rolcreatedb, rolcreaterole) FROM pg_roles WHERE rolname = 'deploy_service'"), README's grants: CONNECT on meta, EXECUTE on $(psql -X -At -d meta -c "SELECT string_agg(p.proname, ', ' ORDER BY p.proname) FROM pg_proc p WHERE has_function_privilege('deploy_service', p.oid, 'EXECUTE') AND p.proname LIKE 'claudable%'")"

mask_url() { sed -E 's#(://[^:/@]+:)[^@]*@#\1********@#'; }

provision() {
    psql -X -At -F $'\t' "$CLAUDABLE_TEST_ADMIN_URL" \
        -c "SELECT project_id, owner_id, database_name, username, password, host, port, database_url, created, created_at
              FROM claudable_provision('demo-app', 'demo-team')"
}

echo "== deploy_service, over TCP: SELECT * FROM claudable_provision('demo-app', 'demo-team')"
started=$(date +%s%N)
IFS=$'\t' read -r project_id owner_id database_name username password host port url created created_at <<<"$(provision)"
first_ms=$(( ($(date +%s%N) - started) / 1000000 ))
printf '  %-14s %s\n' project_id "$project_id" owner_id "$owner_id" database_name "$database_name" \
    username "$username" password '********' host "$host" port "$port" \
    database_url "$(mask_url <<<"$url")" created "$created" created_at "$created_at"
echo "  (first call: ${first_ms} ms, psql start-up included)"

echo "== the same call again (the deploy path runs it on every deploy)"
started=$(date +%s%N)
IFS=$'\t' read -r _ _ _ _ password_again _ _ _ created_again _ <<<"$(provision)"
again_ms=$(( ($(date +%s%N) - started) / 1000000 ))
same=no
[ "$password_again" = "$password" ] && same=yes
echo "  created=$created_again, same password: $same (${again_ms} ms, psql start-up included)"

echo "== connecting with DATABASE_URL=$(mask_url <<<"$url")"
psql -X "$url" -v ON_ERROR_STOP=1 \
    -c "SELECT current_user, current_database(), inet_server_port() AS port" \
    -c "CREATE TABLE visits (id serial PRIMARY KEY, at timestamptz DEFAULT now())" \
    -c "INSERT INTO visits DEFAULT VALUES" \
    -c "SELECT count(*) AS visits FROM visits"

echo "== the server log, filtered for claudable"
grep -F 'claudable:' "$CLUSTER_LOG" | sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ //'

echo "== done: the cluster is removed now"
