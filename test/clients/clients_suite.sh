#!/usr/bin/env bash
# Real clients over a project's two URLs (GitHub issue 20). A throwaway cluster set up as
# README's Install has it (the deploy role of step 4, PgBouncer 1.18 of step 5b: a wildcard
# database entry, auth_query, transaction pooling); each case provisions a project of its own
# as the deploy role does (claudable_provision over TCP) and runs one tool as an app or a deploy
# step does, once over the row's database_url (what the env bundle gives as DIRECT_URL) and
# once over its pooled_database_url (what it gives as DATABASE_URL when a pooler is set up):
# drizzle-kit and drizzle-orm, knex, node-pg-migrate, TypeORM, Sequelize, postgres.js (its
# defaults and prepare: false), node-postgres (unnamed and named prepared statements),
# psycopg2, psql, and pg_dump/pg_restore by the tenant of its own database. The migration
# tools run while an app's traffic goes through the same URL, as in a deploy. After every
# pooled case, every server connection of the project's pool is looked at for session state
# the tool left there (PgBouncer hands it to the next client as it is). One TAP line per tool
# and URL, each against the outcome this suite expects; the outcomes go to a results file
# (results.tsv beside this script), from which readme_table.mjs makes README's "Which URL for
# which tool" table, and the last check fails when README's table is not what this run saw.
# npm packages come from package.json and package-lock.json (exact versions), by `npm ci` in
# the throwaway directory. Prints TAP; never prints a URL or a password. CLIENTS_RESULTS=FILE
# writes the results file elsewhere; CLIENTS_LOGS=DIR keeps every case's log (password-free).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/deploy_role.sh"
source "$here/../lib/pooler.sh"
source "$here/../lib/install-deps.sh"

results_out=${CLIENTS_RESULTS:-$here/results.tsv}
started_at=$SECONDS

# Every pooled case leaves its project's pool (up to default_pool_size = 8 server connections,
# idle for server_idle_timeout) behind: room for all of them.
start_cluster_with_deploy_role "max_connections = 200" || exit 1
check "PgBouncer starts as README's Install step 5b sets it up (wildcard entry, auth_query, transaction pooling)" pooler_start
[ -n "${POOLER_PID:-}" ] || { tap_done; exit 1; }
unset PGHOSTADDR PGHOST PGUSER PGDATABASE  # every client below gets its URL and nothing else

