#!/usr/bin/env bash
# The platform's deploy route on Next.js 15 (client/node/examples/next-app), as README's
# deploy path runs it: the example as a fresh clone has it (git's tracked files and the
# untracked ones it does not ignore; no node_modules, no .next), then README's steps as
# printed (<!-- readme-example: next-app -->, only the host, port and directories
# replaced): `npm ci` from its lockfile, `npm run build` (a real `next build`), and
# `npm start` (`next start`) with DB_ADMIN_URL = README's deploy role (EXECUTE only) on a
# throwaway cluster whose superuser set claudable.max_projects = 2. curl drives it: one
# check per HTTP status the route answers with, the masked row, the deploy bundle, and no
# secret in an answer or the server's output. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/deploy_role.sh"
source "$here/../lib/install-deps.sh"

export NEXT_TELEMETRY_DISABLED=1  # no network but the npm registry

start_cluster_with_deploy_role "claudable.max_projects = 2" || exit 1
work="$CLUSTER_DIR/next"
mkdir -p "$work"
server_pid=
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM -- "-$server_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 -- "-$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}
# The server first, then the cluster (which also removes $work), on every exit.
trap 'stop_server; cluster_stop' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The package directory as a clone has it, at its place in the repository: the app depends
# on it as "file:../..", and README's steps start at the repository's top.
clone="$work/clone"
app="$clone/client/node/examples/next-app"
copy_as_cloned() {
    mkdir -p "$clone" &&
        (cd "$root" && git ls-files -z --cached --others --exclude-standard client/node |
             while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) |
        tar -xf - -C "$clone" &&
        [ -f "$app/package-lock.json" ] && [ -f "$app/.npmrc" ] && [ ! -e "$app/node_modules" ] && [ ! -e "$app/.next" ]
}

