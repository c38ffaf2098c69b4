# wait_for_row QUERY: polls until QUERY returns a row (30 s at most). Runs QUERY with the
# suite's own `q` function, so each suite keeps its database and connection options.
wait_for_row() {
    for _ in $(seq 1 300); do
        [ -n "$(q -c "$1" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}

# hold_provisioning_lock: a session of its own holds claudable.provisioning_lock (the row
# every reservation locks), so workers park before they change anything; it stays until
# release_provisioning_lock. Uses the suite's `q`.
hold_provisioning_lock() {
    q -c "SELECT 1 FROM claudable.provisioning_lock FOR UPDATE; SELECT pg_sleep(600)" >/dev/null 2>&1 &
    provisioning_lock_holder=$!
    wait_for_row "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT 1 FROM claudable.provisioning_lock FOR UPDATE;%'
                   AND wait_event = 'PgSleep'"
}
release_provisioning_lock() {
    q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE query LIKE 'SELECT 1 FROM claudable.provisioning_lock FOR UPDATE;%' AND pid <> pg_backend_pid()" >/dev/null
    wait "$provisioning_lock_holder" 2>/dev/null
}
