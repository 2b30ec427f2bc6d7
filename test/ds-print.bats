#!/usr/bin/env bats
# ds-print: Spark's print() -- per batch a header with its time, the first
# N records, "..." when there were more, and a blank line.

load helper
bats_require_minimum_version 1.5.0

M1='{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":3,"offsets":[]}'
M2='{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":0,"offsets":[]}'
RULE=-------------------------------------------

@test "ds-print -h prints the usage to stdout and exits 0" {
	shows_usage ds-print "[-n N] [--skip-bad]"
}

@test "ds-print -V prints the version" {
	run ds-print -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ds-print "[0-9]* ]]
}

@test "ds-print: usage errors exit 2" {
	for a in "-n x" "-n -1" "--bogus"; do
		run --separate-stderr ds-print $a </dev/null
		[ "$status" -eq 2 ] || { echo "$a: $status"; return 1; }
	done
}

@test "ds-print: header, the first N records, ... and a blank line per batch" {
	while IFS='|' read -r n want; do
		dsrun "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n$M1\n$M2\n" ds-print -n "$n"
		[ "$status" -eq 0 ]
		exp=$(printf "$want" "$RULE" "$RULE" "$RULE" "$RULE")
		[ "$output" = "$exp" ] || { printf 'n=%s\n%s\n---\n%s\n' "$n" "$output" "$exp"; return 1; }
	done <<'EOF2'
2|%s\nTime: 2000 ms\n%s\n{"a":1}\n{"a":2}\n...\n\n%s\nTime: 4000 ms\n%s
3|%s\nTime: 2000 ms\n%s\n{"a":1}\n{"a":2}\n{"a":3}\n\n%s\nTime: 4000 ms\n%s
0|%s\nTime: 2000 ms\n%s\n...\n\n%s\nTime: 4000 ms\n%s
EOF2
}

@test "ds-print: ten records by default" {
	seq 1 12 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	echo "$M1" >>in
	ds-print <in >out
	[ "$(sed -n '4,13p' out)" = "$(head -10 in)" ]
	[ "$(sed -n 14p out)" = "..." ]
	[ "$(wc -l <out)" = 15 ]
}

@test "ds-print: plain input prints the first N records, no header" {
	dsrun '{"a":1}\n{"a":2}\n{"a":3}\n' ds-print -n 2
	[ "$status" -eq 0 ]
	[ "$output" = '{"a":1}
{"a":2}' ]
}

@test "ds-print: records after the last marker get a final batch" {
	dsrun "$M1\n{\"z\":1}\n" ds-print
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | sed -n 5,7p)" = "$RULE
Time: 4000 ms
$RULE" ]
	[ "$(printf '%s\n' "$output" | tail -1)" = '{"z":1}' ]
}

@test "ds-print: other control records are not shown" {
	dsrun "{\"@ds\":\"hello\"}\n{\"a\":1}\n$M1\n" ds-print
	[ "$status" -eq 0 ]
	! grep -q hello <<<"$output"
}

@test "ds-print: a bad line exits 1; --skip-bad goes on" {
	dsrun "{\"a\":1}\nnope\n$M1\n" ds-print
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-print: <stdin>:2: invalid JSON"* ]]
	dsrun "{\"a\":1}\nnope\n$M1\n" ds-print --skip-bad
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | sed -n 4p)" = '{"a":1}' ]
}

@test "ds-print after ds-batch -T: every batch's time and first records" {
	python3 -c '
for i in range(40):
    print("{\"ts\":%d,\"i\":%d}" % (1000 + i * 137, i))' >in
	ds-batch -T ts -i 1s <in | ds-print -n 2 >out
	# reference: group by second in python, print as Spark does
	python3 - in >want <<'EOF2'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
b = {}
for r in recs:
    b.setdefault(r["ts"] // 1000, []).append(r)
for k in range(min(b), max(b) + 1):
    rs = b.get(k, [])
    print("-" * 43)
    print("Time: %d ms" % ((k + 1) * 1000))
    print("-" * 43)
    for r in rs[:2]:
        print(json.dumps(r, separators=(",", ":")))
    if len(rs) > 2:
        print("...")
    print()
EOF2
	diff want out
}
