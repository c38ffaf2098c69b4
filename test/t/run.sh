#!/usr/bin/env bash
# Runs one Perl TAP suite (test/t/NNN_name.pl, PostgreSQL::Test::Cluster) as the postgres
# OS user, as PostgreSQL's own TAP tests run (never as root), in a throwaway directory that
# is removed afterwards, also when the suite fails. Prints the suite's own TAP and exits with
# its status; make test (test/lib/suites.sh) scores each suite on its own, so one that dies
# halfway has no plan line and fails there, whatever the other suite printed.
set -uo pipefail
suite=$1
bindir=$(pg_config --bindir 2>/dev/null)
[ -x "$bindir/initdb" ] || bindir=/usr/lib/postgresql/${PG_MAJOR:-15}/bin
pgxs_src="$(dirname "$(pg_config --pgxs)")/.."
perl_lib="$pgxs_src/test/perl"

work=$(mktemp -d /tmp/claudable-tap.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$suite" "$work/"
chown -R postgres:postgres "$work"
cd "$work" || exit 1
runuser -u postgres -- env PATH="$bindir:$PATH" PERL5LIB="$perl_lib" TESTDIR="$work" \
    PG_REGRESS="$pgxs_src/test/regress/pg_regress" \
    perl "./$(basename "$suite")"
exit $?
