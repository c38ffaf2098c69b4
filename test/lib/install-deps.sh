# Installs what building and testing claudable needs, when it is missing.
# Source it, or run it: `bash test/lib/install-deps.sh`.

source "$(dirname "${BASH_SOURCE[0]}")/majors.sh"
# This machine's major (the other majors' packages go into their root filesystems:
# test/lib/rootfs.sh), and debootstrap, which makes those.
# shellcheck disable=SC2207
claudable_packages=(
    make g++ pkg-config
    $(major_server_packages "$host_pg_major") debootstrap
    libssl-dev libpq-dev
    cmake libgtest-dev libcli11-dev nlohmann-json3-dev
    clang-14 libclang-rt-14-dev
    libipc-run-perl
    pgbouncer
    python3-psycopg2
    build-essential debhelper dpkg-dev fakeroot postgresql-server-dev-all
)

# Node >= 20 for the Node package (client/node). The machine image brings it; elsewhere
# Debian's nodejs and npm are installed, and the Node suite says so if they are too old.
node_is_20_or_later() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -ge 20 ] 2>/dev/null
}

install_missing_packages() {
    # In a root filesystem of another major (test/majors/in_rootfs.sh) everything its suites
    # need was installed when it was made (test/lib/majors.sh, major_rootfs_packages).
    [ -z "${CLAUDABLE_IN_ROOTFS:-}" ] || return 0
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
