#!/usr/bin/env bash
# Runs a command in a copy of this repository, inside a throwaway overlay of the cached Debian
# root filesystem that packages PostgreSQL MAJOR (test/lib/rootfs.sh), with PG_CONFIG naming
# that major's pg_config (Debian's wrappers in /usr/bin, psql --cluster and the like, stay first
# on PATH, as on a DBA's server):
#   test/majors/in_rootfs.sh MAJOR [--keep-out DIR] [--with DIR] [--mount-image IMAGE:PATH] CMD...
# The copy is the repository as a fresh clone of the working tree has it (tracked files and
# untracked ones that are not ignored), with its git directory, at /build/claudable; CMD runs
# there. With --keep-out, whatever CMD left in /build/out is copied to DIR afterwards; with
# --with, DIR is copied to /build/with first; with --mount-image, the file system image IMAGE
# is loop-mounted at PATH inside the root for the run.
set -uo pipefail
repository=$(cd "$(dirname "$0")/../.." && pwd)
source "$repository/test/lib/majors.sh"
source "$repository/test/lib/rootfs.sh"
source "$repository/test/lib/node_package.sh"  # repository_as_cloned

major=$1
shift
keep_out=
with=
while true; do
    case "${1:-}" in
        --keep-out) keep_out=$2; shift 2 ;;
        --with) with=$2; shift 2 ;;
        --mount-image) export ROOTFS_IMAGE=${2%%:*} ROOTFS_IMAGE_AT=${2#*:}; shift 2 ;;
        *) break ;;
    esac
done
suite=$(major_debian_suite "$major") || exit 2
[ "$(id -u)" = 0 ] || { echo "in_rootfs.sh: chroot needs root" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "in_rootfs.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 2; }

root=$(rootfs_prepare "$suite" $(major_rootfs_packages "$major")) || exit 1
work=$(mktemp -d /var/tmp/claudable-pg$major.XXXXXX)
trap 'rm -rf "$work"' EXIT
copy="$work/upper/build/claudable"
mkdir -p "$copy" "$work/upper/build/out"
repository_as_cloned "$copy" && cp -a "$repository/.git" "$copy/"
if [ -n "$with" ]; then mkdir -p "$work/upper/build/with" && cp -a "$with/." "$work/upper/build/with/"; fi
# The network as this machine reaches it: its trust store (which may hold a proxy's CA) and
# npm's configuration, for the suites that install the Node package from the npm registry.
mkdir -p "$work/upper/etc/ssl/certs" "$work/upper/root"
cp /etc/ssl/certs/ca-certificates.crt "$work/upper/etc/ssl/certs/"
[ -f /etc/npmrc ] && cp /etc/npmrc "$work/upper/etc/"
[ -f "$HOME/.npmrc" ] && cp "$HOME/.npmrc" "$work/upper/root/"
proxies=()
for variable in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!variable:-}" ] && proxies+=("$variable=${!variable}")
done
rootfs_run "$root" "$work" env -i "${proxies[@]}" HOME=/root TERM=dumb LANG=C.UTF-8 CI="${CI:-}" CLAUDABLE_IN_ROOTFS=1 PG_MAJOR="$major" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" \
    bash -c 'cd /build/claudable && exec "$@"' _ "$@"
status=$?
if [ -n "$keep_out" ]; then
    mkdir -p "$keep_out" && cp -a "$work/upper/build/out/." "$keep_out/"
fi
exit $status
