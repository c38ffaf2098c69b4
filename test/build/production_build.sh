#!/usr/bin/env bash
# After make test has installed the production build again: what the build itself must
# guarantee. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/tap.sh

library="$(pg_config --pkglibdir)/claudable.so"
check "the installed production build has no fault injection" \
    bash -c '! grep -q "claudable.fault_point" "$1" && grep -q "claudable.worker_timeout" "$1"' _ "$library"

# The boundary is the compiler's to enforce: a pure C++ file that PostgreSQL headers reach
# does not compile, whichever comes first.
guard_compiles() {  # $1: the includes, in order
    printf '%b\n' "$1" | g++ -std=c++17 -fsyntax-only -x c++ -I extension -I "$(pg_config --includedir-server)" - 2>/dev/null
}
export -f guard_compiles
outside_pg_unguarded=$(for f in $(ls extension/*/*.cpp | grep -v '^extension/pg/'); do
    grep -m1 '#include' "$f" | grep -q '"rules/pure_cpp.hpp"' || echo "$f"; done)
check "every source file outside extension/pg/ includes rules/pure_cpp.hpp first${outside_pg_unguarded:+: $outside_pg_unguarded}" \
    test -z "$outside_pg_unguarded"
check "a pure C++ file that PostgreSQL headers reach does not compile" bash -c '
    ! guard_compiles "#include \"rules/pure_cpp.hpp\"\n#include \"pg/boundary.hpp\"" &&
    ! guard_compiles "#include \"pg/boundary.hpp\"\n#include \"rules/pure_cpp.hpp\"" &&
    guard_compiles "#include \"pg/boundary.hpp\"\n#include \"rules/failure.hpp\""'

# `make` is PGXS alone: building the extension runs no CMake and needs no client dependency.
check "make builds the extension without the client's CMake" \
    bash -c '! make -s -n clean all 2>/dev/null | grep -qE "(^|[ /])cmake "'
tap_done
