# Debian root filesystems for the PostgreSQL majors this machine's release does not package
# (test/lib/majors.sh). Source it, then:
#   debian_mirror [LABEL]            the Debian mirror this machine's apt uses (read at run time);
#                                    LABEL Debian-Security gives its security archive
#   rootfs_prepare SUITE PACKAGES... prints the path of a root filesystem of SUITE with PACKAGES
#                                    installed: cached outside the repository, keyed by suite and
#                                    package list, so only the first run downloads it
#   rootfs_run ROOTFS WORK CMD...    runs CMD chrooted into a throwaway overlay of ROOTFS (the
#                                    cache is never written): WORK/upper receives every change,
#                                    and files put there beforehand are seen in the root;
#                                    with ROOTFS_IMAGE and ROOTFS_IMAGE_AT set, that file system
#                                    image is loop-mounted at that path inside the root (the
#                                    benchmarks' XFS, test/bench/clone_bench.sh)
#
# The overlay, /proc and /dev/shm are mounted in a mount namespace of the run's own, and
# unmounted again when CMD ends, also on failure; the namespace goes with its last process,
# so not even a killed run leaves a mount behind.

ROOTFS_CACHE=${CLAUDABLE_ROOTFS_CACHE:-/var/cache/claudable/rootfs}
# Changing how a root filesystem is prepared changes every key, so no stale one is reused.
ROOTFS_RECIPE=2

# The URI apt itself uses for this release's main archive, or (Debian-Security) its security one.
debian_mirror() {
    local label=${1:-Debian} codename
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    apt-get indextargets --format '$(LABEL) $(CODENAME) $(REPO_URI)' 2>/dev/null |
        awk -v label="$label" -v codename="$codename" '$1 == label && ($2 == codename || $2 == codename "-security") { print $3; exit }'
}

rootfs_key() {  # SUITE PACKAGES...
    local suite=$1
    shift
    printf '%s\n' "recipe $ROOTFS_RECIPE" "$suite" $(printf '%s\n' "$@" | sort -u) | sha256sum | cut -c1-16
}

rootfs_prepare() {
    local suite=$1
    shift
    local root="$ROOTFS_CACHE/$suite-$(rootfs_key "$suite" "$@")"
    mkdir -p "$ROOTFS_CACHE" || return 1
    (
        # One preparation at a time; a second run waits and then finds it ready.
        flock 9
        [ -f "$root/.claudable-ready" ] && exit 0
        local mirror building
        mirror=$(debian_mirror)
        [ -n "$mirror" ] || { echo "rootfs: no Debian mirror in this machine's apt configuration" >&2; exit 1; }
        building=$(mktemp -d "$ROOTFS_CACHE/.building-$suite.XXXXXX")
        trap 'umount "$building/proc" 2>/dev/null; rm -rf "$building"' EXIT
        echo "# preparing a Debian $suite root filesystem (once; cached in $ROOTFS_CACHE)" >&2
        debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
            "$suite" "$building" "$mirror" >"$building.log" 2>&1 ||
            { tail -20 "$building.log" >&2; rm -f "$building.log"; exit 1; }
        rm -f "$building.log"
        # As a server of that release gets its packages: the release, its updates and its
        # security archive (PostgreSQL's point releases reach Debian through the latter).
        local security
        security=$(debian_mirror Debian-Security)
        {
            echo "deb $mirror $suite main"
            echo "deb $mirror $suite-updates main"
            [ -z "$security" ] || echo "deb $security $suite-security main"
        } >"$building/etc/apt/sources.list"
        # A mirror may be a frozen snapshot whose Release files are past their Valid-Until.
        echo 'Acquire::Check-Valid-Until "false";' >"$building/etc/apt/apt.conf.d/99claudable"
        # Packages must not start services in the root filesystem, nor make a cluster: tests make their own.
        printf '#!/bin/sh\nexit 101\n' >"$building/usr/sbin/policy-rc.d"
        chmod 0755 "$building/usr/sbin/policy-rc.d"
        mkdir -p "$building/etc/postgresql-common"
        echo "create_main_cluster = false" >"$building/etc/postgresql-common/createcluster.conf"
        mount -t proc proc "$building/proc" || exit 1
        chroot "$building" env DEBIAN_FRONTEND=noninteractive sh -c \
            'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
            _ "$@" >"$building.log" 2>&1 || { tail -20 "$building.log" >&2; rm -f "$building.log"; exit 1; }
        rm -f "$building.log"
        umount "$building/proc"
        touch "$building/.claudable-ready"
        rm -rf "$root"
        mv "$building" "$root"
        trap - EXIT
    ) 9>"$ROOTFS_CACHE/.lock" || return 1
    echo "$root"
}

rootfs_run() {
    local lower=$1 work=$2
    shift 2
    mkdir -p "$work/upper" "$work/overlay-work" "$work/root"
    unshare --mount --propagation private -- bash -c '
        lower=$1 work=$2 image=$3 image_at=$4
        shift 4
        root=$work/root
        unmount_all() {
            # Whatever is still running in the root (nothing, when the suites stopped their servers).
            for proc in /proc/[0-9]*; do
                [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill -9 "${proc#/proc/}" 2>/dev/null
            done
            [ -n "$image_at" ] && umount "$root$image_at" 2>/dev/null
            umount "$root/dev/shm" "$root/proc" 2>/dev/null
            umount "$root" 2>/dev/null
        }
        trap unmount_all EXIT
        mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/upper,workdir=$work/overlay-work" "$root" &&
            mount -t proc proc "$root/proc" &&
            mount -t tmpfs -o mode=1777,size=2g shm "$root/dev/shm" || exit 1
        if [ -n "$image_at" ]; then  # the loop device goes with the unmount (autoclear)
            mkdir -p "$root$image_at" && mount -o loop "$image" "$root$image_at" || exit 1
        fi
        chroot "$root" "$@"
    ' _ "$lower" "$work" "${ROOTFS_IMAGE:-}" "${ROOTFS_IMAGE_AT:-}" "$@"
}
