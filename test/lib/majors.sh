# The PostgreSQL majors claudable is built and tested on, and where each one's packages come
# from (README, "Supported PostgreSQL versions"). Source it.
#   supported_pg_majors        the majors `make test` runs, oldest first
#   host_pg_major              the major of this machine's own Debian release (run on the host)
#   major_debian_suite M       the Debian suite whose own packages bring major M
#   major_server_packages M    the server-side packages the suites need for major M
#   major_rootfs_packages M    everything a root filesystem of major M's suite needs to build
#                              claudable and run the server suites in it
#   pg_major_of PG_CONFIG      the major of the server that pg_config belongs to
supported_pg_majors="15 17 18"
host_pg_major=15

major_debian_suite() {
    case $1 in
        15) echo bookworm ;;  # Debian 12, this machine
        17) echo trixie ;;    # Debian 13
        18) echo testing ;;   # Debian's testing suite (PostgreSQL 18 is its default major)
        *) echo "PostgreSQL $1 is not supported: pick from $supported_pg_majors" >&2; return 1 ;;
    esac
}

major_server_packages() {
    echo "postgresql-$1 postgresql-server-dev-$1 postgresql-$1-pgtap postgresql-$1-plproxy postgresql-$1-cron"
}

# Build tools (build-essential: dpkg-buildpackage requires it), the client's dependencies (the DBA runbook and the fleet suite use the CLI and
# the Node package), PgBouncer (the fleet suite), IPC::Run (the Perl TAP suites), git (the
# suites copy the repository as a clone has it), and Debian's packaging tools (make deb).
major_rootfs_packages() {
    echo "$(major_server_packages "$1") build-essential pkg-config git ca-certificates procps libssl-dev libpq-dev" \
        "cmake libcli11-dev nlohmann-json3-dev pgbouncer libipc-run-perl nodejs npm" \
        "debhelper dpkg-dev fakeroot postgresql-server-dev-all"
}

pg_major_of() {
    "$1" --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p'
}
