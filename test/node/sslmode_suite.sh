#!/usr/bin/env bash
# sslmode in each client: for every sslmode a URL can carry (none, disable, allow, prefer,
# require, verify-ca, verify-full), libpq (psql), node-postgres with the URL as it is, and
# node-postgres with the URL through nodePostgresUrl() (the package as a user installs it,
# from its npm pack tarball) each connect to a cluster without certificates (ssl off) and
# to one with a self-signed certificate (ssl on), as a client with no root certificate
# of its own. What each did (TLS, no TLS, or why it failed) makes the table; README's table
# "sslmode in each client" must be exactly that table. Prints TAP, and the observed table as
# comments (paste it into README when a client changes).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"
source "$here/../lib/install-deps.sh"
source "$here/../lib/node_package.sh"

work=$(mktemp -d /tmp/claudable-sslmode.XXXXXX)
chmod 0755 "$work"
finish() { cluster_stop; rm -rf "$work"; }
trap finish EXIT

modes=(none disable allow prefer require verify-ca verify-full)
servers=(plain tls)

check "Node is version 20 or later ($(node --version 2>/dev/null))" node_is_20_or_later
# node-postgres and nodePostgresUrl() as a user has them: the package's tarball installed in an empty project.
consumer="$work/consumer"
mkdir -p "$consumer"
tarball=$(node_package_tarball "$consumer")
check "the package's tarball installs into an empty project" \
    bash -c 'cd "$1" && npm init -y >/dev/null && npm install --no-audit --no-fund "./$2" >"$1/npm-install.log" 2>&1' \
        _ "$consumer" "$tarball"
cat >"$consumer/probe.cjs" <<'JS'
// node probe.cjs raw|normalised: connects with PROBE_URL (or nodePostgresUrl(PROBE_URL)) and
// prints TLS or no TLS, or "error: <message>" when it cannot connect.
const pg = require('pg');
const { nodePostgresUrl } = require('claudable-client');
process.removeAllListeners('warning');
process.on('warning', () => {});
(async () => {
  let client;
  try {
    const url = process.argv[2] === 'normalised' ? nodePostgresUrl(process.env.PROBE_URL) : process.env.PROBE_URL;
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    const { rows } = await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    console.log(rows[0].ssl ? 'TLS' : 'no TLS');
  } catch (error) {
    console.log(`error: ${String(error && error.message).split('\n')[0]}`);
  } finally {
    await client?.end().catch(() => {});
  }
})();
JS

# One short reason for a failure, from the client's own message.
reason_of() {
    case "$1" in
        *"does not support SSL"*) echo "fails: the server has no TLS" ;;
        *"root certificate file"*|*"requires specifying a CA with sslrootcert"*) echo "fails: no root certificate" ;;
        *"self-signed certificate"*|*"self signed certificate"*|*"certificate verify failed"*)
            echo "fails: certificate not trusted" ;;
        *) echo "fails: other" ;;
    esac
}
url_for() {  # MODE: the probe role's URL with that sslmode (none: no query)
    local url="postgresql://tls_probe:$probe_password@127.0.0.1:$PGPORT/postgres"
    [ "$1" = none ] && echo "$url" || echo "$url?sslmode=$1"
}
# A client with no settings of its own: no PG* variable, a HOME without ~/.postgresql.
client_home="$work/home"
mkdir -p "$client_home"
probe_libpq() {  # MODE SERVER
    local out
    out=$(env -i PATH="$PATH" HOME="$client_home" psql -X -At "$(url_for "$1")" \
              -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' 2>"$work/libpq-$1-$2.err")
    case "$out" in
        t) echo TLS ;;
        f) echo "no TLS" ;;
        *) reason_of "$(cat "$work/libpq-$1-$2.err")" ;;
    esac
}
probe_node() {  # MODE SERVER raw|normalised
    local out
    out=$(cd "$consumer" && env -i PATH="$PATH" HOME="$client_home" PROBE_URL="$(url_for "$1")" node probe.cjs "$3" 2>/dev/null)
    case "$out" in
        TLS|"no TLS") echo "$out" ;;
        "error: "*) echo "${out#error: }" >"$work/node-$3-$1-$2.err"; reason_of "$out" ;;
        *) echo "fails: other" ;;
    esac
}
declare -A seen
probe_server() {  # SERVER: every mode, every client
    local mode
    probe_password=$(random_password)
    psql -X -q -c "CREATE ROLE tls_probe LOGIN PASSWORD '$probe_password'" || return 1
    for mode in "${modes[@]}"; do
        seen[libpq,$mode,$1]=$(probe_libpq "$mode" "$1")
        seen[raw,$mode,$1]=$(probe_node "$mode" "$1" raw)
        seen[normalised,$mode,$1]=$(probe_node "$mode" "$1" normalised)
    done
}

