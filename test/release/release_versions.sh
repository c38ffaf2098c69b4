#!/usr/bin/env bash
# The release's versions move together, and its metadata is what PGXN and Debian accept:
# the extension's default_version, the C++ library and CLI (client/CMakeLists.txt, whose
# version `claudable --version` prints: the package test runs it), the Node package (package.json and its lock), META.json,
# debian/changelog and the top entry of CHANGELOG.md name one version; META.json validates
# against the PGXN Meta Spec and lists exactly the majors make test runs; the validator
# refuses what the spec refuses; and `make dist` from a fresh clone gives a zip of the
# committed tree under one folder claudable-<version>/.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repository=$(cd "$here/../.." && pwd)
source "$repository/test/lib/tap.sh"
source "$repository/test/lib/majors.sh"
cd "$repository" || exit 1
work=$(mktemp -d /tmp/claudable-release.XXXXXX)
trap 'rm -rf "$work"' EXIT

json_field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2:]]; print(v)' "$@"; }
release=$(sed -n "s/^default_version = '\(.*\)'/\1/p" extension/claudable.control)
check "the extension's default_version is a version ($release)" bash -c '[[ $0 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]' "$release"
check "the C++ library and CLI carry it (client/CMakeLists.txt)" \
    grep -qE "^project\(claudable_client VERSION $release LANGUAGES" client/CMakeLists.txt
check "the CMake consumer example asks for it (find_package, same minor version)" \
    grep -qE "^find_package\(claudable ${release%.*} REQUIRED\)" client/examples/consumer/CMakeLists.txt
check "the Node package carries it (package.json)" test "$(json_field client/node/package.json version)" = "$release"
check "and its lock file" test "$(json_field client/node/package-lock.json packages '' version)" = "$release"
check "META.json carries it" test "$(json_field META.json version)" = "$release"
check "META.json's claudable extension carries it" test "$(json_field META.json provides claudable version)" = "$release"
check "META.json's claudable_fleet carries claudable_fleet's own version" \
    test "$(json_field META.json provides claudable_fleet version)" = \
         "$(sed -n "s/^default_version = '\(.*\)'/\1/p" fleet/claudable_fleet.control)"
check "debian/changelog's newest entry is the release, Debian revision 1 or later" \
    bash -c '[[ "$(dpkg-parsechangelog -l debian/changelog -S Version)" =~ ^$0-[0-9]+$ ]]' "$release"
check "CHANGELOG.md's newest entry is the release" \
    test "$(grep -m1 -oE '^## [0-9]+\.[0-9]+\.[0-9]+' CHANGELOG.md | cut -c4-)" = "$release"
check "CHANGELOG.md says how to upgrade to it" \
    bash -c 'awk "/^## /{n++} n==1" CHANGELOG.md | grep -q "^\*\*Upgrade from "'
check "META.json validates against the PGXN Meta Spec 1.0.0" python3 release/pgxn_meta.py META.json
check "META.json lists exactly the majors make test runs ($supported_pg_majors)" \
    test "$(python3 -c 'import json; print(" ".join(json.load(open("META.json"))["x_tested_postgresql_majors"]))')" = "$supported_pg_majors"
check "debian/pgversions lists the same majors" test "$(tr '\n' ' ' <debian/pgversions | sed 's/ $//')" = "$supported_pg_majors"

# The validator refuses what the spec refuses (each on a copy of META.json with one fault).
refuses() {  # PYTHON-EXPRESSION that breaks the copy `m`
    python3 -c 'import json, sys; m = json.load(open("META.json")); exec(sys.argv[1]); json.dump(m, open(sys.argv[2], "w"))' \
        "$1" "$work/broken.json" && ! python3 release/pgxn_meta.py "$work/broken.json" >/dev/null
}
check "the validator refuses a version that is not SemVer" refuses 'm["version"] = "0.8"'
check "the validator refuses a META.json without provides" refuses 'del m["provides"]'
check "the validator refuses a tag with a slash" refuses 'm["tags"].append("pl/proxy")'
check "the validator refuses an unknown license name" refuses 'm["license"] = "postgres"'
check "the validator refuses a prerequisite that is not a version range" refuses 'm["prereqs"]["runtime"]["requires"]["PostgreSQL"] = "15+"'
check "the validator refuses an unknown key that is not x_" refuses 'm["supported"] = ["15"]'
check "the validator refuses a meta-spec other than 1.0.x" refuses 'm["meta-spec"]["version"] = "2.0.0"'

# make dist as README says, from a fresh clone of the committed tree.
git clone -q "$repository" "$work/clone" 2>/dev/null
check "make dist from a fresh clone writes dist/claudable-$release.zip" \
    bash -c 'cd "$1/clone" && make -s dist >"$1/dist.log" 2>&1 && [ -f "dist/claudable-$2.zip" ]' _ "$work" "$release"
zip="$work/clone/dist/claudable-$release.zip"
check "every file in the zip is under claudable-$release/" \
    bash -c 'python3 -c "import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(0 if names and all(n.startswith(sys.argv[2] + \"/\") for n in names) else 1)" "$0" "claudable-$1"' \
        "$zip" "$release"
check "the zip holds exactly the committed files (git archive of HEAD)" \
    bash -c 'diff <(python3 -c "import sys, zipfile; [print(n.split(\"/\", 1)[1]) for n in zipfile.ZipFile(sys.argv[1]).namelist() if not n.endswith(\"/\")]" "$0" | sort) \
                  <(git -C "$1" ls-tree -r --name-only HEAD | sort)' "$zip" "$work/clone"
check "the zip's META.json validates" \
    bash -c 'python3 -c "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2] + \"/META.json\").decode())" "$0" "claudable-$1" >"$2/zip-meta.json" &&
             python3 release/pgxn_meta.py "$2/zip-meta.json"' "$zip" "$release" "$work"
check "make dist refuses a META.json that does not validate, and writes no zip" \
    bash -c 'cd "$0/clone" && rm -rf dist && sed -i "s/\"version\": \"$1\"/\"version\": \"$1.x\"/" META.json &&
             git -c user.name=t -c user.email=t@t commit -qam broken && ! make -s dist >/dev/null 2>&1 && [ ! -e "dist/claudable-$1.x.zip" ] && [ ! -e "dist/claudable-$1.zip" ]' \
        "$work" "$release"
tap_done
