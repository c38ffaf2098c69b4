#!/usr/bin/env bash
# Over a real TCP login: the DATABASE_URL works, and no password reaches the server
# log, a metadata dump or an error message. Needs the cluster from test/lib/cluster.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
export -f absent

psql_super() { psql -X -v ON_ERROR_STOP=1 -At -d claudable_it "$@"; }

psql -X -qAt -d postgres -c "CREATE DATABASE claudable_it" >/dev/null
psql_super -q -c "CREATE EXTENSION claudable" >/dev/null

row=$(psql_super -F $'\t' -c "SELECT password, database_url, database_name FROM claudable_provision('secret-probe', 'owner-secrets')")
IFS=$'\t' read -r password url database_name <<<"$row"
other_url=$(psql_super -c "SELECT database_url FROM claudable_provision('secret-other', 'owner-secrets')")
other_database=$(psql_super -c "SELECT database_name FROM claudable_provision('secret-other', 'owner-secrets')")
data_dir=$(psql_super -c "SHOW data_directory")
log_file="$CLUSTER_LOG"

url_for_other_database=${url%/*}/$other_database

check "the DATABASE_URL logs in with psql over TCP as the project's role" \
    bash -c '[ "$(psql -X -At "$1" -c "SELECT current_user || chr(64) || current_database()")" = "app_u_secret_probe@app_db_secret_probe" ]' _ "$url"
check "the project's role creates, fills and reads a table" \
    bash -c '[ "$(psql -X -q -At "$1" -c "CREATE TABLE t (x int)" -c "INSERT INTO t VALUES (42)" -c "SELECT x FROM t")" = "42" ]' _ "$url"
# A refused login: psql exits 2 (no connection), with the server's FATAL; the server logged
# it with its SQLSTATE (log_error_verbosity = verbose).
refused_login() {  # URL SQLSTATE MESSAGE: psql's exit status and the FATAL, from psql and from the log
    local url=$1 sqlstate=$2 message=$3 mark
    mark=$(stat -c %s "$log_file")
    login_refused "$url" "$message" || return 1
    for _ in $(seq 1 50); do
        tail -c +"$((mark + 1))" "$log_file" | grep -qF "FATAL:  $sqlstate: $message" && return 0
        sleep 0.1
    done
    return 1
}
check "its credentials are refused by another project's database: FATAL 42501, permission denied for database" \
    refused_login "$url_for_other_database" 42501 "permission denied for database \"$other_database\""
check "a wrong password is refused: FATAL 28P01, password authentication failed" \
    refused_login "${url/:$password@/:wrong-password@}" 28P01 'password authentication failed for user "app_u_secret_probe"'

new_password=$(psql_super -c "SELECT password FROM claudable_rotate_password('secret-other', 'owner-secrets')")

# Statement logging is on for the whole test cluster (log_statement = all).
check "the server log holds the provisioning LOG line with project, owner and database" \
    grep -qF 'claudable: provisioned project "secret-probe" for owner "owner-secrets": database "app_db_secret_probe"' "$log_file"
check "the password never appears in the server log" absent "$password" "$log_file"
check "a rotated password never appears in the server log" absent "$new_password" "$log_file"
check "the server log holds the rotation's LOG line" \
    grep -qF 'claudable: rotated the password of project "secret-other" for owner "owner-secrets"' "$log_file"
check "the database_url never appears in the server log" \
    bash -c 'absent "$1" "$3" && absent "$2" "$3"' _ "$url" "$other_url" "$log_file"

key_hex=$(psql_super -c "SELECT encode(material, 'hex') FROM claudable.key_material")
dump=$(mktemp)
pg_dump -d claudable_it >"$dump" 2>/dev/null
check "pg_dump of the metadata database keeps the project rows" grep -q 'secret-probe' "$dump"
check "pg_dump of the metadata database holds no password" absent "$password" "$dump"
check "pg_dump of the metadata database holds the key's fingerprint but never the key" \
    bash -c '[ ${#1} = 64 ] && { grep -qiF -- "$1" "$2"; [ $? = 1 ]; } && grep -qF "$3" "$2"' _ "$key_hex" "$dump" \
        "$(psql_super -c "SELECT fingerprint FROM claudable.key_ring")"
rm -f "$dump"

check "by default no key file is written in the data directory: the key is in claudable.key_material" \
    bash -c '[ ! -e "$1/claudable.key" ] && [ "$(psql -X -At -d claudable_it -c "SELECT count(*) FROM claudable.key_material")" = 1 ]' _ "$data_dir"

errors=$(psql_super -v VERBOSITY=verbose -c "SELECT claudable_provision('secret-probe', 'not-the-owner')" 2>&1 || true)
check "another owner is refused (42501), and the error text holds no password or URL" \
    bash -c '[[ "$1" == *"ERROR:  42501: "* ]] && [[ "$1" != *"$2"* ]] && [[ "$1" != *"$3"* ]]' _ "$errors" "$password" "$url"
check "and the refused call changed nothing: the owner's call returns the same password" \
    test "$(psql_super -c "SELECT owner_id || ' ' || password FROM claudable_provision('secret-probe', 'owner-secrets')")" = "owner-secrets $password"

wrong_key=$(mktemp -d)
chown postgres "$wrong_key"
runuser -u postgres -- bash -c "printf '%064d\n' 7 >'$wrong_key/other.key' && chmod 600 '$wrong_key/other.key'"
errors=$(psql_super -v VERBOSITY=verbose -c "SET claudable.key_file = '$wrong_key/other.key'" -c "SELECT claudable_provision('secret-probe', 'owner-secrets')" 2>&1 || true)
check "with another key file the call is refused (F0000): the key is not the one that sealed the passwords" \
    bash -c '[[ "$1" == *"ERROR:  F0000: claudable: the key in key file"*"is not the key that sealed the stored passwords"* ]]' _ "$errors"
runuser -u postgres -- chmod 644 "$wrong_key/other.key"
errors=$(psql_super -v VERBOSITY=verbose -c "SET claudable.key_file = '$wrong_key/other.key'" -c "SELECT claudable_provision('secret-probe', 'owner-secrets')" 2>&1 || true)
check "a key file readable by others is refused (F0000)" \
    bash -c '[[ "$1" == *"ERROR:  F0000: "*"has group or world access"* ]]' _ "$errors"
rm -rf "$wrong_key"

psql -X -qAt -d postgres -c "DROP DATABASE claudable_it" >/dev/null
tap_done
