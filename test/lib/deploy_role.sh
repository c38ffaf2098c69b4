# For the client suites and `make demo`: a throwaway cluster (test/lib/cluster.sh) set up as README's Install
# does it: the metadata database `meta`, hardened, and the deploy service's role made by
# exactly README's grant block (<!-- readme-grants: deploy -->), its password set with psql's
# \password. The suites then act as the deploy service does: over TCP, with that password.
# Source it, then:
#   start_cluster_with_deploy_role [postgresql.conf lines...]
# exports CLAUDABLE_TEST_ADMIN_URL, CLAUDABLE_TEST_DATABASE (meta) and
# CLAUDABLE_TEST_SERVER_STOP / _START (shell commands).
start_cluster_with_deploy_role() {
    local lib password grants
    lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    source "$lib/readme.sh"
    cluster_start "$@" >/dev/null || return 1
    password=$(random_password)
    grants="$CLUSTER_DIR/deploy-grants.sql"
    readme_grants deploy >"$grants"
    grep -q 'GRANT EXECUTE' "$grants" || { echo "README has no deploy grant block" >&2; return 1; }
    psql -X -q -c "CREATE DATABASE meta" || return 1
    psql -X -q -v ON_ERROR_STOP=1 -d meta -c "CREATE EXTENSION claudable" -f "$lib/harden.sql" -f "$grants" || return 1
    # No terminal: \password reads the password from stdin, twice, and sends only its verifier.
    printf '%s\n%s\n' "$password" "$password" | setsid -w psql -X -q -d meta -c '\password deploy_service' >/dev/null 2>&1 || return 1
    export CLAUDABLE_TEST_ADMIN_URL="postgresql://deploy_service:$password@127.0.0.1:$PGPORT/meta"
    export CLAUDABLE_TEST_DATABASE=meta
    export CLAUDABLE_TEST_SERVER_STOP="runuser -u postgres -- $PG_BINDIR/pg_ctl -D $CLUSTER_DIR/data -m fast -w stop >/dev/null"
    export CLAUDABLE_TEST_SERVER_START="runuser -u postgres -- $PG_BINDIR/pg_ctl -D $CLUSTER_DIR/data -l $CLUSTER_LOG -w start >/dev/null"
}

# The functions the clients call for snapshots, restore and branches (claudable 0.7.0).
CLIENT_SNAPSHOT_FUNCTIONS=(
    "claudable_snapshot(text, text, text)" "claudable_snapshots(text, text)" "claudable_restore(text, text, text)"
    "claudable_drop_snapshot(text, text, text)" "claudable_branch(text, text, text, text, timestamptz)"
)
deploy_role_may_execute() {  # SIGNATURE: deploy_service holds EXECUTE on it (asked as the superuser)
    [ "$(psql -X -At -d meta -v fn="$1" <<<"SELECT has_function_privilege('deploy_service', :'fn', 'EXECUTE')")" = t ]
}
# check_deploy_grants SIGNATURE...: after start_cluster_with_deploy_role, one TAP check
# (test/lib/tap.sh) per function: README's deploy grant block gave the deploy role EXECUTE on
# it. A function the block misses fails its check, and is then granted as a DBA would, so that
# the suite's other tests still measure the client rather than the block.
check_deploy_grants() {
    local fn
    for fn in "$@"; do
        check "README's deploy grant block gives deploy_service EXECUTE on $fn" deploy_role_may_execute "$fn"
        deploy_role_may_execute "$fn" || psql -X -q -d meta -c "GRANT EXECUTE ON FUNCTION $fn TO deploy_service" >/dev/null
    done
}
