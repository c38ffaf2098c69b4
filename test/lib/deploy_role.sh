# For client suites: a throwaway cluster (test/lib/cluster.sh) with a metadata database and
# a deploy role that holds EXECUTE on the claudable functions, monitoring reads, and a
# password, reached over TCP as a deploy service would. Source it, then:
#   start_cluster_with_deploy_role DATABASE ROLE
# exports CLAUDABLE_TEST_ADMIN_URL and CLAUDABLE_TEST_SERVER_STOP / _START (shell commands).
start_cluster_with_deploy_role() {
    local database=$1 role=$2 lib password
    lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    cluster_start >/dev/null || return 1
    password=$(random_password)
    psql -X -q -c "CREATE DATABASE $database" || return 1
    psql -X -q -d "$database" -c "CREATE EXTENSION claudable" -f "$lib/harden.sql" \
        -c "CREATE ROLE $role LOGIN PASSWORD '$password' IN ROLE pg_monitor" \
        -c "GRANT CONNECT ON DATABASE $database TO $role" \
        -c "GRANT EXECUTE ON FUNCTION claudable_provision(text, text), claudable_deprovision(text, text),
                                      claudable_rotate_password(text, text), claudable_check() TO $role" \
        -c "GRANT USAGE ON SCHEMA claudable TO $role" -c "GRANT SELECT ON claudable.databases TO $role" || return 1
    export CLAUDABLE_TEST_ADMIN_URL="postgresql://$role:$password@127.0.0.1:$PGPORT/$database"
    export CLAUDABLE_TEST_SERVER_STOP="runuser -u postgres -- $PG_BINDIR/pg_ctl -D $CLUSTER_DIR/data -m fast -w stop >/dev/null"
    export CLAUDABLE_TEST_SERVER_START="runuser -u postgres -- $PG_BINDIR/pg_ctl -D $CLUSTER_DIR/data -l $CLUSTER_LOG -w start >/dev/null"
}
