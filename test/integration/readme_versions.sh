#!/usr/bin/env bash
# README's "Snapshots, restore and branches" examples (the ```sql blocks marked
# <!-- readme-example: versions -->) run exactly as printed, in order, in one psql session of
# the deploy service with README's grants (Install step 4), and do what the text says: the
# restore brings the data of the snapshot back under the same URL, the preview branch holds
# the project's data, the shadow branch is empty, and closing the pull request removes both.
# Needs the cluster from test/lib/cluster.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/readme.sh"
source "$here/../lib/cluster.sh"

db=claudable_readme_versions
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -qAt -d postgres -c "CREATE DATABASE $db" >/dev/null
q -q -c "CREATE EXTENSION claudable" -f "$here/../lib/harden.sql"
work=$(mktemp -d)
chmod 755 "$work"
password=$(random_password)
# README's grant block as printed but for the names: this suite's database, and a role of its
# own (the shared test cluster may hold a deploy_service of another suite).
readme_grants deploy | sed "s/DATABASE meta/DATABASE $db/; s/deploy_service/deploy_versions/g" >"$work/grants.sql"
check "README's deploy grant block runs" q -q -f "$work/grants.sql"
printf '%s\n%s\n' "$password" "$password" | setsid -w psql -X -q -d "$db" -c '\password deploy_versions' >/dev/null 2>&1
deploy_url="postgresql://deploy_versions:$password@127.0.0.1:$PGPORT/$db"

awk -v dir="$work" '
    /^<!-- readme-example: versions -->$/ { armed = 1; next }
    armed && /^```sql$/ { n++; file = dir "/example-" n ".sql"; inside = 1; armed = 0; next }
    inside && /^```$/ { inside = 0; close(file); next }
    inside { print > file }
    { armed = 0 }
' "$here/../../README.md"
check "README marks its snapshot and branch examples ($(ls "$work"/example-*.sql 2>/dev/null | wc -l) found)" \
    test "$(ls "$work"/example-*.sql 2>/dev/null | wc -l)" -eq 2

# The first example, with the app's own steps where its comments put them.
url() { q -c "SELECT database_url FROM claudable_provision('$1', 'team-7')"; }
{
    sed -n '1,2p' "$work/example-1.sql"
    echo "\\! psql -X -q \"\$APP_URL\" -c \"CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)\""
    sed -n '3,3p' "$work/example-1.sql"
    echo "\\! psql -X -q \"\$APP_URL\" -c \"DROP TABLE orders; CREATE TABLE orders_v2 (id int)\""
    sed -n '4,$p' "$work/example-1.sql"
} >"$work/flow-1.sql"
check "the first example's statements are all in the flow" \
    test "$(grep -vc '^\\!' "$work/flow-1.sql")" = "$(grep -c '' "$work/example-1.sql")"
q -q -c "SELECT claudable_provision('shop', 'team-7')" >/dev/null  # the app's URL, before the example
export APP_URL=$(url shop)
out1=$(psql -X -At -v ON_ERROR_STOP=1 "$deploy_url" -f "$work/flow-1.sql" 2>&1)
check "the rollback example runs as printed as the deploy service" test $? = 0
check "it lists the snapshot and the state the restore replaced, newest first" \
    bash -c '[[ "$(sed -n "3,4p" <<<"$1" | cut -d"|" -f2 | tr "\n" ,)" == "before restore of snap-"*",before deploy of 9f3c2e1," ]]' _ "$out1"
check "the app's URL is unchanged and finds the data of the snapshot" \
    test "$(psql -X -At "$(url shop)" -c "SELECT count(*) || ' ' || (to_regclass('orders_v2') IS NULL) FROM orders")" = "1 true"
check "and it is the same URL" test "$(url shop)" = "$APP_URL"

# The second example in two parts, cut at its "closed" comment, the preview checked between.
cut=$(grep -n 'the pull request is closed' "$work/example-2.sql" | cut -d: -f1)
head -n $((cut - 1)) "$work/example-2.sql" >"$work/flow-2a.sql"
tail -n +"$cut" "$work/example-2.sql" >"$work/flow-2b.sql"
out2=$(psql -X -At -v ON_ERROR_STOP=1 "$deploy_url" -f "$work/flow-2a.sql" 2>&1)
check "the preview example runs as printed as the deploy service, up to the pull request's close" test $? = 0
check "and lists both branches under the project" \
    test "$(cut -d'|' -f1,2 <<<"$out2" | sort | tr '\n' ,)" = "shop~pr-42-shadow|shop,shop~pr-42|shop,"
check "the preview branch holds the project's data, under its own role" \
    test "$(psql -X -At "$(url 'shop~pr-42')" -c "SELECT current_user <> 'app_u_shop' AND count(*) = 1 FROM orders")" = t
check "the shadow branch is empty" \
    test "$(psql -X -At "$(url 'shop~pr-42-shadow')" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")" = 0
out3=$(psql -X -At -v ON_ERROR_STOP=1 "$deploy_url" -f "$work/flow-2b.sql" 2>&1)
check "the rest of the example runs as printed" test $? = 0
check "closing the pull request removed both branches" \
    test "$(q -c "SELECT count(*) FROM claudable.projects WHERE parent_project_id = 'shop'")" = 0
check "no URL or password was printed" bash -c '! grep -qE "postgresql://|password" <<<"$1$2$3"' _ "$out1" "$out2" "$out3"
q -q -c "SELECT claudable_deprovision('shop', 'team-7')" >/dev/null
psql -X -qAt -d postgres -c "DROP DATABASE $db" -c "DROP ROLE deploy_versions" >/dev/null
rm -rf "$work"
tap_done
