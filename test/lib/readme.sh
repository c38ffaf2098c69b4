# README's blocks, for tests that take a user's steps as printed. Source it, then:
#   readme_grants ACTOR   prints the SQL block README marks <!-- readme-grants: ACTOR -->
#                         (deploy, monitoring, pooler: Install, step 4)
readme_grants() {
    awk -v want="<!-- readme-grants: $1 -->" '
        $0 == want { armed = 1; next }
        armed && /^```sql$/ { inside = 1; armed = 0; next }
        inside && /^```$/ { exit }
        inside { print }
    ' "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/README.md"
}
