#!/usr/bin/env bash
# `make deb`: Debian packages of the working tree (debian/, the Debian PostgreSQL team's
# convention: pg_buildext, dh --with pgxs), for each PostgreSQL major in PG_MAJORS (default:
# every supported one): postgresql-MAJOR-claudable and claudable-client, built on the Debian
# release that packages that major (this machine's major here, the others in their root
# filesystems, test/majors/in_rootfs.sh). They land in dist/debian/<suite>/.
#   release/deb.sh                 every major in PG_MAJORS
#   release/deb.sh --here MAJOR OUT [SOURCE]
#                                  build on this system, for MAJOR, into OUT (what the others
#                                  run); SOURCE is a source tree with its debian/ (default: this
#                                  repository as a clone has it)
set -euo pipefail
repository=$(cd "$(dirname "$0")/.." && pwd)
source "$repository/test/lib/majors.sh"
source "$repository/test/lib/node_package.sh"  # repository_as_cloned

build_here() {
    local major=$1 out=$2 source=${3:-} work version
    work=$(mktemp -d /tmp/claudable-deb.XXXXXX)
    trap 'rm -rf "$work"' RETURN
    if [ -n "$source" ]; then
        version=$(dpkg-parsechangelog -l "$source/debian/changelog" -S Version)
        mkdir "$work/claudable-${version%-*}"
        cp -a "$source/." "$work/claudable-${version%-*}/"
    else
        version=$(dpkg-parsechangelog -l "$repository/debian/changelog" -S Version)
        # The tree a clone has: tracked files and untracked ones that are not ignored.
        repository_as_cloned "$work/claudable-${version%-*}"
    fi
    # debian/control is kept as generated for this machine's major; each release regenerates it
    # for its own (pg_buildext checkcontrol, as apt.postgresql.org's builds do). No build-time
    # tests: they need a running server and pgTAP, and make test runs them on every major.
    (cd "$work/claudable-${version%-*}" &&
        PG_SUPPORTED_VERSIONS=$major PG_UPDATECONTROL=yes DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
            dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) ||
        { tail -40 "$work/build.log" >&2; return 1; }
    mkdir -p "$out"
    cp "$work"/*.deb "$out/"
    echo "# built $(cd "$out" && ls *.deb | tr '\n' ' ')"
}

if [ "${1:-}" = --here ]; then
    build_here "$2" "$3" "${4:-}"
    exit
fi

for major in ${PG_MAJORS:-$supported_pg_majors}; do
    suite=$(major_debian_suite "$major")
    out="$repository/dist/debian/$suite"
    rm -rf "$out"
    echo "== postgresql-$major-claudable and claudable-client, for Debian $suite"
    if [ "$major" = "$host_pg_major" ]; then
        build_here "$major" "$out"
    else
        bash "$repository/test/majors/in_rootfs.sh" "$major" --keep-out "$out" \
            bash release/deb.sh --here "$major" /build/out
    fi
done
