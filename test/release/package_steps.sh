#!/usr/bin/env bash
# Run by test/release/debian_packages.sh inside a clean Debian root filesystem that has only
# PostgreSQL MAJOR: the packages are in /packages/previous and /packages/new, README and its
# block reader in /steps. Prints one "PASS|what" or "FAIL|what" per step; exits non-zero only
# when it cannot go on. No password reaches its output.
set -uo pipefail
: "${MAJOR:?}" "${VERSION:?}" "${PREVIOUS:?}" "${PORT:?}"
export DEBIAN_FRONTEND=noninteractive
source /steps/readme.sh
README_FILE=/steps/README.md

step() {  # DESCRIPTION COMMAND...
    local description=$1
    shift
    if "$@" >/dev/null 2>>/tmp/steps.err; then echo "PASS|$description"; else echo "FAIL|$description"; fi
}
as_dba() { runuser -u postgres -- psql --cluster "$MAJOR/main" -X -At -v ON_ERROR_STOP=1 "$@" </dev/null; }
installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
random_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# ---- the previous release, as a server that runs claudable already has it -------------------
step "apt installs the previous package, postgresql-$MAJOR-claudable $PREVIOUS-1" \
    apt-get install -y -q /packages/previous/postgresql-"$MAJOR"-claudable_"$PREVIOUS"-1_*.deb
[ "$(installed_version "postgresql-$MAJOR-claudable")" = "$PREVIOUS-1" ] || exit 1
step "pg_createcluster makes and starts $MAJOR/main" \
    pg_createcluster "$MAJOR" main -p "$PORT" --start
step "CREATE EXTENSION claudable installs $PREVIOUS from the package" \
    bash -c 'as_dba() { runuser -u postgres -- psql --cluster "$1/main" -X -At -v ON_ERROR_STOP=1 "${@:2}" </dev/null; }
             as_dba "$0" -c "CREATE DATABASE meta" &&
             as_dba "$0" -d meta -c "CREATE EXTENSION claudable" -c "ALTER SYSTEM SET claudable.host = '"'127.0.0.1'"'" \
                 -c "SELECT pg_reload_conf()" &&
             [ "$(as_dba "$0" -d meta -c "SELECT extversion FROM pg_extension WHERE extname = '"'claudable'"'")" = "$1" ]' \
        "$MAJOR" "$PREVIOUS"
# README's hardening (Install step 3: PUBLIC connects to no database), so that
# claudable_check() can come back empty.
step "the cluster is hardened as README's step 3 says" \
    runuser -u postgres -- psql --cluster "$MAJOR/main" -X -q -v ON_ERROR_STOP=1 -d meta -f /steps/harden.sql
# The deploy service's role with exactly README's grant block, its password set by \password.
readme_grants deploy >/tmp/deploy-grants.sql
deploy_password=$(random_password)
step "README's deploy grant block makes the deploy service's role (EXECUTE only)" \
    bash -c 'runuser -u postgres -- psql --cluster "$0/main" -X -q -v ON_ERROR_STOP=1 -d meta -f /tmp/deploy-grants.sql </dev/null &&
             printf "%s\n%s\n" "$1" "$1" | setsid -w runuser -u postgres -- psql --cluster "$0/main" -X -q -d meta -c "\\password deploy_service"' \
        "$MAJOR" "$deploy_password"
deploy_url="postgresql://deploy_service:$deploy_password@127.0.0.1:$PORT/meta"
provision() {  # PROJECT: prints the project's username and URL, tab-separated
    psql -X -At -F $'\t' "$deploy_url" -c "SELECT username, database_url FROM claudable_provision('$1', 'team-packages')"
}
logs_in_as() {  # USERNAME URL
    [ -n "$1" ] && [ "$(psql -X -At "$2" -c 'SELECT current_user')" = "$1" ]
}
IFS=$'\t' read -r before_user before_url <<<"$(provision app-before 2>/dev/null)"
step "the deploy service provisions a project over TCP with $PREVIOUS" test -n "${before_url:-}"
step "and its DATABASE_URL logs in as the project's role" logs_in_as "${before_user:-}" "${before_url:-}"