work="$CLUSTER_DIR/clients"
logs="$work/logs"
mkdir -p "$logs"
(cd "$here" && tar --exclude=node_modules --exclude=results.tsv -cf - .) | tar -xf - -C "$work" || exit 1
results="$work/results.tsv"
secrets="$work/secrets.txt"   # every password this suite is given: no log may hold one
: >"$secrets"
chmod 600 "$secrets"
admin_password=${CLAUDABLE_TEST_ADMIN_URL#postgresql://deploy_service:}
echo "${admin_password%%@*}" >>"$secrets"
echo "$POOLER_ADMIN_PASSWORD" >>"$secrets"

echo "# npm ci (the pinned versions of package-lock.json; ~/.npm caches them after the first run)"
npm_started=$SECONDS
check "Node is version 20 or later ($(node --version 2>/dev/null))" node_is_20_or_later
check "npm ci installs the pinned packages from package-lock.json" \
    bash -c 'cd "$1" && npm ci --no-audit --no-fund --prefer-offline >"$1/logs/npm-ci.log" 2>&1' _ "$work"
echo "# npm ci took $((SECONDS - npm_started)) s"
check "psycopg2 is Debian's python3-psycopg2 (for /usr/bin/python3)" /usr/bin/python3 -c 'import psycopg2'

version_of() { node -p "require('$work/node_modules/$1/package.json').version" 2>/dev/null || echo '?'; }
psycopg2_version=$(/usr/bin/python3 -c 'import psycopg2; print(".".join(psycopg2.__version__.split(".")[:2]))' 2>/dev/null || echo '?')
pg_major=$("$PG_BINDIR/psql" --version | grep -oE '[0-9]+' | head -1)
pgbouncer_version=$(pgbouncer --version | grep -oE '[0-9]+\.[0-9]+' | head -1)
printf '@version\tpgbouncer\t%s\n' "$pgbouncer_version" >"$results"

# provision PROJECT: the row's database_url and pooled_database_url, as the deploy role gets them
# (into DIRECT and POOLED; never printed).
provision() {
    local row
    row=$(psql -X -At -F ' ' "$CLAUDABLE_TEST_ADMIN_URL" \
              -c "SELECT database_url, pooled_database_url, password FROM claudable_provision('$1', 'team-clients')") || return 1
    read -r DIRECT POOLED password <<<"$row"
    [ -n "$POOLED" ] && [ "$POOLED" != "$DIRECT" ] || return 1
    echo "$password" >>"$secrets"
}

# The traffic of the app while a deploy step migrates: 4 clients over the same URL.
traffic_pid=
traffic_start() {
    CLIENT_URL=$1 setsid node "$work/tools/traffic.mjs" >"$2" 2>&1 &
    traffic_pid=$!
    for _ in $(seq 1 100); do grep -q started "$2" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}
traffic_stop() {
    [ -n "$traffic_pid" ] || return 0
    kill -TERM "$traffic_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$traffic_pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL -- "-$traffic_pid" 2>/dev/null
    wait "$traffic_pid" 2>/dev/null
    traffic_pid=
}
trap 'traffic_stop; pooler_stop; cluster_stop' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# A case's outcome, one word: works, works-leaves (works, and leaves session state on the
# pool's server connections), fails, hangs; and its detail.
result_of() {  # LOG: the RESULT line's outcome and detail (tab-separated)
    local line
    line=$(grep -m1 -P '^RESULT\t' "$1")
    if [ -z "$line" ]; then printf 'fails\tno result (exit %s)\n' "$2"; else printf '%s\n' "${line#RESULT	}"; fi
}

# case KEY LABEL WHAT EXPECT_DIRECT EXPECT_POOLED [--traffic] -- CMD...
# Runs CMD (with CLIENT_URL set) over each URL of a fresh project, and checks each outcome.
run_case() {
    local key=$1 label=$2 what=$3 expect_direct=$4 expect_pooled=$5 traffic=
    shift 5
    [ "$1" = --traffic ] && { traffic=yes; shift; }
    [ "$1" = -- ] && shift
    local kind url log outcome detail expected state status
    for kind in direct pooled; do
        log="$logs/$key-$kind.log"
        if ! provision "cl-$key-$kind"; then
            outcome=fails detail="the deploy role could not provision its project"
        else
            [ "$kind" = direct ] && url=$DIRECT || url=$POOLED
            [ -z "$traffic" ] || traffic_start "$url" "$logs/$key-$kind-traffic.log" ||
                echo "# $label: the app's traffic did not start"
            (cd "$work" && CLIENT_URL=$url timeout --kill-after=5 120 "$@") >"$log" 2>&1
            status=$?
            IFS=$'\t' read -r outcome detail < <(result_of "$log" "$status")
            if [ -n "$traffic" ]; then
                traffic_stop
                sed 's/^/traffic: /' "$logs/$key-$kind-traffic.log" >>"$log"
                # The app's own queries must have gone on, without an error, while the tool ran.
                if ! grep -qE '^transactions [1-9][0-9]*$' "$logs/$key-$kind-traffic.log"; then
                    outcome=fails
                    detail="${detail:+$detail; }the app's traffic during it: $(grep -m1 -E 'error|transactions' "$logs/$key-$kind-traffic.log" || echo 'did not start')"
                fi
            fi
            if [ "$kind" = pooled ] && [ "$outcome" != hangs ]; then
                # What the tool left on the server connections that the pool hands to others.
                IFS=$'\t' read -r state leftover < <(CLIENT_URL=$url node "$work/tools/pool-state.mjs" 2>&1 | tee -a "$log" |
                                                     result_of /dev/stdin 0)
                if [ "$state" = leaves ]; then
                    [ "$outcome" = works ] && outcome=works-leaves
                    leftover="session state stays on a server connection of the pool, for the next client: $leftover"
                    if [ -n "$detail" ]; then detail="$detail. Its $leftover"; else detail="its $leftover"; fi
                elif [ "$state" != works ]; then
                    outcome=fails detail="${detail:+$detail; }its pool could not be looked at afterwards: $leftover"
                fi
            fi
        fi
        [ "$kind" = direct ] && expected=$expect_direct || expected=$expect_pooled
        # breaks: it hangs or it fails, which of the two depending on how PgBouncer happens to
        # hand out its server connections; README's row then gives $breaks_why for either.
        if [ "$expected" = breaks ] && { [ "$outcome" = hangs ] || [ "$outcome" = fails ]; }; then
            echo "# $label, $kind URL, this time: $outcome${detail:+: $detail}"
            outcome=breaks detail=$breaks_why
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$label" "$what" "$kind" "$outcome" "$detail" >>"$results"
        check "$label over the $kind URL: $expected" test "$outcome" = "$expected"
        [ "$outcome" = works ] || echo "# $label, $kind URL: $outcome${detail:+: $detail}"
    done
}

# psql as an app's script and a DBA's session use it: DDL, a transaction, \copy, a query.
psql_case() {
    local out
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$CLIENT_URL" -f - 2>&1 <<'SQL'
CREATE TABLE psql_events (id serial PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL DEFAULT now());
BEGIN;
INSERT INTO psql_events (kind) VALUES ('deploy'), ('restart');
\copy psql_events (kind) FROM stdin
import
export
\.
COMMIT;
SELECT count(*) FROM psql_events;
SQL
    )
    local status=$?
    if [ "$status" = 0 ] && [ "$out" = 4 ]; then printf 'RESULT\tworks\t\n'; else
        printf 'RESULT\tfails\t%s\n' "$(grep -m1 -E 'ERROR|FATAL|error' <<<"$out" | sed -E 's/^psql:[^ ]* //')"; fi
}

