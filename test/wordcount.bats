#!/usr/bin/env bats
# The word count, ds-map -R 'split(SEP)[] | {NAME: .}' | ds-reduce -k
# NAME: ds-map's fast path for that program against jq -R, and the
# pipeline's counts against awk's.  (ds-reduce's short cut for the
# records between them is tested in ds-reduce.bats.)

bats_require_minimum_version 1.5.0
load helper

@test "split fast path: a SEP of several bytes, overlapping, at either end, as jq -R" {
	printf '%s\n' aaa aaaa baab aab baa aa a xaaayaaz 'a b  c ' >in.txt
	local prog
	for prog in 'split("aa")[] | {w: .}' 'split("ab")[] | {w: .}' \
	    'split(" ")[] | {w: .}' 'split("a b")[] | {w: .}'; do
		run --separate-stderr ds-map -R "$prog" in.txt
		[ "$status" -eq 0 ] || { echo "$prog: exit $status"; return 1; }
		[ "$output" = "$(jq -cR "$prog" in.txt)" ] ||
		    { echo "$prog"; return 1; }
	done
	# by hand
	run ds-map -R 'split("aa")[] | {w: .}' in.txt
	[ "$(printf '%s\n' "${lines[@]:0:5}" | paste -sd ' ')" = \
	    '{"w":""} {"w":"a"} {"w":""} {"w":""} {"w":""}' ]
}

@test "split fast path: --stats counts every record of a long line" {
	python3 -c 'print(" ".join("w%d" % i for i in range(20000)))
print(" ".join("v" for i in range(3000)))
print("x")' >in.txt
	run --separate-stderr ds-map --stats -R 'split(" ")[] | {word: .}' in.txt
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 23001 ]
	[ "${lines[19999]}" = '{"word":"w19999"}' ]
	[ "${lines[23000]}" = '{"word":"x"}' ]
	[[ "$stderr" == *'"in":3,"out":23001,'* ]]
}

@test "the word count gives awk's counts, words needing escapes included" {
	python3 - >in.txt <<'PYEOF'
import random
r = random.Random(5)
words = ["the", "cat", "caf\u00e9", "na\u00efve", "\"q\"", "a\\b",
         "tab\tx", "del\x7f", "\u65e5\u672c", "x" * 40]
for i in range(3000):
    # two spaces make an empty word; no line is blank
    print(r.choice(words) + "".join(r.choice([" ", " ", "  "]) +
                                    r.choice(words) for _ in range(8)))
PYEOF
	ds-map -R 'split(" ")[] | {word: .}' in.txt |
	    ds-reduce -k word -a count >counts
	LC_ALL=C awk -F '[ ]' '{ for (i = 1; i <= NF; i++) c[$i]++ }
	    END { for (w in c) print w " " c[w] }' in.txt | LC_ALL=C sort >want
	jq -r '"\(.word) \(.count)"' counts | LC_ALL=C sort >got
	[ "$(wc -l <want)" -eq 11 ]
	diff want got
}
