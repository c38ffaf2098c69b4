# Minimal TAP for shell suites: `check DESCRIPTION COMMAND...` prints "ok N - ..." or
# "not ok N - ...". The command's own output is discarded so that no secret it might
# print reaches the test log.
tap_count=0
tap_failed=0

check() {
    local description=$1
    shift
    tap_count=$((tap_count + 1))
    if "$@" >/dev/null 2>&1; then
        echo "ok $tap_count - $description"
    else
        echo "not ok $tap_count - $description"
        tap_failed=$((tap_failed + 1))
    fi
}

tap_done() {
    echo "1..$tap_count"
    [ "$tap_failed" -eq 0 ]
}

# absent NEEDLE FILE...: every FILE exists and is not empty, NEEDLE is not empty, and no FILE
# holds it. grep must answer "no match" (1): a missing or unreadable file (2) is no proof.
absent() {
    local needle=$1 file
    shift
    [ -n "$needle" ] && [ $# -gt 0 ] || return 1
    for file in "$@"; do [ -s "$file" ] || return 1; done
    grep -qF -- "$needle" "$@"
    [ $? = 1 ]
}
# absent_all NEEDLES_FILE FILE...: the same for each line of NEEDLES_FILE (which must not be empty).
absent_all() {
    local needles=$1 file
    shift
    [ -s "$needles" ] && [ $# -gt 0 ] || return 1
    for file in "$@"; do [ -s "$file" ] || return 1; done
    grep -qFf "$needles" -- "$@"
    [ $? = 1 ]
}

# no_url_with_password FILE: FILE exists, is not empty, and holds no URL whose password is
# shown (anything but the mask, ********).
no_url_with_password() {
    [ -s "$1" ] && ! grep -qE '[a-z]+://[^:/@ ]+:[^*@ ][^@ ]*@' "$1"
}

# login_refused URL MESSAGE: psql cannot log in with URL (exit status 2) and shows the
# server's FATAL with MESSAGE: the server's own refusal, not any failure.
login_refused() {
    local stderr
    stderr=$(psql -X -At "$1" -c 'SELECT 1' 2>&1 >/dev/null)
    [ $? = 2 ] && [[ "$stderr" == *"FATAL:  $2"* ]]
}
