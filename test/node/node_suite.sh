#!/usr/bin/env bash
# The Node package (client/node, claudable-client): its sources type-check and build to the
# dist/ the repository ships; its node:test suites run, two without a server (classification
# on fake pools; the app's environment, the env bundle and nodePostgresUrl) and one against a
# throwaway cluster (restarted mid-call and between calls) as README's deploy role. Then a
# user's steps, from a fresh clone of the working tree (tracked and not-ignored files: nothing
# built, nothing installed): its version is the release's, `npm publish --dry-run` lists
# exactly what a user needs, README's two install lines (the folder with --install-links, the
# npm pack tarball) run as printed in empty projects, where CommonJS, ESM and the project's
# own TypeScript use the package, and README's deploy step runs as printed, starting an app
# that sees only its own environment; what README says npm does not do (a plain folder
# install, a git URL with a subdirectory) is tried too. Snapshots, restore and branches run
# from the installed package, and their logged results and refusals show no password or URL
# with its password. Prints TAP.
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
# Snapshots, restore and branches: granted as README's deploy block grants them.
check_deploy_grants "${CLIENT_SNAPSHOT_FUNCTIONS[@]}"
export CLAUDABLE_TEST_SUPERUSER="$CLUSTER_DIR,$PGPORT"
unset PGHOSTADDR PGHOST PGUSER PGDATABASE
work="$CLUSTER_DIR/node"
mkdir -p "$work"

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

echo "# the release"
check "package.json's version is the release's: the extension's default_version ($(release_version))" \
    test "$(node -p 'require("./package.json").version')" = "$(release_version)"
check "package-lock.json names the same version" \
    test "$(node -p 'const l = require("./package-lock.json"); l.version + " " + l.packages[""].version')" = \
         "$(release_version) $(release_version)"

echo "# npm publish --dry-run of the package as cloned"
node_package_as_cloned "$work/publish"
(cd "$work/publish" && npm publish --dry-run --json >"$work/publish.json" 2>"$work/publish.log")
publish_status=$?
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
         const p = j.files ? j : Object.values(j)[0];
         console.log(p.files.map((f) => f.path).sort().join("\n"))' "$work/publish.json" >"$work/published.txt" 2>/dev/null
cat >"$work/expected-files.txt" <<'FILES'
dist/connection.d.ts
dist/connection.js
dist/env.d.ts
dist/env.js
dist/errors.d.ts
dist/errors.js
dist/index.d.ts
dist/index.js
dist/index.mjs
dist/info.d.ts
dist/info.js
dist/sslmode.d.ts
dist/sslmode.js
package.json
FILES
check "npm publish --dry-run succeeds" test "$publish_status" = 0
check "and lists exactly the build and package.json: no sources, tests, examples or lock file" \
    diff "$work/expected-files.txt" "$work/published.txt"
diff "$work/expected-files.txt" "$work/published.txt" 2>&1 | head -10 | sed 's/^/# /'

echo "# a fresh clone of the working tree"
fresh="$work/fresh"
origin="$work/origin"
mkdir -p "$fresh"
# The working tree's tracked and not-ignored files, committed in a scratch repository of the
# test's own, and cloned from there: what a clone of the next commit holds.
check "a clone of the working tree's files (git clone of a scratch commit of them)" \
    bash -c 'repository_as_cloned "$1" && cd "$1" && git init -q && git add -A &&
             git -c user.name=test -c user.email=test@localhost commit -q -m "working tree" &&
             git clone -q "$1" "$2/claudable"' _ "$origin" "$fresh"
check "the clone holds the build (dist/) and no node_modules" \
    bash -c '[ -f "$1/claudable/client/node/dist/index.js" ] && [ ! -e "$1/claudable/client/node/node_modules" ]' _ "$fresh"

