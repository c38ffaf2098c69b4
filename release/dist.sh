#!/usr/bin/env bash
# `make dist`: the PGXN release zip, dist/claudable-<version>.zip, made by git archive from the
# committed tree (HEAD), with one top folder claudable-<version>/. It refuses to make one whose
# META.json does not validate against the PGXN Meta Spec (release/pgxn_meta.py) or whose
# version is not the extension's.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(git show HEAD:META.json | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
control=$(git show HEAD:extension/claudable.control | sed -n "s/^default_version = '\(.*\)'/\1/p")
[ "$version" = "$control" ] ||
    { echo "make dist: META.json says $version but extension/claudable.control says $control; make them one" >&2; exit 1; }
checked=$(mktemp)
trap 'rm -f "$checked"' EXIT
git show HEAD:META.json >"$checked"
python3 release/pgxn_meta.py "$checked" >&2 ||
    { echo "make dist: META.json (as committed) does not validate against the PGXN Meta Spec" >&2; exit 1; }
mkdir -p dist
git archive --format=zip --prefix="claudable-$version/" --output="dist/claudable-$version.zip" HEAD
echo "dist/claudable-$version.zip"
