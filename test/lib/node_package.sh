# The Node package (client/node) as a user gets it. Source it, then:
#   node_package_as_cloned DIR   copies the package's files as a fresh clone has them (git's
#                                tracked files, as they are in the working tree) into DIR,
#                                without node_modules or any build the tree may hold
#   node_package_tarball DIR     packs that copy with `npm pack` into DIR and prints the
#                                tarball's name: what a release ships
NODE_PACKAGE_REPOSITORY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NODE_PACKAGE_REPOSITORY  # the functions also run exported, in `bash -c`
node_package_as_cloned() {
    mkdir -p "$1" && (cd "$NODE_PACKAGE_REPOSITORY" && git ls-files -z client/node | tar --null -T - -cf -) | tar -xf - -C "$1" --strip-components=2
}
node_package_tarball() {
    node_package_as_cloned "$1/package-as-cloned" &&
        (cd "$1/package-as-cloned" && npm pack --silent --pack-destination "$1" 2>/dev/null | tail -1)
}