# Each user's project starts empty, next to the clone (README: "at ../claudable").
empty_project() { mkdir -p "$1" && (cd "$1" && npm init -y >/dev/null); }
cat >"$work/use.cjs" <<'JS'
const { provisionProjectDatabase, closeClaudablePools } = require('claudable-client');
provisionProjectDatabase('node-consumer', 'team-node').then(async (info) => { console.log(JSON.stringify(info)); await closeClaudablePools(); });
JS
cat >"$work/use.mjs" <<'JS'
import { provisionProjectDatabase, closeClaudablePools } from 'claudable-client';
const info = await provisionProjectDatabase('node-consumer', 'team-node');
console.log(info.databaseName);
await closeClaudablePools();
JS
cat >"$work/use.ts" <<'TS'
import { provisionProjectDatabase, ProjectDatabaseInfo, httpStatusFor, envForApp, nodePostgresUrl } from 'claudable-client';
import {
  snapshotProjectDatabase, listProjectSnapshots, restoreProjectDatabase, dropProjectSnapshot, branchProjectDatabase,
  ProjectSnapshot, SnapshotId, BranchSource,
} from 'claudable-client';
async function deploy(projectId: string): Promise<string> {
  const info: ProjectDatabaseInfo = await provisionProjectDatabase(projectId, 'team-node');
  const pooled: string | null = info.pooledDatabaseUrl;
  const env = envForApp(info, { pass: ['STRIPE_SECRET_KEY'], nodePostgres: true });
  return nodePostgresUrl(info.databaseUrl) + String(pooled) + env.DIRECT_URL + String(httpStatusFor(new Error('x')));
}
async function preview(projectId: string, branchId: string): Promise<string> {
  const snapshot: ProjectSnapshot = await snapshotProjectDatabase(projectId, 'team-node', { label: 'before deploy' });
  const id: SnapshotId = snapshot.snapshotId;
  const list: ProjectSnapshot[] = await listProjectSnapshots(projectId, 'team-node');
  const label: string | null = list[0].label;
  const size: number | null = list[0].sizeBytes;
  const at: Date = list[0].createdAt;
  const source: BranchSource = id;
  const branch: ProjectDatabaseInfo = await branchProjectDatabase(projectId, 'team-node', branchId,
                                                                  { source, expiresAt: new Date(Date.now() + 86400000) });
  const empty: ProjectDatabaseInfo = await branchProjectDatabase(projectId, 'team-node', branchId + '-empty', { source: 'empty' });
  const restored: ProjectDatabaseInfo = await restoreProjectDatabase(projectId, 'team-node', id);
  const dropped: boolean = await dropProjectSnapshot(projectId, 'team-node', id);
  return branch.databaseUrl + empty.databaseUrl + restored.databaseUrl + String(dropped) + String(label) + String(size) +
    at.toISOString();
}
void deploy;
void preview;
TS
# A source that is neither 'current', 'empty' nor a snapshot id is a type error.
cat >"$work/wrong-source.ts" <<'TS'
import { branchProjectDatabase } from 'claudable-client';
void branchProjectDatabase('p', 'o', 'b', { source: 'yesterday' });
TS
# uses_the_package DIR HOW: CommonJS, ESM and the project's own TypeScript use what DIR installed.
uses_the_package() {
    local dir=$1 how=$2
    cp "$work/use.cjs" "$work/use.mjs" "$work/use.ts" "$dir/"
    check "$how: CommonJS require('claudable-client') provisions and prints the row masked" \
        bash -c 'cd "$1" && DB_ADMIN_URL="$CLAUDABLE_TEST_ADMIN_URL" node use.cjs | grep -q "\"password\":\"\*\*\*\*\*\*\*\*\""' _ "$dir"
    check "$how: ESM import from 'claudable-client' works" \
        bash -c 'cd "$1" && [ "$(DB_ADMIN_URL="$CLAUDABLE_TEST_ADMIN_URL" node use.mjs)" = app_db_node_consumer ]' _ "$dir"
    # The project's own TypeScript, as a Next.js project has it, reads the installed declarations.
    check "$how: TypeScript, the project's own compiler, checks it against the installed declarations" \
        bash -c 'cd "$1" && npm install --no-audit --no-fund --save-dev typescript@5 @types/node@20 >>"$1/npm-install.log" 2>&1 &&
                 ./node_modules/.bin/tsc --noEmit --strict --module commonjs --moduleResolution node use.ts' _ "$dir"
    cp "$work/wrong-source.ts" "$dir/"
    check "$how: and refuses a branch source that is neither 'current', 'empty' nor a snapshot id" \
        bash -c 'cd "$1" && ! ./node_modules/.bin/tsc --noEmit --strict --module commonjs --moduleResolution node wrong-source.ts >"$1/wrong-source.log" 2>&1 &&
                 grep -q "wrong-source.ts(2,.*error TS2322" "$1/wrong-source.log"' _ "$dir"
}

