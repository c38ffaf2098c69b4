#!/usr/bin/env bash
# The Node package (client/node, claudable-client): installs its npm dependencies, type-checks
# the sources and the route example (tsc --noEmit), builds it, runs its node:test suite
# against a throwaway cluster (restarted once mid-call), and installs the `npm pack` tarball
# into an empty project to use it from TypeScript, ESM and CommonJS. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
package="$root/client/node"
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/deploy_role.sh"
source "$here/../lib/install-deps.sh"

start_cluster_with_deploy_role claudable_node node_deploy || exit 1
export CLAUDABLE_TEST_SUPERUSER="$CLUSTER_DIR,$PGPORT"
unset PGHOST PGUSER PGDATABASE

cd "$package" || exit 1
check "Node is version 20 or later ($(node --version 2>/dev/null))" node_is_20_or_later
check "npm installs the package's dependencies (npm ci)" bash -c 'npm ci --no-audit --no-fund >"$1/npm-ci.log" 2>&1' _ "$CLUSTER_DIR"
check "tsc --noEmit passes on the sources and the route example" npm run -s typecheck
check "the package builds (CommonJS, ESM entry, type declarations)" npm run -s build

echo "# node --test"
node --test --test-reporter=tap test/ >"$CLUSTER_DIR/node-test.log" 2>&1
node_status=$?
# One TAP line per node:test case.
grep -E '^(not )?ok [0-9]+ - ' "$CLUSTER_DIR/node-test.log" | sed -E 's/^(not )?ok [0-9]+ - /\1ok - /' |
    while read -r line; do tap_count=$((tap_count + 1)); echo "${line/ok - /ok $tap_count - }"; done
tap_count=$((tap_count + $(grep -cE '^(not )?ok [0-9]+ - ' "$CLUSTER_DIR/node-test.log")))
if [ "$node_status" != 0 ]; then grep -E 'not ok|error|expected|actual' "$CLUSTER_DIR/node-test.log" | head -30 | sed 's/^/# /'; fi
check "node --test exits 0" test "$node_status" = 0

echo "# npm pack, installed into an empty project"
consumer=$(mktemp -d)
tarball=$(npm pack --silent --pack-destination "$consumer" 2>/dev/null | tail -1)
check "npm pack produces a tarball" test -f "$consumer/$tarball"
(cd "$consumer" && npm init -y >/dev/null && npm install --no-audit --no-fund "./$tarball" >"$CLUSTER_DIR/npm-consumer.log" 2>&1)
cat >"$consumer/use.cjs" <<'JS'
const { provisionProjectDatabase, closeClaudablePools } = require('claudable-client');
provisionProjectDatabase('node-consumer', 'team-node').then(async (info) => { console.log(JSON.stringify(info)); await closeClaudablePools(); });
JS
cat >"$consumer/use.mjs" <<'JS'
import { provisionProjectDatabase, closeClaudablePools } from 'claudable-client';
const info = await provisionProjectDatabase('node-consumer', 'team-node');
console.log(info.databaseName);
await closeClaudablePools();
JS
cat >"$consumer/use.ts" <<'TS'
import { provisionProjectDatabase, ProjectDatabaseInfo, httpStatusFor } from 'claudable-client';
async function deploy(projectId: string): Promise<string> {
  const info: ProjectDatabaseInfo = await provisionProjectDatabase(projectId, 'team-node');
  return info.databaseUrl + String(httpStatusFor(new Error('x')));
}
void deploy;
TS
check "CommonJS: require('claudable-client') provisions and prints the row masked" \
    bash -c 'cd "$1" && DB_ADMIN_URL="$CLAUDABLE_TEST_ADMIN_URL" node use.cjs | grep -q "\"password\":\"\*\*\*\*\*\*\*\*\""' _ "$consumer"
check "ESM: import from 'claudable-client' works" \
    bash -c 'cd "$1" && [ "$(DB_ADMIN_URL="$CLAUDABLE_TEST_ADMIN_URL" node use.mjs)" = app_db_node_consumer ]' _ "$consumer"
check "TypeScript: the installed type declarations check" \
    "$package/node_modules/.bin/tsc" --noEmit --strict --module commonjs --moduleResolution node --types node \
        --typeRoots "$package/node_modules/@types" "$consumer/use.ts"
rm -rf "$consumer"
tap_done