# pg_dump and pg_restore by the tenant, of and into its own database: custom format, restored
# with --clean --if-exists over the same URL; 0 errors, and the data is the same afterwards.
dump_case() {
    local dump="$CLIENT_WORK/dump.pgc" before after err
    psql -X -q -v ON_ERROR_STOP=1 -d "$CLIENT_URL" >/dev/null 2>&1 <<'SQL' || { printf 'RESULT\tfails\tcould not make the objects to dump\n'; return; }
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers, total numeric(10,2));
CREATE INDEX ON shop.orders (customer_id);
CREATE VIEW shop.totals AS SELECT customer_id, sum(total) AS total FROM shop.orders GROUP BY customer_id;
CREATE FUNCTION shop.order_count(c int) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM shop.orders WHERE customer_id = c $$;
CREATE TABLE public.notes (id int PRIMARY KEY, body text);
COMMENT ON TABLE public.notes IS 'a table in public';
INSERT INTO shop.customers (email) SELECT 'c' || g || '@example.org' FROM generate_series(1, 50) g;
INSERT INTO shop.orders (customer_id, total) SELECT 1 + g % 50, g FROM generate_series(1, 500) g;
INSERT INTO public.notes VALUES (1, 'one'), (2, 'two');
SQL
    local fingerprint="SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
        SELECT email AS x FROM shop.customers UNION ALL SELECT id || ':' || customer_id || ':' || total FROM shop.orders
        UNION ALL SELECT body FROM public.notes UNION ALL SELECT shop.order_count(1)::text
        UNION ALL SELECT last_value::text FROM shop.orders_id_seq) s"
    before=$(psql -X -At -d "$CLIENT_URL" -c "$fingerprint" 2>/dev/null)
    if ! err=$(pg_dump -Fc -f "$dump" -d "$CLIENT_URL" 2>&1); then
        printf 'RESULT\tfails\tpg_dump: %s\n' "$(head -1 <<<"$err")"; return
    fi
    err=$(pg_restore --clean --if-exists -d "$CLIENT_URL" "$dump" 2>&1)
    local status=$?
    after=$(psql -X -At -d "$CLIENT_URL" -c "$fingerprint" 2>/dev/null)
    if [ "$status" != 0 ] || [ -n "$err" ]; then
        printf 'RESULT\tfails\tpg_restore (exit %s): %s\n' "$status" "$(grep -m1 -E 'error|warning' <<<"$err")"
    elif [ -z "$before" ] || [ "$before" != "$after" ]; then
        printf 'RESULT\tfails\tthe restored data differs from the dumped data\n'
    else
        printf 'RESULT\tworks\t\n'
    fi
}

# Prisma's `?pgbouncer=true` on a URL, given to a libpq client.
pgbouncer_param_psql() {
    local err
    local sep="?"; [[ "$CLIENT_URL" == *"?"* ]] && sep="&"
    err=$(psql -X -At -d "$CLIENT_URL${sep}pgbouncer=true" -c 'SELECT 1' 2>&1 >/dev/null)
    local status=$?
    if [ "$status" = 0 ]; then printf 'RESULT\tworks\t\n'; else
        printf 'RESULT\tfails\t%s\n' "$(head -1 <<<"$err" | sed -E 's/^psql: error: //')"; fi
}
export -f psql_case dump_case pgbouncer_param_psql
export CLIENT_WORK="$work"

echo "# the tools: over the direct URL (DIRECT_URL) and the pooled URL (DATABASE_URL)"
run_case drizzle "drizzle-kit $(version_of drizzle-kit) + drizzle-orm $(version_of drizzle-orm)" \
    '`drizzle-kit migrate` twice (the second a no-op) during app traffic; drizzle-orm: a transaction, a join, 6 queries at once' \
    works works --traffic -- node tools/drizzle.mjs
run_case knex "knex $(version_of knex)" \
    '`knex migrate:latest` twice (the second a no-op) during app traffic; the query builder: a transaction, 6 queries at once' \
    works works --traffic -- node tools/knex.mjs