echo "# README's folder install, as printed, in an empty project"
readme_block "<!-- readme-example: node-install-path -->" sh >"$work/install-path.sh"
check "README has the folder install block, with --install-links" grep -q -- '--install-links' "$work/install-path.sh"
path_app="$fresh/app-path"
empty_project "$path_app"
check "it runs as printed" bash -c 'cd "$1" && bash -eu "$2" >"$1/npm-install.log" 2>&1' _ "$path_app" "$work/install-path.sh"
check "the package is a copy (not a link to the clone) and its dependency pg is installed" \
    bash -c '[ -d "$1/node_modules/claudable-client" ] && [ ! -L "$1/node_modules/claudable-client" ] &&
             [ -f "$1/node_modules/pg/package.json" ]' _ "$path_app"
check "package.json records it as a file: dependency (no later install asks the registry)" \
    bash -c 'cd "$1" && node -e "process.exit(/^file:/.test(require(\"./package.json\").dependencies[\"claudable-client\"]) ? 0 : 1)"' _ "$path_app"
uses_the_package "$path_app" "folder install"
check "folder install: npm ci afterwards (install-links=true in .npmrc) installs it again, with pg" \
    bash -c 'cd "$1" && rm -rf node_modules && npm ci --no-audit --no-fund >>"$1/npm-install.log" 2>&1 &&
             [ ! -L node_modules/claudable-client ] && node -e "require(\"claudable-client\")"' _ "$path_app"

echo "# README's tarball install, as printed, in an empty project"
readme_block "<!-- readme-example: node-install-tarball -->" sh >"$work/install-tarball.sh"
check "README has the tarball install block, naming this release's tarball (claudable-client-$(release_version).tgz)" \
    grep -q "claudable-client-$(release_version)\.tgz" "$work/install-tarball.sh"
tarball_app="$fresh/app-tarball"
empty_project "$tarball_app"
check "it runs as printed" bash -c 'cd "$1" && bash -eu "$2" >"$1/npm-install.log" 2>&1' _ "$tarball_app" "$work/install-tarball.sh"
check "the tarball holds the build (dist/index.js, index.mjs, index.d.ts)" \
    bash -c 'listing=$(tar -tzf "$1"/claudable-client-*.tgz) && for f in dist/index.js dist/index.mjs dist/index.d.ts; do
                 grep -qx "package/$f" <<<"$listing" || exit 1; done' _ "$tarball_app"
uses_the_package "$tarball_app" "tarball install"

echo "# what README says npm does not do"
plain_app="$fresh/app-plain"
empty_project "$plain_app"
check "a plain npm install of the folder (no --install-links) only links it, without pg: require fails" \
    bash -c 'cd "$1" && npm install --no-audit --no-fund ../claudable/client/node >"$1/npm-install.log" 2>&1 &&
             [ -L node_modules/claudable-client ] && [ ! -e node_modules/pg ] && ! node -e "require(\"claudable-client\")"' _ "$plain_app"
