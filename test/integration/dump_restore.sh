#!/usr/bin/env bash
# pg_dump / pg_restore of the metadata database into a fresh database round-trips: the
# rows come back, the key never travels in the dump, and once it is moved by hand
# (claudable_export_key / claudable_import_key) the passwords decrypt and the restored
# metadata still recognises its roles and databases. Needs the cluster from test/lib/cluster.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

q() { local db=$1; shift; psql -X -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -qAt -d postgres -c "CREATE DATABASE claudable_dump_source" -c "CREATE DATABASE claudable_dump_target"
q claudable_dump_source -q -c "CREATE EXTENSION claudable" -f "$here/../lib/harden.sql"
q claudable_dump_target -q -f "$here/../lib/harden.sql"
digests() {  # md5 of each project's password, as the metadata database $1 returns it
    q "$1" -c "SELECT project_id || ' ' || md5(password) FROM claudable_provision('dump-1', 'owner-dump')
               UNION ALL
               SELECT project_id || ' ' || md5(password) FROM claudable_provision('dump-2', 'owner-dump')
               ORDER BY 1"
}
digests_first=$(digests claudable_dump_source)
check "the source branches dump-2 (the rotation below then rewrites dump-2's row after the branch's)" \
    q claudable_dump_source -q -c "SELECT claudable_branch('dump-2', 'owner-dump', 'pr-1')"
check "the source rotates one project's password before the dump" \
    q claudable_dump_source -q -c "SELECT claudable_rotate_password('dump-2', 'owner-dump')"
digests_before=$(digests claudable_dump_source)
check "so its password differs from the first one, and the other project's does not" \
    bash -c '[ "$(head -1 <<<"$1")" = "$(head -1 <<<"$2")" ] && [ "$(tail -1 <<<"$1")" != "$(tail -1 <<<"$2")" ] &&
             [ "$(wc -l <<<"$2")" = 2 ]' _ "$digests_first" "$digests_before"
url=$(q claudable_dump_source -c "SELECT database_url FROM claudable_provision('dump-1', 'owner-dump')")
events_before=$(q claudable_dump_source -c "SELECT count(*) FROM claudable.events")

dump=$(mktemp)
check "pg_dump -Fc of the metadata database succeeds" pg_dump -Fc -d claudable_dump_source -f "$dump"
check "pg_restore into a fresh database succeeds" pg_restore --exit-on-error -d claudable_dump_target "$dump"
check "the branch's record comes back under its parent" \
    test "$(q claudable_dump_target -c "SELECT parent_project_id FROM claudable.projects WHERE project_id = 'dump-2~pr-1'")" = dump-2
rm -f "$dump"

key_dir=$(mktemp -d)
chown postgres "$key_dir"
refused=$(q claudable_dump_target -v VERBOSITY=verbose -c "SELECT claudable_provision('dump-1', 'owner-dump')" 2>&1)
check "without its key the restored metadata refuses the lookup with 58P01 and says how to restore the key" \
    bash -c '[[ "$1" == *"ERROR:  58P01: claudable: the key that sealed the stored passwords is missing"* &&
               "$1" == *"claudable_import_key"* ]]' _ "$refused"
refused=$(q claudable_dump_target -v VERBOSITY=verbose -c "SELECT claudable_provision('dump-new', 'owner-dump')" 2>&1)
created=$(q claudable_dump_target -c "SELECT (SELECT count(*) FROM claudable.key_material) || '/' ||
                                             (SELECT count(*) FROM claudable.projects WHERE project_id = 'dump-new') || '/' ||
                                             (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_dump_new')")
check "and creates no new key: a new project is refused too (58P01), and no key, row or role is created" \
    bash -c '[[ "$1" =~ ERROR:\ \ 58P01:\ claudable:\ (no\ key\ is\ recorded|the\ key\ that\ sealed) ]] && [ "$2" = 0/0/0 ]' \
        _ "$refused" "$created"
check "claudable_export_key writes the source's key to a file" \
    test "$(q claudable_dump_source -c "SELECT claudable_export_key('$key_dir/key')")" = "$(q claudable_dump_source -c "SELECT fingerprint FROM claudable.key_ring WHERE state = 'active'")"
check "the exported file has mode 0600" test "$(stat -c %a "$key_dir/key")" = 600
q claudable_dump_source -q -c "SELECT claudable_rotate_key()" >/dev/null
q claudable_dump_source -q -c "SELECT claudable_export_key('$key_dir/newer')" >/dev/null
ring_before=$(q claudable_dump_target -c "SELECT string_agg(fingerprint || state, ',' ORDER BY fingerprint) FROM claudable.key_ring")
refused=$(q claudable_dump_target -v VERBOSITY=verbose -c "SELECT claudable_import_key('$key_dir/newer')" 2>&1)
check "claudable_import_key refuses a key that did not seal the restored rows (F0000)" \
    bash -c '[[ "$1" == *"ERROR:  F0000: "*"is not the key that sealed the stored passwords"* ]]' _ "$refused"
check "and the refusal imported nothing and left the key ring as it was" \
    test "$(q claudable_dump_target -c "SELECT count(*) FROM claudable.key_material") $(q claudable_dump_target -c "SELECT string_agg(fingerprint || state, ',' ORDER BY fingerprint) FROM claudable.key_ring")" = "0 $ring_before"
check "claudable_import_key takes the right one" \
    test "$(q claudable_dump_target -c "SELECT claudable_import_key('$key_dir/key')")" = "$(q claudable_dump_target -c "SELECT fingerprint FROM claudable.key_ring WHERE state = 'active'")"
rm -rf "$key_dir"

check "the project rows come back" \
    test "$(q claudable_dump_target -c "SELECT string_agg(project_id || '/' || status, ' ' ORDER BY project_id) FROM claudable.projects")" = "dump-1/ready dump-2/ready dump-2~pr-1/ready"
digests_after=$(digests claudable_dump_target)
check "every password decrypts with the imported key, rotated ones included" test "$digests_after" = "$digests_before"
check "the restored metadata returns the projects as they were (created = false)" \
    test "$(q claudable_dump_target -c "SELECT created FROM claudable_provision('dump-1', 'owner-dump')")" = f
check "the audit trail comes back" \
    test "$(q claudable_dump_target -c "SELECT count(*) FROM claudable.events WHERE project_id IS DISTINCT FROM 'dump-new'")" = "$events_before"
check "the installation id comes back, so the roles and databases are still recognised" \
    test "$(q claudable_dump_target -c "SELECT count(*) FROM claudable_check()")" = 0
check "the DATABASE_URL still logs in" test "$(psql -X -At "$url" -c "SELECT current_user" 2>/dev/null)" = app_u_dump_1
check "the restored metadata can deprovision" \
    test "$(q claudable_dump_target -c "SELECT claudable_deprovision('dump-2', 'owner-dump')")" = t

psql -X -qAt -d postgres -c "DROP DATABASE claudable_dump_source" -c "DROP DATABASE claudable_dump_target"
tap_done
