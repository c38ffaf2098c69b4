#!/usr/bin/env bash
# Runs the Perl TAP suites (test/t/*.pl, PostgreSQL::Test::Cluster) with prove, as the
# postgres OS user as PostgreSQL's own TAP tests run (never as root), in a throwaway
# directory that is removed afterwards, also when a suite fails. Prints prove's TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bindir=$(pg_config --bindir 2>/dev/null)
[ -x "$bindir/initdb" ] || bindir=/usr/lib/postgresql/15/bin
pgxs_src="$(dirname "$(pg_config --pgxs)")/.."
perl_lib="$pgxs_src/test/perl"

work=$(mktemp -d /tmp/claudable-tap.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$here"/*.pl "$work"/
chown -R postgres:postgres "$work"
cd "$work" || exit 1
runuser -u postgres -- env PATH="$bindir:$PATH" PERL5LIB="$perl_lib" TESTDIR="$work" \
    PG_REGRESS="$pgxs_src/test/regress/pg_regress" \
    prove -v --timer ./*.pl
status=$?
# A suite that stopped early (a bail-out) leaves no "not ok" line of its own: count it.
[ "$status" -eq 0 ] || echo "not ok - prove: a Perl TAP suite failed or stopped early (exit $status)"
exit "$status"
