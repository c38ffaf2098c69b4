# The Node package (client/node) as a user gets it, and the repository as a clone has it
# (make deb and test/majors/in_rootfs.sh copy it so too). Source it, then:
#   repository_as_cloned DIR     copies the repository's files as a fresh clone of the working
#                                tree has them into DIR: git's tracked files and the files not
#                                yet added but not ignored (what the next commit may add), as
#                                they are in the working tree; nothing ignored (no node_modules,
#                                no build)
#   node_package_as_cloned DIR   the same for client/node alone, its files at the top of DIR
#   node_package_tarball DIR     packs that copy with `npm pack` into DIR and prints the
#                                tarball's name: what a release ships
#   readme_block MARKER LANG     prints the ```LANG block that follows the line MARKER in README.md
#   release_version              the extension's default_version (extension/claudable.control)
NODE_PACKAGE_REPOSITORY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NODE_PACKAGE_REPOSITORY  # the functions also run exported, in `bash -c`
# The files a clone would hold, NUL-separated: tracked ones still in the working tree, and
# untracked ones that are not ignored.
repository_files() {  # [PATH...]
    (cd "$NODE_PACKAGE_REPOSITORY" && git ls-files -z --cached --others --exclude-standard -- "$@" |
        while IFS= read -r -d '' file; do [ -e "$file" ] || [ -L "$file" ] && printf '%s\0' "$file"; done)
}
repository_as_cloned() {
    mkdir -p "$1" && repository_files | (cd "$NODE_PACKAGE_REPOSITORY" && tar --null -T - -cf -) | tar -xf - -C "$1"
}
node_package_as_cloned() {
    mkdir -p "$1" && repository_files client/node | (cd "$NODE_PACKAGE_REPOSITORY" && tar --null -T - -cf -) |
        tar -xf - -C "$1" --strip-components=2
}
node_package_tarball() {
    node_package_as_cloned "$1/package-as-cloned" &&
        (cd "$1/package-as-cloned" && npm pack --silent --pack-destination "$1" 2>/dev/null | tail -1)
}
readme_block() {
    awk -v want="$1" -v fence="\`\`\`$2" '
        $0 == want { armed = 1; next }
        armed && $0 == fence { inside = 1; armed = 0; next }
        inside && /^```$/ { exit }
        inside { print }
    ' "$NODE_PACKAGE_REPOSITORY/README.md"
}
release_version() {
    sed -n "s/^default_version = '\(.*\)'/\1/p" "$NODE_PACKAGE_REPOSITORY/extension/claudable.control"
}
export -f repository_files repository_as_cloned node_package_as_cloned node_package_tarball readme_block release_version
