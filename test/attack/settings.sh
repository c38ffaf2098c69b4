#!/usr/bin/env bash
# Attack: no role without superuser moves a claudable.* setting for any call (issue 19,
# item 1). The server's values are set in postgresql.conf; the deploy service and a tenant
# try every way PostgreSQL offers: startup options (PGOPTIONS, options= in the URL), SET
# before and after the library is loaded, ALTER ROLE/DATABASE SET, and a worker that a
# superuser's session used a moment before. Then the same with shared_preload_libraries.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
start_attack_cluster "claudable.max_projects_per_owner = 2" "claudable.pooler_host = 'pooler.internal'" \
    "claudable.sslmode = 'disable'" "claudable.connection_limit = 7" \
    "claudable.role_settings = 'statement_timeout=61s'" || exit 1

projects() { as_super "SELECT count(*) FROM claudable.projects"; }
role_exists() { [ "$(as_super "SELECT count(*) FROM pg_roles WHERE rolname = '$1'")" = 1 ]; }
nothing_created() { [ "$(projects)" = "$1" ] && ! role_exists "$2"; }  # PROJECTS_BEFORE ROLE
# The server's values, as an honest call of the deploy service gets them.
honest_values() {  # PROJECT OWNER: pooled host, sslmode in the URL, connection limit, role settings
    local row
    # The worker creates the role after this statement's snapshot: its row is read by the next one.
    row=$(as_deploy "SELECT split_part(split_part(pooled_database_url, '@', 2), ':', 1) || ' ' ||
                            (database_url LIKE '%sslmode=disable') FROM claudable_provision('$1', '$2')") || return 1
    echo "$row $(role_of "$1")"
}
role_of() {  # PROJECT: its role's connection limit and settings
    as_deploy "SELECT r.rolconnlimit || ' ' || array_to_string(r.rolconfig, ',') FROM pg_roles AS r
                WHERE r.rolname = 'app_u_' || replace('$1', '-', '_')"
}
expected="pooler.internal true 7 statement_timeout=61s"
check "an honest call of the deploy service gets the server's pooler host, sslmode, connection limit and role settings" \
    test "$(honest_values honest-1 owner-honest)" = "$expected"

for name in max_projects max_projects_per_owner connection_limit role_settings template key_file host port sslmode \
    pooler_host pooler_port pooler_auth_user worker_timeout worker_start_timeout max_database_size; do
    before=$(projects)
    state=$(PGOPTIONS="-c claudable.$name=7" sqlstate_of "$DEPLOY_URL" "SELECT claudable_provision('opt-$name', 'owner-opt')")
    check "a startup option claudable.$name from the deploy role makes its call refuse with 42501" test "$state" = 42501
    check "and nothing was created for it (claudable.$name)" \
        nothing_created "$before" "app_u_opt_$name"
done
message=$(PGOPTIONS="-c claudable.max_projects_per_owner=100" \
    psql -X -At -v VERBOSITY=verbose "$DEPLOY_URL" -c "SELECT claudable_provision('opt-msg', 'owner-opt')" 2>&1)
check "the refusal names the setting and says to connect without it" \
    bash -c '[[ "$1" == *"ERROR:  42501: claudable: this session was started with claudable.max_projects_per_owner set by a role that may not set it"* ]] && [[ "$1" == *"HINT:  Connect without -c claudable.*"* ]]' _ "$message"
check "options= in the connection URL is refused the same way (42501)" \
    test "$(sqlstate_of "$DEPLOY_URL?options=-c%20claudable.max_projects_per_owner%3D100" \
        "SELECT claudable_provision('opt-url', 'owner-opt')")" = 42501
check "the deploy role's refused sessions changed no value: an honest call still gets the server's values" \
    test "$(honest_values honest-2 owner-honest)" = "$expected"

check "SET claudable.max_projects_per_owner after the library is loaded is refused (42501)" \
    test "$(sqlstate_of "$DEPLOY_URL" "SELECT 1 FROM claudable_provision('honest-1', 'owner-honest')" \
        "SET claudable.max_projects_per_owner = 100")" = 42501
as_deploy "SELECT 1 FROM claudable_provision('limit-1', 'owner-set')" "SELECT 1 FROM claudable_provision('limit-2', 'owner-set')" >/dev/null
check "SET before the library is loaded leaves the server's limit in force: a third project of one owner is refused (53400)" \
    test "$(sqlstate_of "$DEPLOY_URL" "SET claudable.max_projects_per_owner = 100" \
        "SELECT claudable_provision('limit-3', 'owner-set')")" = 53400
check "and the limit was not passed: the owner holds two projects" \
    test "$(as_super "SELECT count(*) FROM claudable.projects WHERE owner_id = 'owner-set'")" = 2
check "ALTER ROLE deploy_service SET claudable.max_projects_per_owner is refused (42501)" \
    test "$(sqlstate_of "$DEPLOY_URL" "ALTER ROLE deploy_service SET claudable.max_projects_per_owner = 100")" = 42501
check "ALTER ROLE deploy_service IN DATABASE meta SET claudable.host is refused (42501)" \
    test "$(sqlstate_of "$DEPLOY_URL" "ALTER ROLE deploy_service IN DATABASE meta SET claudable.host = 'evil.example'")" = 42501
check "no role or database setting of claudable.* was stored" \
    test "$(as_super "SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) AS c WHERE c LIKE 'claudable.%'")" = 0