# README's steps (<!-- readme-example: next-app -->): cd, npm ci, npm run build, npm start.
awk '$0 == "<!-- readme-example: next-app -->" { armed = 1; next }
     armed && $0 == "```sh" { inside = 1; armed = 0; next }
     inside && $0 == "```" { exit }
     inside' "$root/README.md" | grep -vE '^\s*(#|$)' >"$work/readme-steps.sh"
cd_line=$(sed -n 1p "$work/readme-steps.sh")
ci_line=$(sed -n 2p "$work/readme-steps.sh")
build_line=$(sed -n 3p "$work/readme-steps.sh")
start_line=$(sed -n 4p "$work/readme-steps.sh")
readme_steps() {
    [ "$(wc -l <"$work/readme-steps.sh")" = 4 ] && [[ "$cd_line" == "cd client/node/examples/next-app" ]] &&
        [[ "$ci_line" == "npm ci"* ]] && [[ "$build_line" == "npm run build"* ]] &&
        [[ "$start_line" == *"DB_ADMIN_URL=postgresql://deploy_service@db.internal:5432/meta "*"PROJECTS_DIR=/srv/apps "*"PORT=3000 "*"npm start" ]]
}
# run_step LINE LOG: one of README's steps in the app's directory, as printed.
run_step() {
    (cd "$clone" && eval "$cd_line" && env -u CLAUDABLE_TEST_ADMIN_URL bash -c "$1" >"$2" 2>&1)
}

check "README shows the steps that run the example: cd, npm ci, npm run build, npm start with README's DB_ADMIN_URL" \
    readme_steps
check "the example app as a clone has it (tracked and not-ignored files, its lockfile and .npmrc; no node_modules, no .next)" \
    copy_as_cloned
check "npm ci installs the app from its lockfile (README's step)" run_step "$ci_line" "$work/npm-ci.log"
next_version=$(cd "$app" && node -p "require('next/package.json').version" 2>/dev/null)
check "the lockfile's Next.js is 15 ($next_version)" test "${next_version%%.*}" = 15
check "claudable-client is installed as its tarball would be: a copy of dist/, with its dependency pg" \
    bash -c 'cd "$1" && [ ! -L node_modules/claudable-client ] && [ -f node_modules/claudable-client/dist/index.mjs ] &&
             node -e "require.resolve(\"pg\")"' _ "$app"

started=$SECONDS
build_status=$tap_failed
check "npm run build: next build (Next.js 15) compiles and type-checks the route, its params a Promise (README's step)" \
    eval 'run_step "$build_line" "$work/next-build.log" && grep -q "Next.js 15\." "$work/next-build.log" &&
          [ -f "$app/.next/server/app/api/projects/[project_id]/deploy/route.js" ]'
build_seconds=$((SECONDS - started))
echo "# next build: $build_seconds s"
# The build's environment holds no secret: what it says when it fails is shown.
[ "$tap_failed" = "$build_status" ] || tail -15 "$work/next-build.log" 2>/dev/null | sed 's/^/# /'

# README's start step with the test cluster's address, a free port and a directory of the
# test's; the deploy role's password comes from a .pgpass file, as README's Install gives it.
# The server's environment also has a variable the route passes to the app by name, and ones
# the app must not inherit (the PG* variable that names that file, a platform secret).
port=$(free_port)
projects="$work/projects"
admin_password=${CLAUDABLE_TEST_ADMIN_URL#*://deploy_service:}
admin_password=${admin_password%%@*}
(umask 077 && printf '127.0.0.1:%s:meta:deploy_service:%s\n' "$PGPORT" "$admin_password" >"$work/pgpass")
start_step=${start_line/@db.internal:5432\//@127.0.0.1:$PGPORT\/}
start_step=${start_step/PROJECTS_DIR=\/srv\/apps /PROJECTS_DIR=$projects }
start_step=${start_step/PORT=3000 /PORT=$port }
unset PGHOST PGPORT PGUSER PGDATABASE PGHOSTADDR
# Its own process group (npm, the shell it runs the script in, next), stopped as one.
(cd "$clone" && eval "$cd_line" &&
     exec env -u CLAUDABLE_TEST_ADMIN_URL PGPASSFILE="$work/pgpass" STRIPE_SECRET_KEY=sk_test_named \
         NEXTAUTH_SECRET=platform-only setsid bash -c "$start_step") >"$work/next-start.log" 2>&1 &
server_pid=$!
server_answers() {
    [[ "$start_step" == *"@127.0.0.1:"*"PROJECTS_DIR=$projects "*"PORT=$port "* ]] || return 1
    for _ in $(seq 1 600); do
        kill -0 "$server_pid" 2>/dev/null || return 1
        curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/" && return 0
        sleep 0.1
    done
    return 1
}
check "npm start: next start serves the built app as README's deploy role (README's step)" server_answers

# post NAME PROJECT [USER]: POSTs the deploy route as USER (no session without one); the body
# goes to $work/NAME.json, the status to $work/NAME.status.
post() {
    local name=$1 project=$2 user=${3:-}
    local args=(-s -o "$work/$name.json" -w '%{http_code}' --max-time 120 -X POST)
    [ -z "$user" ] || args+=(-H "x-user-id: $user")
    curl "${args[@]}" "http://127.0.0.1:$port/api/projects/$project/deploy" >"$work/$name.status" 2>/dev/null
}
# answers NAME STATUS [JS]: the answer had STATUS and its JSON body b satisfies JS.
answers() {
    [ "$(cat "$work/$1.status" 2>/dev/null)" = "$2" ] &&
        node -e 'const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
                 process.exit(eval(process.argv[2]) ? 0 : 1)' "$work/$1.json" "${3:-true}"
}

post no-session shop-42
check "401: no session" answers no-session 401 'b.error === "sign in first"'
post not-owner shop-42 team-8
check "403: the caller does not own the project" answers not-owner 403 'b.error === "not your project"'
post bad-id -bad team-7
check "400: a project id the extension refuses (22023)" answers bad-id 400 'b.kind === "invalid_input"'
post created shop-42 team-7
check "200: the project's row" answers created 200 \
    'b.database.projectId === "shop-42" && b.database.ownerId === "team-7" && b.database.databaseName === "app_db_shop_42" &&
     b.database.username === "app_u_shop_42" && b.database.created === true'

# The real secrets, to prove they are nowhere they must not be: the project's password and
# URL (the same row again: provisioning is idempotent) and the deploy role's password.
secrets="$work/secrets"
psql -X -At "$CLAUDABLE_TEST_ADMIN_URL" -c "SELECT password, database_url FROM claudable_provision('shop-42', 'team-7')" \
    -F $'\n' >"$secrets" 2>/dev/null
printf '%s\n' "$admin_password" >>"$secrets"
project_password=$(sed -n 1p "$secrets")
project_url=$(sed -n 2p "$secrets")
check "the 200 body masks the password and the URL's password" answers created 200 \
    'b.database.password === "********" && /^postgresql:\/\/app_u_shop_42:\*{8}@/.test(b.database.databaseUrl)'
# Three lines, none empty: a missing secret proves nothing.
secrets_known() { [ "$(grep -c . "$secrets")" = 3 ] && [ "$(wc -l <"$secrets")" = 3 ] && [ ${#project_password} -ge 32 ]; }
check "the 200 body holds neither the project's real password nor the deploy role's" \
    eval 'secrets_known && absent_all "$secrets" "$work/created.json"'

check "the deploy bundle: DATABASE_URL, DIRECT_URL, PATH and the named STRIPE_SECRET_KEY; no DB_ADMIN_URL, PG* or unnamed secret" \
    answers created 200 '["DATABASE_URL", "DIRECT_URL", "PATH", "STRIPE_SECRET_KEY"].every((n) => b.appEnv.includes(n)) &&
                         !b.appEnv.includes("DB_ADMIN_URL") && !b.appEnv.includes("NEXTAUTH_SECRET") &&
                         !b.appEnv.some((n) => n.toUpperCase().startsWith("PG"))'
# The URL goes to grep through a file, not on a command line.
env_file_written() {
    local file="$projects/shop-42/.env.production" line
    [ -n "$project_url" ] && [ "$(stat -c %a "$file")" = 600 ] || return 1
    for line in "DATABASE_URL=$project_url" "DIRECT_URL=$project_url"; do
        grep -qxFf <(printf '%s\n' "$line") "$file" || return 1
    done
}
check "the route wrote PROJECTS_DIR/shop-42/.env.production (mode 0600) with the real DATABASE_URL and DIRECT_URL" \
    env_file_written

post collision shop_42 team-7
check "409: another project id maps to the same names (42710)" answers collision 409 'b.kind === "conflict"'
post second shop-43 team-7
check "a second project, the last claudable.max_projects allows, is made (200)" answers second 200 \
    'b.database.databaseName === "app_db_shop_43"'
post over-limit shop-44 team-7
check "429: claudable.max_projects is reached (53400)" answers over-limit 429 'b.kind === "limit"'

check "no answer and no line of the server's output holds a password" \
    eval 'secrets_known && absent_all "$secrets" "$work"/*.json "$work/next-start.log" "$work/next-build.log"'
server_group=$server_pid
stop_server
check "the server stops: no process of its group is left, nothing answers on its port" \
    eval '[ -n "$server_group" ] && ! kill -0 -- "-$server_group" 2>/dev/null &&
          ! curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/"'
tap_done