# ---- this release: README's install line, then the upgrade -----------------------------------
readme_block() {
    awk -v want="$1" '$0 == want { armed = 1; next } armed && /^```sh$/ { inside = 1; armed = 0; next }
                      inside && /^```$/ { exit } inside { print }' "$README_FILE"
}
readme_block "<!-- readme-example: package-install -->" |
    sed -e "s/postgresql-15-claudable/postgresql-$MAJOR-claudable/g" -e "s/_$VERSION-1_amd64/_$VERSION-1_$(dpkg --print-architecture)/g" \
    >/tmp/package-install.sh
step "README's install line is there" grep -q "apt-get install" /tmp/package-install.sh
step "README's install line, as printed, installs postgresql-$MAJOR-claudable and claudable-client $VERSION over $PREVIOUS" \
    bash -c 'cd /packages/new && bash -euo pipefail /tmp/package-install.sh </dev/null &&
             [ "$(dpkg-query -W -f="\${Version}" "postgresql-$0-claudable")" = "$1-1" ] &&
             [ "$(dpkg-query -W -f="\${Version}" claudable-client)" = "$1-1" ]' "$MAJOR" "$VERSION"
step "until ALTER EXTENSION UPDATE the new library refuses a call with 55000 and says to run the update" \
    bash -c 'out=$(psql -X -At -v VERBOSITY=verbose "$0" -c "SELECT claudable_provision('"'app-early'"', '"'team-packages'"')" 2>&1);
             [ $? != 0 ] && grep -q "55000" <<<"$out" && grep -q "ALTER EXTENSION claudable UPDATE" <<<"$out"' "$deploy_url"
step "ALTER EXTENSION claudable UPDATE takes it from $PREVIOUS to $VERSION" \
    bash -c 'runuser -u postgres -- psql --cluster "$0/main" -X -At -v ON_ERROR_STOP=1 -d meta -c "ALTER EXTENSION claudable UPDATE" </dev/null &&
             [ "$(runuser -u postgres -- psql --cluster "$0/main" -X -At -d meta -c "SELECT extversion FROM pg_extension WHERE extname = '"'claudable'"'" </dev/null)" = "$1" ]' \
        "$MAJOR" "$VERSION"
step "the project made before the upgrade still logs in with its URL" logs_in_as "${before_user:-}" "${before_url:-}"
IFS=$'\t' read -r after_user after_url <<<"$(provision app-after 2>/dev/null)"
step "a project provisioned after the upgrade logs in with its URL" logs_in_as "${after_user:-}" "${after_url:-}"
step "claudable_check() is empty after the upgrade" \
    test "$(as_dba -d meta -c 'SELECT count(*) FROM claudable_check()')" = 0
step "the CLI from claudable-client says $VERSION" bash -c '[ "$(claudable --version)" = "claudable $0" ] || claudable --version | grep -qw "$0"' "$VERSION"
step "the CLI provisions through the deploy role and masks the password it prints" \
    bash -c 'out=$(PGPASSWORD="$1" claudable --admin-url "postgresql://deploy_service@127.0.0.1:$2/meta" provision app-cli team-packages 2>&1) &&
             grep -q "app-cli" <<<"$out" && ! grep -qF "$1" <<<"$out" && grep -q "\*\*\*\*\*\*\*\*" <<<"$out"' \
        _ "$deploy_password" "$PORT"

# ---- removal ----------------------------------------------------------------------------------
step "apt-get purge removes both packages" apt-get purge -y -q "postgresql-$MAJOR-claudable" claudable-client
step "no file of theirs is left: no claudable.so, control file, script, CLI or library" \
    bash -c '! ls /usr/lib/postgresql/"$0"/lib/claudable* /usr/share/postgresql/"$0"/extension/claudable* /usr/bin/claudable \
                /usr/lib/*/libclaudable-client* /usr/include/claudable 2>/dev/null | grep -q . &&
             ! dpkg-query -W -f="\${Status}\n" "postgresql-$0-claudable" claudable-client 2>/dev/null | grep -q installed' "$MAJOR"
step "the server keeps serving: the project's URL still logs in" logs_in_as "${after_user:-}" "${after_url:-}"
pg_dropcluster --stop "$MAJOR" main >/dev/null 2>&1
exit 0
