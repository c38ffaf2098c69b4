# wait_for_row QUERY: polls until QUERY returns a row (30 s at most). Runs QUERY with the
# suite's own `q` function, so each suite keeps its database and connection options.
wait_for_row() {
    for _ in $(seq 1 300); do
        [ -n "$(q -c "$1" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}
