#!/bin/sh
# lint-fnlen.sh [MAX [FILE ...]]: list the C functions longer than MAX
# lines (default 120; files default: lib/*/*.c bin/*.c) as FILE:LINE:
# NAME is N lines, and exit 1 when there is any (make lint).  A function
# is as the tree writes one: its body from a "{" to a "}" in the first
# column, its name at the start of a line above the "{".
max=${1:-120}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
	cd "$(dirname "$0")/.." || exit 2
	set -- lib/*/*.c bin/*.c
fi
exec awk -v max="$max" '
/^[A-Za-z_].*\(/ {
	name = $0
	sub(/\(.*/, "", name)
	sub(/.*[^A-Za-z0-9_]/, "", name)
}
/^\{/ { start = FNR; fn = name }
/^\}/ && start {
	if (FNR - start + 1 > max) {
		printf "%s:%d: %s is %d lines\n", FILENAME, start, fn,
		    FNR - start + 1
		bad++
	}
	start = 0
}
END { exit bad > 0 }' "$@"
