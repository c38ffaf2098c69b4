#!/usr/bin/env bash
# The client library and CLI: GoogleTest suites through ctest (unit, usage, and the library
# and the CLI against a throwaway cluster, restarted mid-call and between calls, as README's
# deploy and pooler roles), the libFuzzer targets for a bounded time, and a consumer built
# against the installed headers, library, pkg-config file and CMake package. Prints TAP.
# Needs `make install` done (make test does it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/deploy_role.sh"

start_cluster_with_deploy_role || exit 1
# README's pooler role, for `claudable pgbouncer-config`: its grant block
# (<!-- readme-grants: pooler -->), its password set with psql's \password, used over TCP.
pooler_password=$(random_password)
readme_grants pooler >"$CLUSTER_DIR/pooler-grants.sql"
grep -q 'GRANT EXECUTE' "$CLUSTER_DIR/pooler-grants.sql" &&
    psql -X -q -v ON_ERROR_STOP=1 -d meta -f "$CLUSTER_DIR/pooler-grants.sql" >/dev/null &&
    printf '%s\n%s\n' "$pooler_password" "$pooler_password" |
    setsid -w psql -X -q -d meta -c '\password claudable_pooler' >/dev/null 2>&1 ||
    { echo "README's pooler role could not be made" >&2; exit 1; }
export CLAUDABLE_TEST_POOLER_URL="postgresql://claudable_pooler:$pooler_password@127.0.0.1:$PGPORT/meta"
# Snapshots, restore and branches: granted as README's deploy block grants them.
check_deploy_grants "${CLIENT_SNAPSHOT_FUNCTIONS[@]}"
# A superuser session for the tests that hold a lock to keep a call waiting.
export CLAUDABLE_TEST_SUPERUSER_PSQL="psql -X -q -At -h $CLUSTER_DIR -p $PGPORT -U postgres -d meta"
# Project databases are reached over TCP with their URL; nothing below needs the socket.
unset PGHOST PGUSER PGDATABASE

echo "# ctest (GoogleTest)"
ctest --test-dir "$root/client/build" --no-tests=error --output-on-failure -V 2>&1 >"$CLUSTER_DIR/ctest.log"
ctest_status=$?
# One TAP line per GoogleTest case, then ctest's own summary.
sed -nE 's/^[0-9]+: \[       OK \] ([^ ]+).*/ok - \1/p; s/^[0-9]+: \[  FAILED  \] ([^ ,]+) \(.*/not ok - \1/p' "$CLUSTER_DIR/ctest.log" |
    while read -r line; do tap_count=$((tap_count + 1)); echo "${line/ok - /ok $tap_count - }"; done
grep -E "tests passed|tests failed" "$CLUSTER_DIR/ctest.log" | sed 's/^/# ctest: /'
if [ "$ctest_status" != 0 ]; then
    grep -E "Failure|Expected|Which is|stderr|Value of" "$CLUSTER_DIR/ctest.log" | head -40 | sed 's/^/# /'
fi
gtest_ran=$(grep -cE '^[0-9]+: \[(       OK |  FAILED  )\] [^ ]+ \(' "$CLUSTER_DIR/ctest.log")
tap_count=$((tap_count + gtest_ran))
check "ctest exits 0" test "$ctest_status" = 0
# Every TEST/TEST_F in client/tests ran: a binary that crashed or a filter would show fewer.
cases=$(cat "$root"/client/tests/*.cpp | grep -cE '^TEST(_F)?\(')
check "and ran every one of the $cases GoogleTest cases in client/tests ($gtest_ran)" test "$gtest_ran" = "$cases"

# The server's log after every call above (refusals included): no URL with its password in
# it, and not the admin password.
admin_password=$(sed -n 's|^postgresql://[^:]*:\([^@]*\)@.*|\1|p' <<<"$CLAUDABLE_TEST_ADMIN_URL")
check "the server's log holds no URL with its password" no_url_with_password "$CLUSTER_LOG"
check "nor the admin password" absent "$admin_password" "$CLUSTER_LOG"

echo "# libFuzzer, 10 s per target"
fuzz_build="$root/client/build-fuzz"
check "the fuzz targets build with clang" \
    bash -c "CXX=clang++-14 cmake -S '$root/client/fuzz' -B '$fuzz_build' >/dev/null && cmake --build '$fuzz_build' -j2 >/dev/null"
for target in fuzz_env_merge fuzz_url fuzz_pgbouncer; do
    check "$target finds no crash in 10 s" \
        bash -c "cd '$fuzz_build' && ./$target -max_total_time=10 -print_final_stats=1 >'$CLUSTER_DIR/$target.log' 2>&1"
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$CLUSTER_DIR/$target.log" | grep -oE '[0-9]+$')
    check "$target really ran: ${runs:-no} inputs (at least 1000)" test "${runs:-0}" -ge 1000
done

echo "# a consumer of the installed client"
consumer_build="$root/client/examples/consumer/build"
rm -rf "$consumer_build"
check "a CMake consumer builds with find_package(claudable)" \
    bash -c "cmake -S '$root/client/examples/consumer' -B '$consumer_build' >/dev/null && cmake --build '$consumer_build' >/dev/null"
output=$(DB_ADMIN_URL="$CLAUDABLE_TEST_ADMIN_URL" "$consumer_build/consumer" consumer-app team-consumer 2>&1)
check "it provisions through the library and prints the URL masked" \
    bash -c '[[ "$1" == "app_db_consumer_app postgresql://app_u_consumer_app:********@localhost:"* ]]' _ "$output"
check "a pkg-config consumer builds: c++ main.cpp \$(pkg-config --cflags --libs claudable-client)" \
    bash -c "PKG_CONFIG_PATH=/usr/local/lib/pkgconfig c++ '$root/client/examples/consumer/main.cpp' -o '$CLUSTER_DIR/consumer-pc' \$(PKG_CONFIG_PATH=/usr/local/lib/pkgconfig pkg-config --cflags --libs claudable-client) -Wl,-rpath,/usr/local/lib"
# The install rewrites the binary's RPATH, so it is compared by age (in whole seconds, as
# the install keeps it): not older than the build.
check "the claudable CLI on PATH is the one just built and installed (make client-install)" \
    bash -c 'installed=$(command -v claudable) && [ "$installed" = /usr/local/bin/claudable ] &&
             [ "$(stat -c %Y "$installed")" -ge "$(stat -c %Y "$1/client/build/claudable")" ]' _ "$root"
rm -rf "$consumer_build"

tap_done