git_app="$fresh/app-git"
empty_project "$git_app"
check "npm cannot install from a subdirectory of a git repository (git+file://...#path:client/node)" \
    bash -c 'cd "$1" && ! npm install --no-audit --no-fund "git+file://$2#path:client/node" >"$1/npm-install.log" 2>&1 &&
             grep -q "package.json" "$1/npm-install.log" && [ ! -e node_modules/claudable-client ]' _ "$git_app" "$origin"

echo "# README's deploy step, as printed, in the folder-installed project"
readme_block "<!-- readme-example: node-deploy -->" ts >"$path_app/deploy.mts"
check "README has the deploy step (envForApp with pass)" grep -q 'envForApp' "$path_app/deploy.mts"
cat >"$path_app/server.js" <<'JS'
// The app: says which variables it was given (names only) and who DATABASE_URL logs in as.
const { Client } = require('pg');
(async () => {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query('SELECT current_user AS who');
  await client.end();
  console.log(`app env: ${Object.keys(process.env).sort().join(' ')}`);
  console.log(`app user: ${rows[0].who}`);
  console.log(`app direct: ${process.env.DIRECT_URL === process.env.DATABASE_URL}`);
})().catch((error) => { console.log(`app failed: ${error.code ?? error.message}`); process.exit(3); });
JS
check "it compiles with the project's TypeScript (deploy.mts to deploy.mjs)" \
    bash -c 'cd "$1" && ./node_modules/.bin/tsc --strict --module nodenext --moduleResolution nodenext --target es2022 --types node deploy.mts' _ "$path_app"
# The platform's process as an attacker would like it: its own secrets, variables that change
# how Node or a Next.js build runs, and the deploy service's credentials.
env -i PATH="$PATH" HOME="$work" NODE_ENV=production PORT=3000 TZ=UTC LANG=C.UTF-8 \
    DB_ADMIN_URL="$CLAUDABLE_TEST_ADMIN_URL" PROJECTS_DIR="$work/projects" \
    NEXTAUTH_SECRET=nextauth-secret AWS_SECRET_ACCESS_KEY=aws-secret POSTGRES_URL=postgresql://platform:platform-secret@db/p \
    NODE_OPTIONS=--max-old-space-size=512 __NEXT_PRIVATE_PREBUNDLED_REACT=next PGPASSWORD=pg-secret PGSERVICE=admin \
    STRIPE_SECRET_KEY=sk_test_x \
    bash -c 'cd "$1" && node deploy.mjs node-readme team-node' _ "$path_app" >"$work/deploy.out" 2>&1
deploy_status=$?
check "it provisions, writes the env file and starts the app, whose exit status it returns (0)" test "$deploy_status" = 0
check "the app logs in with its DATABASE_URL as the project's role" grep -qx 'app user: app_u_node_readme' "$work/deploy.out"
check "the app gets PATH, HOME, NODE_ENV, PORT, TZ, LANG, the one variable passed and DATABASE_URL and DIRECT_URL, nothing else" \
    grep -qx 'app env: DATABASE_URL DIRECT_URL HOME LANG NODE_ENV PATH PORT STRIPE_SECRET_KEY TZ' "$work/deploy.out"
check "the env file has DATABASE_URL and DIRECT_URL, mode 0600" \
    bash -c '[ "$(cut -d= -f1 "$1")" = "$(printf "DATABASE_URL\nDIRECT_URL")" ] && [ "$(stat -c %a "$1")" = 600 ]' \
        _ "$work/projects/node-readme/.env.production"
project_password=$(sed -n 's|^DIRECT_URL=postgresql://[^:]*:\([^@]*\)@.*|\1|p' "$work/projects/node-readme/.env.production")
check "the deploy step's output (console.log(info)) shows the password only masked" \
    bash -c '[ -n "$2" ] && ! grep -qF -- "$2" "$1" && grep -q "\*\*\*\*\*\*\*\*" "$1"' _ "$work/deploy.out" "$project_password"
