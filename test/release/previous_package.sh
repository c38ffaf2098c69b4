# The previous release's extension package, which test/release/debian_packages.sh installs
# before this release's to test the upgrade. Source it (after test/lib/majors.sh), then:
#   previous_package_cache MAJOR   prints the folder that holds (or will hold) the package
#   build_previous_package MAJOR   builds it once and caches it there; later calls, or a call
#                                  while another builds it, find it ready
# The previous release (0.7.0) was never packaged: its source is packaged here with this
# tree's debian/, built in-tree (dh --with pgxs_loop), since its Makefile predates the
# out-of-tree builds dh --with pgxs does. Those packages are cached per release and suite,
# outside the repository. make test builds them in the background while this machine's major
# runs, so that a cold run does not build them beside the other majors' suites.
previous_version=0.7.0
previous_repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
previous_commit=$(git -C "$previous_repository" rev-parse -q --verify "v$previous_version^{commit}" 2>/dev/null ||
    echo 23ef89ece3d2dc6179ff7708ed0ccbf5c4ccfe63)

previous_package_cache() {
    echo "${CLAUDABLE_ROOTFS_CACHE:-/var/cache/claudable/rootfs}/../packages/$(major_debian_suite "$1")-${previous_commit:0:12}"
}

build_previous_package() {
    local major=$1 cache
    cache=$(previous_package_cache "$major")
    [ -f "$cache/.ready" ] && return 0
    mkdir -p "$cache" || return 1
    (
        flock 9
        [ -f "$cache/.ready" ] && exit 0  # built while this one waited
        work=$(mktemp -d /var/tmp/claudable-previous.XXXXXX)
        trap 'rm -rf "$work"' EXIT
        tree=$work/source
        mkdir -p "$tree" && git -C "$previous_repository" archive "$previous_commit" | tar -xf - -C "$tree" || exit 1
        cp -a "$previous_repository/debian" "$tree/"
        # Its packaging: the extension package alone, built in the source tree for each major.
        sed -i "1s/([^)]*)/($previous_version-1)/" "$tree/debian/changelog"
        awk '/^Package: claudable-client$/ { skip = 1 } !skip { print } skip && /^$/ { skip = 0 }' \
            "$tree/debian/control.in" >"$tree/debian/control.in.new" && mv "$tree/debian/control.in.new" "$tree/debian/control.in"
        printf '#!/usr/bin/make -f\n%%:\n\tdh $@ --with pgxs_loop\n' >"$tree/debian/rules"
        (cd "$tree" && pg_buildext updatecontrol >/dev/null 2>&1 || cp debian/control.in debian/control)
        mkdir -p "$work/out"
        if [ "$major" = "$host_pg_major" ]; then
            bash "$previous_repository/release/deb.sh" --here "$major" "$work/out" "$tree" >"$work/log" 2>&1
        else
            bash "$previous_repository/test/majors/in_rootfs.sh" "$major" --keep-out "$work/out" --with "$tree" \
                bash release/deb.sh --here "$major" /build/out /build/with >"$work/log" 2>&1
        fi || { tail -20 "$work/log" >&2; exit 1; }
        cp "$work"/out/postgresql-"$major"-claudable_*.deb "$cache/" && touch "$cache/.ready"
    ) 9>"$cache/.lock"
}
