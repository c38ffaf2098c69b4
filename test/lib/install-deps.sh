# Installs what building and testing claudable needs, when it is missing.
# Source it, or run it: `bash test/lib/install-deps.sh`.

claudable_packages=(
    make g++ pkg-config
    postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
    libssl-dev libpq-dev
    cmake libgtest-dev libcli11-dev nlohmann-json3-dev
    clang-14 libclang-rt-14-dev
    libipc-run-perl
    postgresql-15-plproxy pgbouncer postgresql-15-cron
    python3-psycopg2
)

# Node >= 20 for the Node package (client/node). The machine image brings it; elsewhere
# Debian's nodejs and npm are installed, and the Node suite says so if they are too old.
node_is_20_or_later() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -ge 20 ] 2>/dev/null
}

install_missing_packages() {
    local missing=()
    for package in "${claudable_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    node_is_20_or_later || missing+=(nodejs npm)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "Missing Debian packages: ${missing[*]}. Install them (as root: apt-get install ${missing[*]})." >&2
        return 1
    fi
    echo "Installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    install_missing_packages
fi