printf '%s\n' nextauth-secret aws-secret platform-secret pg-secret sk_test_x >"$work/platform-secrets.txt"
check "and none of the platform's secrets" absent_all "$work/platform-secrets.txt" "$work/deploy.out"

echo "# snapshots, restore and branches, logged as a deploy step would, in the folder-installed project"
cat >"$path_app/preview.mjs" <<'JS'
// Logs every result and a refusal of each of the new calls, as a deploy step's log would have them.
import {
  provisionProjectDatabase, snapshotProjectDatabase, listProjectSnapshots, restoreProjectDatabase, dropProjectSnapshot,
  branchProjectDatabase, closeClaudablePools,
} from 'claudable-client';
const info = await provisionProjectDatabase('node-preview', 'team-node');
const snapshot = await snapshotProjectDatabase('node-preview', 'team-node', { label: 'before deploy' });
console.log(snapshot);
console.log(await listProjectSnapshots('node-preview', 'team-node'));
const restored = await restoreProjectDatabase('node-preview', 'team-node', snapshot.snapshotId);
console.log(restored, JSON.stringify(restored), String(restored));
for (const source of ['current', 'empty', snapshot.snapshotId]) {
  const branch = await branchProjectDatabase('node-preview', 'team-node', `pr-${source.slice(0, 5)}`, { source });
  console.log(branch, JSON.stringify(branch), String(branch));
}
console.log(await dropProjectSnapshot('node-preview', 'team-node', snapshot.snapshotId));
for (const refused of [() => restoreProjectDatabase('node-preview', 'intruder', snapshot.snapshotId),
                       () => branchProjectDatabase('node-preview', 'intruder', 'stolen'),
                       () => branchProjectDatabase('node-preview', 'team-node', 'bad id!'),
                       () => snapshotProjectDatabase('node-preview', 'intruder')])
  await refused().catch((error) => console.log(error));
// The URLs' passwords, for the suite's check only: written to a file of their own, never logged.
const branches = await Promise.all(['current', 'empty', snapshot.snapshotId].map(
  (source) => branchProjectDatabase('node-preview', 'team-node', `pr-${source.slice(0, 5)}`)));
(await import('node:fs')).writeFileSync(process.argv[2], [info, ...branches].map((i) => i.password).join('\n') + '\n');
await closeClaudablePools();
JS
(cd "$path_app" && DB_ADMIN_URL="$CLAUDABLE_TEST_ADMIN_URL" node preview.mjs "$work/preview-passwords.txt" >"$work/preview.out" 2>&1)
preview_status=$?
check "snapshot, list, restore, branch (current, empty, a snapshot) and drop run from the installed package" \
    test "$preview_status" = 0
check "their log shows restore's and branches' passwords and URLs masked" \
    bash -c '[ "$(grep -oE "postgresql://[^:]+:\*{8}@" "$1" | wc -l)" -ge 12 ]' _ "$work/preview.out"
check "the project and its three branches have four passwords" test "$(sort -u "$work/preview-passwords.txt" | grep -c .)" = 4
check "and the log shows none of them" absent_all "$work/preview-passwords.txt" "$work/preview.out"
check "nor any URL with its password" no_url_with_password "$work/preview.out"
check "nor the admin password" absent "$(sed -n 's|^postgresql://[^:]*:\([^@]*\)@.*|\1|p' <<<"$CLAUDABLE_TEST_ADMIN_URL")" \
    "$work/preview.out"
check "the refusals are logged with their kinds (permission_denied, invalid_input)" \
    bash -c '[ "$(grep -c "kind: .permission_denied." "$1")" = 3 ] && grep -q "kind: .invalid_input." "$1"' _ "$work/preview.out"
check "the server's log holds no URL with its password" no_url_with_password "$CLUSTER_LOG"
tap_done