tenant=$(tenant_url tenant-1 owner-tenant)
tenant_db=$(as_super "SELECT database_name FROM claudable.projects WHERE project_id = 'tenant-1'")
check "a tenant's ALTER ROLE self SET claudable.host is refused (42501)" \
    test "$(sqlstate_of "$tenant" "ALTER ROLE CURRENT_USER SET claudable.host = 'evil.example'")" = 42501
check "a tenant's ALTER DATABASE of its own database SET claudable.role_settings is refused (42501)" \
    test "$(sqlstate_of "$tenant" "ALTER DATABASE $tenant_db SET claudable.role_settings = ''")" = 42501

superuser_sets_role_settings() {
    as_super "SET claudable.role_settings = 'statement_timeout=5s'" \
        "SELECT 1 FROM claudable_provision('super-1', 'owner-super')" >/dev/null &&
        [ "$(role_of super-1)" = "7 statement_timeout=5s" ]
}
check "a superuser's own SET keeps working: its call gets its role settings" \
    superuser_sets_role_settings
check "and the deploy role's next call, served by the same idle worker, gets the server's values" \
    test "$(honest_values after-super owner-honest2)" = "$expected"
check "a superuser's startup option keeps working: its call gets that pooler host" \
    test "$(PGOPTIONS="-c claudable.pooler_host=opt.internal" as_super \
        "SELECT split_part(split_part(pooled_database_url, '@', 2), ':', 1) FROM claudable_provision('super-2', 'owner-super')")" = opt.internal

# The same attacks when the library is preloaded: PostgreSQL refuses the option at login.
as_super "ALTER SYSTEM SET shared_preload_libraries = 'claudable'" >/dev/null
eval "$CLAUDABLE_TEST_SERVER_STOP" && eval "$CLAUDABLE_TEST_SERVER_START"
check "with shared_preload_libraries the library is loaded by the server" \
    test "$(as_super "SHOW shared_preload_libraries")" = claudable
check "with shared_preload_libraries the deploy role's startup option is refused at login (FATAL, permission denied)" \
    env PGOPTIONS="-c claudable.max_projects_per_owner=100" bash -c "$(declare -f login_refused); login_refused \"\$1\" \"\$2\"" _ \
        "$DEPLOY_URL" 'permission denied to set parameter "claudable.max_projects_per_owner"'
check "and the server logged that refusal with SQLSTATE 42501" \
    grep -qF 'FATAL:  42501: permission denied to set parameter "claudable.max_projects_per_owner"' "$CLUSTER_LOG"
check "with shared_preload_libraries SET is refused (42501)" \
    test "$(sqlstate_of "$DEPLOY_URL" "SET claudable.max_projects_per_owner = 100")" = 42501
check "with shared_preload_libraries an honest call still gets the server's values" \
    test "$(honest_values honest-3 owner-honest3)" = "$expected"
tap_done
