#!/usr/bin/env bash
# Rows 34-37 of `make bench` (also alone: BENCH_ONLY=clone make bench): PostgreSQL 18's
# file_copy_method = clone for STRATEGY FILE_COPY copies (claudable.file_copy_method), measured
# in the root filesystem that packages 18 (test/majors/in_rootfs.sh), with fsync on, on two
# file systems: an XFS with reflink (a loop-mounted image made here: clones share blocks) and
# this machine's own disk through the root filesystem's overlay (clone is the kernel's
# copy_file_range there). A throwaway cluster on each, removed at the end; no password is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${CLAUDABLE_IN_ROOTFS:-}" != 1 ]; then
    source test/lib/install-deps.sh
    claudable_packages+=(xfsprogs debootstrap)
    install_missing_packages
    image=$(mktemp /var/tmp/claudable-xfs.XXXXXX)
    trap 'rm -f "$image"' EXIT
    truncate -s 8G "$image"
    mkfs.xfs -q -f -m reflink=1 "$image"
    bash test/majors/in_rootfs.sh 18 --mount-image "$image:/scratch" bash test/bench/clone_bench.sh
    exit
fi

make -s >/dev/null && make -s install >/dev/null  # the production build
export PG_BINDIR=$("$PG_CONFIG" --bindir)
source test/lib/cluster.sh
source test/lib/deploy_role.sh
echo "# PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'), file_copy_method clone against copy, fsync on"
first_row=34
for parent in /scratch /tmp; do
    chmod 0755 "$parent"
    CLUSTER_PARENT=$parent start_cluster_with_deploy_role "max_connections = 200" "log_min_messages = warning" \
        "fsync = on" >/dev/null
    case "$(stat -f -c %T "$CLUSTER_DIR")" in
        xfs) label="XFS with reflink" ;;
        overlayfs) label="the root filesystem's overlay on this machine's disk" ;;
        *) label=$(stat -f -c %T "$CLUSTER_DIR") ;;
    esac
    DEPLOY_URL=$CLAUDABLE_TEST_ADMIN_URL CLUSTER_LOG=$CLUSTER_LOG BENCH_FS_LABEL=$label BENCH_FIRST_ROW=$first_row \
        PYTHONPATH=test/bench python3 test/bench/clone_bench.py
    cluster_stop
    first_row=$((first_row + 2))
done