run_case node-pg-migrate "node-pg-migrate $(version_of node-pg-migrate)" \
    '`node-pg-migrate up` (its default: a session advisory lock) up to 4 times, as 4 deploys, during app traffic; its lock must be gone after each' \
    works fails --traffic -- node tools/node-pg-migrate.mjs
run_case typeorm "TypeORM $(version_of typeorm)" \
    '`typeorm migration:run` twice (the second a no-op) during app traffic; repositories: a transaction, 6 queries at once' \
    works works --traffic -- node tools/typeorm.mjs
run_case sequelize "Sequelize $(version_of sequelize)" \
    'a model, `sync()` twice, a managed transaction, 6 queries at once' \
    works works-leaves -- node tools/sequelize.mjs
not_linked=$(grep -c 'from server when not linked' "$POOLER_LOG")
breaks_why='no answer within 15 s, or 26000 (prepared statement "..." does not exist): its named prepared statements stay on server connections that PgBouncer hands to other clients' \
run_case postgres-js "postgres.js $(version_of postgres), its defaults (\`prepare: true\`)" \
    '6 times a pool of 4: 8 parameterised queries at once (pipelined), `sql.begin`' \
    works breaks -- node tools/postgres-js.mjs default
postgres_js_why() {  # the hang: a reply PgBouncer got on a server connection it had taken back; the failure: 26000
    [ "$(grep -c 'from server when not linked' "$POOLER_LOG")" -gt "$not_linked" ] ||
        grep -q $'^RESULT\tfails\t26000 prepared statement' "$logs/postgres-js-pooled.log"
}
check "PgBouncer's log or the error says why: a reply from a server connection it had taken back from the client (... when not linked), or 26000 for a statement prepared on another one" \
    postgres_js_why
run_case postgres-js-unprepared "postgres.js $(version_of postgres) with \`prepare: false\`" \
    'the same, with `prepare: false`' \
    works works -- node tools/postgres-js.mjs prepare-false
run_case pg "node-postgres (pg) $(version_of pg), unnamed statements (its default)" \
    'a Pool: parameterised queries, 6 at once, a transaction on a checked-out client' \
    works works -- node tools/node-postgres.mjs unnamed
run_case pg-named "node-postgres (pg) $(version_of pg), named prepared statements (\`{ name, text }\`)" \
    '4 clients at once, each running the same named statement 25 times' \
    works fails -- node tools/node-postgres.mjs named
run_case psycopg2 "psycopg2 $psycopg2_version (Debian's python3-psycopg2)" \
    'a transaction with parameters, a rollback, 4 connections at once' \
    works works -- /usr/bin/python3 tools/psycopg2_check.py
run_case psql "psql $pg_major" \
    'a script: DDL, a transaction, `\copy ... FROM stdin`, a query' \
    works works -- bash -c psql_case
run_case pg_dump "pg_dump / pg_restore $pg_major, by the tenant" \
    'a custom-format dump of its own database, restored into it with `--clean --if-exists`: 0 errors, the same data' \
    works works-leaves -- bash -c dump_case
run_case pgbouncer-param-psql "psql $pg_major with Prisma's \`?pgbouncer=true\` on the URL" \
    'log in and `SELECT 1`' \
    fails fails -- bash -c pgbouncer_param_psql
run_case pgbouncer-param-psycopg2 "psycopg2 $psycopg2_version with Prisma's \`?pgbouncer=true\` on the URL" \
    '`psycopg2.connect(url)`' \
    fails fails -- /usr/bin/python3 tools/psycopg2_check.py --pgbouncer-param

echo "# what the suite saw, and README"
cp "$results" "$results_out" 2>/dev/null
check "every case wrote its outcome (results file: test/clients/results.tsv)" \
    test "$(grep -vc '^@' "$results")" = $((14 * 2))
absent_all "$secrets" "$logs"/*.log "$results"
no_secret=$?
check "no tool's output, log or result holds a password (so no URL either)" test "$no_secret" = 0
# CLIENTS_LOGS=DIR keeps every case's log for a developer (only when none holds a password).
[ -z "${CLIENTS_LOGS:-}" ] || [ "$no_secret" != 0 ] || { mkdir -p "$CLIENTS_LOGS" && cp "$logs"/*.log "$CLIENTS_LOGS"/; }
node "$work/readme_table.mjs" --check "$root/README.md" "$results" >"$logs/readme-check.log" 2>&1
readme_status=$?
check "README's \"Which URL for which tool\" table is exactly what this run saw (node test/clients/readme_table.mjs --write README.md test/clients/results.tsv writes it)" \
    test "$readme_status" = 0
[ "$readme_status" = 0 ] || sed 's/^/# /' "$logs/readme-check.log" | head -40
echo "# clients suite: $((SECONDS - started_at)) s"
tap_done
