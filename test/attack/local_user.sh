#!/usr/bin/env bash
# Attack: a local user of the server machine (here `nobody`) prepares files and
# directories where a DBA exports the key (issue 19, item 8). The export never writes into
# a file someone else made, never follows a symlink, never writes into a directory others
# may write to (unless it is sticky and owned, as /tmp is), and leaves a 0600 file of the
# server's user.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/attack.sh"
start_attack_cluster || exit 1
as_local_user() { runuser -u nobody -- "$@"; }
export_to() { q -v VERBOSITY=verbose -c "SELECT claudable_export_key('$1')" 2>&1; }
tenant_url first owner-local >/dev/null  # the first project makes the key

shared=$(mktemp -d /tmp/claudable-attack-XXXXXX)
chmod 1777 "$shared"  # like /tmp: sticky, owned by root
check "a local user pre-creates the target name, world-writable" \
    as_local_user bash -c "umask 000; : >'$shared/pre.key'"
out=$(export_to "$shared/pre.key")
check "the export refuses to write into that file (F0000: will not overwrite)" \
    bash -c '[[ "$1" == *"ERROR:  F0000: claudable: will not overwrite key file"* ]]' _ "$out"
check "and the file holds no key" test ! -s "$shared/pre.key"
check "a local user plants a symlink at the target name, pointing at a file of its own" \
    as_local_user bash -c "umask 000; : >'$shared/mine' && ln -s '$shared/mine' '$shared/link.key'"
out=$(export_to "$shared/link.key")
check "the export does not follow it (F0000)" bash -c '[[ "$1" == *"ERROR:  F0000: "* ]]' _ "$out"
check "and the symlink's target holds no key" test ! -s "$shared/mine"

open_dir=$(mktemp -d /tmp/claudable-attack-XXXXXX)
chmod 0777 "$open_dir"
out=$(export_to "$open_dir/key")
check "the export refuses a directory others may write to, without the sticky bit (F0000)" \
    bash -c '[[ "$1" == *"ERROR:  F0000: claudable: will not write key file"*"its directory is writable by other users"* ]]' _ "$out"
check "and wrote nothing there" test -z "$(ls -A "$open_dir")"

nobodys=$(mktemp -d /tmp/claudable-attack-XXXXXX)
chown nobody "$nobodys" && chmod 0755 "$nobodys"
out=$(export_to "$nobodys/key")
check "the export refuses a directory another user owns (F0000), even one only its owner may write to" \
    bash -c '[[ "$1" == *"ERROR:  F0000: claudable: will not write key file"*"its directory is writable by other users"* ]]' _ "$out"
check "and wrote nothing there" test -z "$(ls -A "$nobodys")"

# The DBA's session: its backend PID is visible to a local user, who pre-creates the
# temporary names a writer using that PID would pick, world-writable.
out=$(printf '%s\n' "SELECT pg_backend_pid() AS pid \\gset" '\setenv DBA_PID :pid' \
    "\\! runuser -u nobody -- bash -c 'umask 000; : >$shared/guess.key.tmp.\$DBA_PID'" \
    "SELECT claudable_export_key('$shared/guess.key');" | psql -X -At -d meta -v VERBOSITY=verbose 2>&1)
check "the local user pre-created the temporary name the DBA's backend PID gives" \
    bash -c '[ "$(find "$1" -name "guess.key.tmp.*" -user nobody | wc -l)" = 1 ]' _ "$shared"
check "with it in place, the export still succeeds" \
    test -s "$shared/guess.key"
check "into a file of the server user, mode 0600, not one of the local user's" \
    test "$(stat -c '%U %a' "$shared/guess.key")" = "postgres 600"
check "and the local user's files hold no key" \
    bash -c 'for f in "$1"/guess.key.tmp.*; do [ ! -s "$f" ] || exit 1; done' _ "$shared"

out=$(export_to "$shared/good.key")
check "into a sticky directory owned by root the export succeeds" test -s "$shared/good.key"
check "the file is the server user's, mode 0600" test "$(stat -c '%U %a' "$shared/good.key")" = "postgres 600"
check "no temporary file of its own is left beside it" \
    bash -c '[ "$(find "$1" -name "*.tmp.*" -user postgres | wc -l)" = 0 ]' _ "$shared"
check "the local user cannot read it" bash -c '! runuser -u nobody -- cat "$1"' _ "$shared/good.key"
rm -rf "$shared" "$open_dir" "$nobodys"
tap_done
