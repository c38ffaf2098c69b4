#!/usr/bin/env bash
# The Node package (client/node, claudable-client): its sources type-check and build to the
# dist/ the repository ships; its node:test suites run, one without a server (classification,
# on fake pools) and one against a throwaway cluster (restarted mid-call and between calls) as
# README's deploy role; and the package as a clone has it (tracked files
# only: nothing built, nothing installed) is packed with `npm pack` and installed into an
# empty project, where CommonJS, ESM and the project's own TypeScript use it. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
package="$root/client/node"
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/deploy_role.sh"
source "$here/../lib/install-deps.sh"
source "$here/../lib/node_package.sh"

start_cluster_with_deploy_role || exit 1
export CLAUDABLE_TEST_SUPERUSER="$CLUSTER_DIR,$PGPORT"
unset PGHOSTADDR PGHOST PGUSER PGDATABASE
work="$CLUSTER_DIR/node"
mkdir -p "$work"

export -f node_package_as_cloned

cd "$package" || exit 1
check "Node is version 20 or later ($(node --version 2>/dev/null))" node_is_20_or_later
check "npm installs the package's dependencies (npm ci)" bash -c 'npm ci --no-audit --no-fund >"$1/npm-ci.log" 2>&1' _ "$work"
check "tsc --noEmit passes on the sources and the route example" npm run -s typecheck
check "the sources build (CommonJS, ESM entry, type declarations) to exactly the dist/ the repository ships" \
    bash -c 'node_package_as_cloned "$1/rebuilt" && cd "$1/rebuilt" && rm -rf dist && npm ci --no-audit --no-fund >/dev/null 2>&1 &&
             npm run -s build >/dev/null 2>&1 && diff -r "$1/rebuilt/dist" "$2/dist" >"$1/dist.diff"' _ "$work" "$package"
sed 's/^/# /' "$work/dist.diff" 2>/dev/null | head -10

echo "# node --test"
cases=$(cat test/*.mjs | grep -cE "^test\('")
node --test --test-reporter=tap test/ >"$work/node-test.log" 2>&1
node_status=$?
# One TAP line per node:test case.
grep -E '^(not )?ok [0-9]+ - ' "$work/node-test.log" | sed -E 's/^(not )?ok [0-9]+ - /\1ok - /' |
    while read -r line; do tap_count=$((tap_count + 1)); echo "${line/ok - /ok $tap_count - }"; done
ran=$(grep -cE '^(not )?ok [0-9]+ - ' "$work/node-test.log")
tap_count=$((tap_count + ran))
if [ "$node_status" != 0 ]; then grep -E 'not ok|error|expected|actual' "$work/node-test.log" | head -30 | sed 's/^/# /'; fi
check "node --test exits 0" test "$node_status" = 0
check "and ran every one of the $cases cases in test/ ($ran)" test "$ran" = "$cases"

echo "# npm pack of the package as cloned, installed into an empty project"
consumer="$work/consumer"
mkdir -p "$consumer"
tarball=$(node_package_tarball "$consumer")
check "npm pack produces a tarball with the build in it (dist/index.js, index.mjs, index.d.ts)" \
    bash -c 'listing=$(tar -tzf "$1") && for f in dist/index.js dist/index.mjs dist/index.d.ts; do
                 grep -qx "package/$f" <<<"$listing" || exit 1; done' _ "$consumer/$tarball"
check "npm install of the tarball into an empty project" \
    bash -c 'cd "$1" && npm init -y >/dev/null && npm install --no-audit --no-fund "./$2" >"$1/npm-install.log" 2>&1' \
        _ "$consumer" "$tarball"
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
# The project's own TypeScript, as a Next.js project has it, reads the installed declarations.
check "TypeScript: the project's own compiler checks it against the installed declarations" \
    bash -c 'cd "$1" && npm install --no-audit --no-fund --save-dev typescript@5 @types/node@20 >>"$1/npm-install.log" 2>&1 &&
             ./node_modules/.bin/tsc --noEmit --strict --module commonjs --moduleResolution node use.ts' _ "$consumer"
tap_done
