#!/usr/bin/env bash
# lint-bats.sh [FILE ...]: find the assertions in bats files that cannot
# fail (default: test/*.bats), print them as FILE:LINE: why, and exit 1
# when there is any.
#
#   [ a ] && [ b ]	bats runs a test under set -e, which ignores a
#			command failing on the left of &&: when a is
#			false the line passes and the test goes on.  The
#			same for [[ ]] and test.  A chain that is a
#			condition (if, while, ||, a one-line { ...; }
#			predicate) decides something and is fine.
#   sleep; [ ! ... ]	an absence asserted after a sleep holds whenever
#			the machine was slow to make the thing present.
#			Wait for a positive condition that proves the
#			point instead (see wait_for in helper.bash).
#   wait		a bare wait also waits for bats' BATS_TEST_TIMEOUT
#			watchdog, a background child of the test's shell:
#			it hangs until the timeout.  Wait for a pid.
set -u
if [ $# -eq 0 ]; then
	cd "$(dirname "$0")/.." || exit 2
	set -- test/*.bats
fi
exec awk '
function flag(why) {
	printf "%s:%d: %s\n", FILENAME, FNR, why
	bad++
}
# a test ([, [[ or test) whose failure && passes over to another test
function chain(s) {
	return s ~ /\]\]?[ \t]*&&[ \t]*(\[\[?|test)[ \t]/ ||
	    s ~ /(^[ \t]*|[;{(][ \t]*)test[ \t][^;&|]*&&[ \t]*(\[\[?|test)[ \t]/
}
# a chain whose status something uses
function decides(s, prev) {
	return prev ~ /(\|\||&&|\||\\)[ \t]*$/ ||
	    s ~ /^[ \t]*(if|elif|while|until|!)[ \t]/ ||
	    s ~ /\|\|/ || s ~ /(then|do|&&|\\)[ \t]*$/ ||
	    s ~ /;[ \t]*\}[ \t]*(#.*)?$/
}
# an assertion that something is not there, or not so
function negative(s) {
	return s ~ /^(run[ \t]+)?![ \t]/ ||
	    s ~ /(\[\[?|test)[ \t]+(!|-z)[ \t]/ ||
	    s ~ /!=|[ \t]-ne[ \t]/ ||
	    s ~ /(grep -c|wc -l)[^)]*\)"?[ \t]+(-eq|=)[ \t]+"?0"?[ \t]*\]/
}
FNR == 1 {
	prev = ""
	after = 0
	here = ""
}
# the body of a here-document is data, up to its delimiter
here != "" {
	s = $0
	if (dash)
		sub(/^\t+/, "", s)
	if (s == here)
		here = ""
	next
}
/^[ \t]*(#|$)/ { next }
{
	s = $0
	sub(/^[ \t]+/, "", s)
	# the code without what is quoted ("[ a ] && [ b ]" is a string)
	code = $0
	gsub(/\\./, "", code)
	if (match(code, /<<-?[ \t]*["\047]?[A-Za-z_][A-Za-z_0-9]*/) &&
	    substr(code, RSTART, 3) != "<<<") {
		here = substr(code, RSTART + 2, RLENGTH - 2)
		dash = here ~ /^-/
		sub(/^-?[ \t]*["\047]?/, "", here)
	}
	gsub(/"[^"]*"/, "\"\"", code)
	gsub(/\047[^\047]*\047/, "", code)
	if (code ~ /^[ \t]*wait[ \t]*([;&|]|[0-9]*>|$)/)
		flag("a bare wait also waits for the BATS_TEST_TIMEOUT " \
		    "watchdog: wait for a pid")
	if (chain(code) && !decides(code, prev))
		flag("[ a ] && [ b ] passes when a is false: " \
		    "one assertion per line")
	if (s ~ /^sleep[ \t]/ ||
	    $0 ~ /(;|&&)[ \t]*sleep[ \t]+[0-9.]+[ \t]*(#.*)?$/) {
		after = 3
		sleep = FNR
	} else if (after > 0) {
		if (s ~ /^(done|fi|esac|\}|;;)/)
			after = 0
		else if (negative(s)) {
			flag("an absence asserted after the sleep of line " \
			    sleep ": wait for a condition that proves it")
			after = 0
		} else
			after--
	}
	prev = $0
}
END { exit bad > 0 }
' "$@"
