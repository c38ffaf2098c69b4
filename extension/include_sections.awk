# Expands "-- include: NAME" lines of an upgrade script's .sql.in with the section NAME
# of claudable.sql ("-- section: NAME ..." up to "-- end section"). Usage:
#   awk -f include_sections.awk claudable.sql claudable--A--B.sql.in > claudable--A--B.sql
FNR == NR {
    if ($0 ~ /^-- section: /) { name = $3; inside = 1; next }
    if ($0 ~ /^-- end section/) { inside = 0; next }
    if (inside) section[name] = section[name] $0 "\n"
    next
}
/^-- include: / {
    if (!($3 in section)) { print "no section " $3 " in claudable.sql" > "/dev/stderr"; exit 1 }
    printf "%s", section[$3]
    next
}
{ print }
