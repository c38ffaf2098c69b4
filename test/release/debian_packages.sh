#!/usr/bin/env bash
# The Debian packages of one PostgreSQL major, as a DBA gets them: `make deb` builds
# postgresql-MAJOR-claudable and claudable-client from this tree (on the Debian release that
# packages MAJOR), then, in a clean root filesystem of that release with only PostgreSQL MAJOR
# installed (test/lib/rootfs.sh), the previous release's package is installed first, as a
# server that already runs claudable has it; README's install line brings this release;
# ALTER EXTENSION claudable UPDATE upgrades; a project provisioned through an EXECUTE-only
# role before the upgrade still logs in, a new one is made; and both packages are removed,
# leaving no file of theirs behind.
#   test/release/debian_packages.sh MAJOR
# The previous release's package comes from test/release/previous_package.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repository=$(cd "$here/../.." && pwd)
source "$repository/test/lib/tap.sh"
source "$repository/test/lib/majors.sh"
source "$repository/test/lib/rootfs.sh"
source "$repository/test/lib/cluster.sh"  # free_port, random_password
source "$here/previous_package.sh"  # previous_version, previous_package_cache, build_previous_package

major=$1
suite=$(major_debian_suite "$major") || exit 2
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$repository/extension/claudable.control")
work=$(mktemp -d /var/tmp/claudable-packages.XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---- this release, as make deb builds it ------------------------------------------------------
# make test builds another major's packages inside that major's run (release/deb.sh --here, the
# build make deb runs there) and passes them in CLAUDABLE_DEBS; alone, this suite runs make deb.
new="$repository/dist/debian/$suite"
if [ -n "${CLAUDABLE_DEBS:-}" ]; then
    new=$CLAUDABLE_DEBS
    check "the run on $major built postgresql-$major-claudable and claudable-client $version for Debian $suite (make deb's build)" \
        bash -c 'ls "$1"/postgresql-"$2"-claudable_"$3"-*.deb "$1"/claudable-client_"$3"-*.deb' _ "$new" "$major" "$version"
else
    check "make deb builds postgresql-$major-claudable and claudable-client $version for Debian $suite" \
        bash -c 'cd "$1" && make -s deb PG_MAJORS="$2" >"$3/deb.log" 2>&1 &&
                 ls "$4"/postgresql-"$2"-claudable_"$5"-*.deb "$4"/claudable-client_"$5"-*.deb' \
            _ "$repository" "$major" "$work" "$new" "$version"
    [ -s "$work/deb.log" ] && ! ls "$new"/*.deb >/dev/null 2>&1 && tail -15 "$work/deb.log" | sed 's/^/# /'
fi
check "the extension package holds claudable.so, the control file and every install and upgrade script" \
    bash -c 'files=$(dpkg-deb -c "$1"/postgresql-"$2"-claudable_*.deb) &&
             grep -q "/usr/lib/postgresql/$2/lib/claudable.so" <<<"$files" &&
             grep -q "/usr/share/postgresql/$2/extension/claudable.control" <<<"$files" &&
             grep -q "/usr/share/postgresql/$2/extension/claudable--$3.sql" <<<"$files" &&
             grep -q "/usr/share/postgresql/$2/extension/claudable--0.1.0--0.2.0.sql" <<<"$files" &&
             grep -q "/usr/share/postgresql/$2/extension/claudable_fleet.control" <<<"$files"' \
        _ "$new" "$major" "$version"
check "the client package holds the claudable CLI and the library" \
    bash -c 'files=$(dpkg-deb -c "$1"/claudable-client_*.deb) && grep -q "/usr/bin/claudable$" <<<"$files" &&
             grep -q "libclaudable-client.so" <<<"$files" && grep -q "/usr/include/claudable/" <<<"$files"' _ "$new"

# ---- the previous release, packaged once and cached (test/release/previous_package.sh) ------
previous_cache=$(previous_package_cache "$major")
build_previous_package "$major"
check "the previous release ($previous_version) is packaged as postgresql-$major-claudable $previous_version-1" \
    bash -c 'ls "$1"/postgresql-"$2"-claudable_"$3"-1_*.deb' _ "$previous_cache" "$major" "$previous_version"

# ---- installed into a clean root filesystem with PostgreSQL alone ----------------------------
clean_root=$(rootfs_prepare "$suite" "postgresql-$major") || { check "a clean Debian $suite root filesystem with postgresql-$major" false; tap_done; exit 1; }
mkdir -p "$work/run/upper/packages/previous" "$work/run/upper/packages/new" "$work/run/upper/steps"
cp "$previous_cache"/*.deb "$work/run/upper/packages/previous/" 2>/dev/null
cp "$new"/*.deb "$work/run/upper/packages/new/" 2>/dev/null
cp "$here/package_steps.sh" "$repository/test/lib/readme.sh" "$repository/test/lib/harden.sql" "$repository/README.md" \
    "$work/run/upper/steps/"
port=$(free_port) || exit 1
rootfs_run "$clean_root" "$work/run" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    MAJOR="$major" VERSION="$version" PREVIOUS="$previous_version" PORT="$port" \
    bash /steps/package_steps.sh >"$work/steps.out" 2>"$work/steps.err"
status=$?
while IFS='|' read -r verdict description; do
    check "$description" test "$verdict" = PASS
done < <(grep -E '^(PASS|FAIL)\|' "$work/steps.out")
check "the steps in the clean root filesystem ran to their end" test "$status" = 0
[ "$status" = 0 ] || { echo "# steps exited $status:"; tail -15 "$work/steps.err" | sed 's/^/#   /'; }
tap_done
