# README's blocks, for tests that take a user's steps as printed. Source it, then:
#   readme_sql_after MARKER   prints the ```sql block that follows the line MARKER
#   readme_grants ACTOR       the block README marks <!-- readme-grants: ACTOR -->
#                             (deploy, monitoring, pooler: Install, step 4)
README_FILE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/README.md
readme_sql_after() {
    awk -v want="$1" '
        $0 == want { armed = 1; next }
        armed && /^```sql$/ { inside = 1; armed = 0; next }
        inside && /^```$/ { exit }
        inside { print }
    ' "$README_FILE"
}
readme_grants() { readme_sql_after "<!-- readme-grants: $1 -->"; }