# A cluster without certificates (ssl off, the default).
cluster_start >/dev/null
trap finish EXIT  # cluster_start set its own
check "a cluster without certificates starts (ssl = off)" test "$(psql -X -At -c 'SHOW ssl')" = off
probe_server plain
cluster_stop

# One with a self-signed certificate, as `openssl req -x509` makes it.
certs="$work/certs"
mkdir -p "$certs"
check "openssl makes a self-signed certificate" \
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$certs/server.key" -out "$certs/server.crt"
chown -R postgres:postgres "$certs"
chmod 0600 "$certs/server.key"
cluster_start "ssl = on" "ssl_cert_file = '$certs/server.crt'" "ssl_key_file = '$certs/server.key'" >/dev/null
trap finish EXIT
check "a cluster with that certificate starts (ssl = on)" test "$(psql -X -At -c 'SHOW ssl')" = on
probe_server tls
cluster_stop

# The table, as README has it.
cell() { echo "${seen[$1,$2,$3]:-not probed}"; }
{
    echo "| the URL carries | psql (libpq), server without TLS | psql (libpq), self-signed certificate | node-postgres, server without TLS | node-postgres, self-signed certificate | node-postgres with \`nodePostgresUrl()\`, server without TLS | node-postgres with \`nodePostgresUrl()\`, self-signed certificate |"
    echo "|---|---|---|---|---|---|---|"
    for mode in "${modes[@]}"; do
        label="\`sslmode=$mode\`"
        [ "$mode" = none ] && label="no \`sslmode\`"
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(cell libpq "$mode" plain)" "$(cell libpq "$mode" tls)" \
            "$(cell raw "$mode" plain)" "$(cell raw "$mode" tls)" "$(cell normalised "$mode" plain)" "$(cell normalised "$mode" tls)"
    done
} >"$work/observed.md"
echo "# observed:"
sed 's/^/# /' "$work/observed.md"
# README's table: the lines after the marker, up to the first blank line.
awk '$0 == "<!-- readme-observed: sslmode-table -->" { inside = 1; next } inside && /^$/ { exit } inside { print }' \
    "$root/README.md" >"$work/readme.md"

check "every probe gave an answer the table knows (no \"fails: other\")" bash -c '! grep -q "fails: other" "$1"' _ "$work/observed.md"
check "README's table \"sslmode in each client\" has the header and one row per mode" \
    bash -c '[ "$(sed -n 1p "$1")" = "$(sed -n 1p "$2")" ] && [ "$(wc -l <"$1")" = "$(wc -l <"$2")" ]' _ "$work/readme.md" "$work/observed.md"
line=3
for mode in "${modes[@]}"; do
    check "README's row for ${mode/none/no sslmode} is what psql, node-postgres and nodePostgresUrl() did" \
        bash -c '[ "$(sed -n "$3p" "$1")" = "$(sed -n "$3p" "$2")" ]' _ "$work/readme.md" "$work/observed.md" "$line"
    line=$((line + 1))
done
# What README says of it in words.
# Connected with TLS, without, or failed: the reason may differ (node-postgres trusts the
# system's CAs where libpq wants ~/.postgresql/root.crt), the outcome may not.
outcome() { case "$1" in fails*) echo fails ;; *) echo "$1" ;; esac; }
for mode in disable allow require verify-ca verify-full; do
    check "with nodePostgresUrl(), node-postgres connects (with TLS or without) where libpq does and fails where it fails, for sslmode=$mode on both servers" \
        test "$(outcome "${seen[normalised,$mode,plain]}") $(outcome "${seen[normalised,$mode,tls]}")" = \
             "$(outcome "${seen[libpq,$mode,plain]}") $(outcome "${seen[libpq,$mode,tls]}")"
done
check "without sslmode (what claudable writes for allow and prefer), every client connects to both servers" \
    bash -c '! grep -E "^\| no \`sslmode\`" "$1" | grep -q fails' _ "$work/observed.md"
check "without nodePostgresUrl(), node-postgres fails where libpq connects: sslmode=require against a self-signed certificate" \
    bash -c '[ "$1" = TLS ] && [[ "$2" == fails* ]]' _ "${seen[libpq,require,tls]}" "${seen[raw,require,tls]}"
check "libpq refuses a URL that nodePostgresUrl() gave uselibpqcompat (its result is for node-postgres only)" \
    bash -c 'out=$(env -i PATH="$PATH" HOME="$2" psql -X -At "$1&uselibpqcompat=true" -c "SELECT 1" 2>&1); [[ "$out" == *"invalid URI query parameter"* ]]' \
        _ "$(url_for require)" "$client_home"
check "no probe's error holds the probe's password" \
    bash -c 'shopt -s nullglob; files=("$1"/*.err); [ ${#files[@]} -eq 0 ] || ! grep -qF -- "$2" "${files[@]}"' _ "$work" "$probe_password"
tap_done
