# For the attack suites (test/attack/): a throwaway cluster set up as README's Install does
# it (test/lib/deploy_role.sh), and the attackers of ../shared/threat-model.md acting with
# their own rights over TCP: the deploy service with README's grants, a tenant with the
# DATABASE_URL it was given. Source it, then:
#   start_attack_cluster [postgresql.conf lines...]  exports DEPLOY_URL
#   as_deploy SQL...          psql as the deploy service (PGOPTIONS passes through)
#   as_super SQL...           psql as the cluster's superuser, in meta
#   q PSQL-ARGS...            psql -At as the superuser in meta (what test/lib/wait.sh polls with)
#   as_url URL SQL...         psql with URL
#   sqlstate_of URL SQL...    the SQLSTATE of the first error, or "ok"
#   tenant_url PROJECT OWNER  provisions through the deploy role and prints its DATABASE_URL
attack_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$attack_lib/cluster.sh"
source "$attack_lib/deploy_role.sh"
source "$attack_lib/tap.sh"

start_attack_cluster() {
    start_cluster_with_deploy_role "logging_collector = on" "log_directory = 'log'" "log_filename = 'server.log'" \
        "log_error_verbosity = verbose" "log_line_prefix = '%m [%p] %q%u@%d '" "$@" || return 1
    export DEPLOY_URL=$CLAUDABLE_TEST_ADMIN_URL
    export CLUSTER_LOG="$CLUSTER_DIR/data/log/server.log"
}
as_url() {
    local url=$1
    shift
    local args=()
    for sql in "$@"; do args+=(-c "$sql"); done
    psql -X -q -At -v ON_ERROR_STOP=1 "$url" "${args[@]}"
}
as_deploy() { as_url "$DEPLOY_URL" "$@"; }
q() { psql -X -At -d meta "$@"; }
as_super() {
    local args=()
    for sql in "$@"; do args+=(-c "$sql"); done
    psql -X -q -At -v ON_ERROR_STOP=1 -d meta "${args[@]}"
}
sqlstate_of() {
    local url=$1 output
    shift
    local args=()
    for sql in "$@"; do args+=(-c "$sql"); done
    output=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$url" "${args[@]}" 2>&1 >/dev/null) && {
        echo ok
        return
    }
    sed -n 's/^\(psql:[^ ]* \)\{0,1\}\(ERROR\|FATAL\):  \([0-9A-Z]\{5\}\): .*/\3/p' <<<"$output" | head -1
}
tenant_url() { as_deploy "SELECT database_url FROM claudable_provision('$1', '$2')"; }
# readme_actor ACTOR: README's grant block for ACTOR (monitoring, pooler) run as printed, a
# password given to the role it creates; prints that role's URL for meta over TCP.
readme_actor() {
    local grants role password
    grants=$(readme_grants "$1")
    role=$(sed -n 's/^CREATE ROLE \([a-z_]*\) .*/\1/p' <<<"$grants" | head -1)
    [ -n "$role" ] || return 1
    psql -X -q -v ON_ERROR_STOP=1 -d meta -c "$grants" >/dev/null || return 1
    password=$(random_password)
    printf '%s\n%s\n' "$password" "$password" | setsid -w psql -X -q -d meta -c "\\password $role" >/dev/null 2>&1 ||
        return 1
    echo "postgresql://$role:$password@127.0.0.1:$PGPORT/meta"
}
