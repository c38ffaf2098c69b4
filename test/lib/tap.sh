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
