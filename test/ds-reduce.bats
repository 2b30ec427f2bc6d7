#!/usr/bin/env bats
# ds-reduce: per-batch aggregation.  Expected outputs come from ref.py
# (test/agg.bash), an independent Python model of ds-reduce(1) and ds-window(1),
# or are worked out by hand in the test -- never from the tool itself.

bats_require_minimum_version 1.5.0
load helper
load agg

# gen.py NBATCH NKEYS SEED [TAIL]: batches of access records with
# hand-made markers (2 s batches, some empty), TAIL records after the
# last marker.
mkgen() {
	cat >"$T/gen.py" <<'PYEOF'
import json, random, sys
nb, nk, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tail = int(sys.argv[4]) if len(sys.argv) > 4 else 0
r = random.Random(seed)
def rec():
    d = {"user": "u%d" % r.randrange(nk), "app": "a%d" % r.randrange(3),
         "bytes": r.randint(0, 5000)}
    if r.random() < 0.1:
        del d["bytes"]
    if r.random() < 0.1:
        d["lat"] = r.choice([1.5, -2.25, 3, None])
    return json.dumps(d, separators=(",", ":"))
for b in range(1, nb + 1):
    n = 0 if r.random() < 0.2 else r.randint(1, 30)
    for i in range(n):
        print(rec())
    print(json.dumps({"@ds": "batch", "seq": b, "time": 2000 * (b + 500),
                      "interval": 2000, "count": n, "offsets": []},
                     separators=(",", ":")))
for i in range(tail):
    print(rec())
PYEOF
}

# Is TOOL an AddressSanitizer build?
sanitized() {
	[ "${DS_TIER:-}" = asan ] || ldd "$(command -v "$1")" | grep -q libasan
}

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	mkref
	mkgen
}

# check ARGS...: ds-reduce ARGS on in.ndjson equals ref.py's model.
check() {
	local refargs=() a prev=
	for a in "$@"; do
		case $prev:$a in
		*:-a|*:--top) ;;
		--top:*) refargs+=("top:$a") ;;
		*) refargs+=("$a") ;;
		esac
		prev=$a
	done
	python3 ref.py "${refargs[@]}" <in.ndjson >want
	run --separate-stderr ds-reduce "$@" in.ndjson
	[ "$status" -eq 0 ] || { echo "exit $status: $stderr"; return 1; }
	printf '%s\n' "$output" | nocreated >got
	diff want got
}

@test "ds-reduce -h prints the usage to stdout" {
	run ds-reduce -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ds-reduce [-hV] [-j N] [-k FIELD"* ]]
}

@test "ds-reduce -V prints the version" {
	run ds-reduce -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ds-reduce "* ]]
}

@test "usage errors exit 2" {
	local bad
	for bad in "-x" "-a bogus" "-a sum" "-a count:x" "-a top:0:x" \
	    "-a top:x" "-a sum:b -a sum:b" "-a a.b=count" "-k geo,geo.city" \
	    "-k u,u" "-k count -a count" "--top 3" "-k" "-j 0" "-j 65" \
	    "-j x"; do
		run --separate-stderr ds-reduce $bad </dev/null
		[ "$status" -eq 2 ] || { echo "$bad: exit $status"; return 1; }
		[ -n "$stderr" ] || { echo "$bad: no message"; return 1; }
	done
}

@test "plain file: exact results, no markers" {
	python3 gen.py 40 7 1 | grep -v '^{"@ds"' >in.ndjson
	check -k user -a total=sum:bytes -a n=count
	! grep -q '@ds' got
	[ "$(wc -l <got)" -eq 7 ]
}

@test "plain file from stdin, the man page example" {
	printf '%s\n' '{"user":"a","bytes":10}' '{"user":"b","bytes":5}' \
	    '{"user":"a","bytes":7}' >in.ndjson
	run ds-reduce -k user -a total=sum:bytes -a n=count <in.ndjson
	[ "$status" -eq 0 ]
	# by hand: a 10+7 in 2 records, b 5 in 1
	[ "$output" = '{"user":"a","total":17,"n":2}
{"user":"b","total":5,"n":1}' ]
}

@test "per-batch sums and counts, empty batches, then each marker" {
	python3 gen.py 30 5 2 >in.ndjson
	check -k user -a sum:bytes -a count
	[ "$(grep -c '^{"@ds"' got)" -eq 30 ]
}

@test "every aggregate against the model (table)" {
	python3 gen.py 25 4 3 >in.ndjson
	local spec
	for spec in "count" "sum:bytes" "min:bytes" "max:bytes" "avg:bytes" \
	    "first:bytes" "last:bytes" "collect:bytes" "distinct:app" \
	    "sum:lat" "min:lat" "max:lat" "avg:lat" "first:lat" \
	    "collect:lat" "distinct:lat" "n=count" "top:2:bytes"; do
		check -k user -a "$spec" || { echo "failed: $spec"; return 1; }
	done
}

@test "several keys and aggregates at once, groups in order of first appearance" {
	python3 gen.py 20 6 4 >in.ndjson
	check -k user,app -a count -a s=sum:bytes -a max:bytes -a last:app
}

@test "no -k: one record per batch, count 0 for an empty batch (Spark's count)" {
	python3 gen.py 30 5 5 >in.ndjson
	grep -q '"count":0,' in.ndjson
	check -a count -a sum:bytes -a avg:bytes
	printf '' | ds-reduce -a count -a sum:x >got
	[ "$(cat got)" = '{"count":0,"sum_x":null}' ]
}

@test "countByValue: -k word alone counts" {
	printf '%s\n' the cat the hat the end | sed 's/.*/{"word":"&"}/' >in.ndjson
	check -k word
	# by hand
	[ "$(head -1 got)" = '{"word":"the","count":3}' ]
}

@test "one-member records {\"K\":\"v\"} (the word count's short cut) group as any record" {
	# the short cut takes {"word":"..."} as it is; white space, escapes,
	# other keys and members go through the full scan: equal strings are
	# one group however written
	printf '%s\n' '{"word":"a"}' '{"word": "a"}' '{"word":"\u0061"}' \
	    '{ "word":"a" }' '{"word":"a/b"}' '{"word":"a\/b"}' '{"word":""}' \
	    '{"other":"a"}' '{"words":"a"}' '{"wor":"a"}' '{"word":"a","n":1}' \
	    '{"word":1}' '{"word":"\"q\""}' '{"word":"\u0022q\u0022"}' \
	    >in.ndjson
	printf '{"word":"caf\303\251"}\n{"word":"caf\\u00e9"}\n' >>in.ndjson
	printf '{"word":"x\177y"}\n{"word":"x\\u007fy"}\n' >>in.ndjson
	check -k word -a count -a first:word -a distinct:word
	# by hand
	[ "$(head -4 got)" = '{"word":"a","count":5,"first_word":"a","distinct_word":1}
{"word":"a/b","count":2,"first_word":"a/b","distinct_word":1}
{"word":"","count":1,"first_word":"","distinct_word":1}
{"word":null,"count":3,"first_word":null,"distinct_word":0}' ]
	# many keys: the table grows under keys taken from the line itself
	python3 -c 'import random
r = random.Random(11)
for i in range(20000):
    print("{\"w\":\"k%d\"}" % r.randrange(5000))' >in.ndjson
	check -k w
	[ "$(wc -l <got)" -gt 4000 ]
	check -k w -a collect:w
}

@test "one-member records: the short cut leaves bad lines to the full scan's messages" {
	printf '%s\n' '{"word":"a"}' '{"word":"a\"}' '{"word":"a"}x' \
	    '{"word":"a"}}' '{"word":"a"b"}' >in.ndjson
	printf '{"word":"\377"}\n{"word":"a\tb"}\n{"word":"a"}\n' >>in.ndjson
	run --separate-stderr ds-reduce -k word --skip-bad in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"word":"a","count":2}' ]
	[ "$(grep -c '^ds-reduce: in.ndjson:[2-7]: ' <<<"$stderr")" -eq 6 ]
	[[ "$stderr" == *"in.ndjson:6: invalid UTF-8 at byte 10"* ]]
	[[ "$stderr" == *"in.ndjson:7: control character in string at byte 11"* ]]
	# a summed key field is not a number: fail fast naming the line
	run --separate-stderr ds-reduce -k word -a sum:word in.ndjson
	[ "$status" -eq 1 ]
	[ "$stderr" = "ds-reduce: in.ndjson:1: sum_word: field 'word' is not a number: \"a\"" ]
	# a byte at each place of values of 1 to 12 bytes: only DEL is good
	python3 - >odd.ndjson <<'PYEOF'
import sys
for n in range(1, 13):
    for i in range(n):
        for c in (b"\x01", b'"', b"\\", b"\xff", b"\x7f"):
            v = b"a" * i + c + b"a" * (n - i - 1)
            sys.stdout.buffer.write(b'{"word":"' + v + b'"}\n')
PYEOF
	run --separate-stderr ds-reduce -k word --skip-bad odd.ndjson
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 78 ]
	[ "$(grep -c '^ds-reduce: odd.ndjson:' <<<"$stderr")" -eq 312 ]
	# -j: the same lines, the same messages
	printf '{"word":"w%d"}\n' $(seq 1 3000) >big.ndjson
	cat in.ndjson >>big.ndjson
	run --separate-stderr ds-reduce -j 2 -k word --skip-bad big.ndjson
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3001 ]
	[ "$(grep -c '^ds-reduce: big.ndjson:300[2-7]: ' <<<"$stderr")" -eq 6 ]
}

@test "one-member records: -j N gives -j 1's output" {
	python3 -c 'import random
r = random.Random(12)
for i in range(30000):
    print("{\"word\":\"w%d\"}" % r.randrange(300))' >in.ndjson
	ds-reduce -k word -a count -a first:word in.ndjson >want
	[ "$(wc -l <want)" -eq 300 ]
	run ds-reduce -j 2 -k word -a count -a first:word in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat want)" ]
}

@test "top N per group: the N largest records, largest first, earlier wins a tie" {
	python3 - >in.ndjson <<'PYEOF'
import json, random
r = random.Random(9)
for i in range(300):
    print(json.dumps({"cat": "c%d" % r.randrange(4), "brand": "b%d" % i,
                      "n": r.randint(0, 20)}, separators=(",", ":")))
PYEOF
	check -k cat --top 3:n
	[ "$(wc -l <got)" -eq 4 ]
	# the seeds' top-3 brands: count per category and brand, then top 3
	python3 - >in.ndjson <<'PYEOF'
import json, random
r = random.Random(10)
for i in range(500):
    print(json.dumps({"category": "c%d" % r.randrange(3),
                      "brand": "b%d" % r.randrange(8)}))
PYEOF
	ds-reduce -k category,brand -a n=count in.ndjson >counts
	cp counts in.ndjson
	check -k category --top 3:n
}

@test "keys: nested paths become nested objects, absent is null, equal values are one key" {
	printf '%s\n' '{"geo":{"city":"x","cc":"fr"},"v":1}' \
	    '{"geo":{"cc":"fr","city":"\u0078"},"v":2}' \
	    '{"v":4}' '{"geo":{"city":1.0},"v":8}' '{"geo":{"city":1},"v":16}' \
	    >in.ndjson
	run ds-reduce -k geo.city,geo.cc -a sum:v in.ndjson
	[ "$status" -eq 0 ]
	# by hand: "x" and "\u0078" are one key; 1.0 and 1 are one key
	[ "$output" = '{"geo":{"city":"x","cc":"fr"},"sum_v":3}
{"geo":{"city":null,"cc":null},"sum_v":4}
{"geo":{"city":1,"cc":null},"sum_v":24}' ]
	! grep -q '"geo\.' <<<"$output"
}

@test "absent and null values are ignored by sum/min/max/avg; null when a group has none" {
	printf '%s\n' '{"k":1,"x":5}' '{"k":1}' '{"k":1,"x":null}' '{"k":2}' \
	    >in.ndjson
	run ds-reduce -k k -a count -a sum:x -a min:x -a avg:x -a first:x \
	    in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"k":1,"count":3,"sum_x":5,"min_x":5,"avg_x":5,"first_x":5}
{"k":2,"count":1,"sum_x":null,"min_x":null,"avg_x":null,"first_x":null}' ]
}

@test "int64: exact at the limit, a double on overflow (no wrap)" {
	printf '%s\n' '{"x":9223372036854775806}' '{"x":1}' >in.ndjson
	run ds-reduce -a sum:x in.ndjson
	[ "$output" = '{"sum_x":9223372036854775807}' ]
	printf '%s\n' '{"x":9223372036854775807}' '{"x":1}' >in.ndjson
	run ds-reduce -a sum:x -a max:x in.ndjson
	# the double 2^63 as jq 1.7 prints it (shortest digits, plain)
	[ "$output" = '{"sum_x":9223372036854776000,"max_x":9223372036854775807}' ]
	printf '%s\n' '{"x":-9223372036854775808}' '{"x":-1}' >in.ndjson
	run ds-reduce -a sum:x in.ndjson
	[ "$output" = '{"sum_x":-9223372036854776000}' ]
}

@test "bad records: default exit 1 naming the line, after flushing complete batches" {
	printf '%s\n' '{"u":"a","b":1}' '{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":1,"offsets":[]}' \
	    '{"u":"a","b":1' >in.ndjson
	run --separate-stderr ds-reduce -k u -a sum:b in.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-reduce: in.ndjson:3: "* ]]
	[ "${lines[0]}" = '{"u":"a","sum_b":1}' ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "bad records: each class with --skip-bad counts in the marker, leaves groups unchanged" {
	printf '%s\n' '{"u":"a","b":1}' 'not json' '{"u":"a","b":"x"}' \
	    '{"u":"a","b":true,"c":1}' '[1,2]' '{"u":"b","b":2}' \
	    '{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":6,"offsets":[]}' \
	    >in.ndjson
	printf '{"u":"\xff"}\n' >>in.ndjson
	printf '%s\n' '{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":1,"offsets":[]}' >>in.ndjson
	run --separate-stderr ds-reduce -k u -a sum:b -a count --skip-bad in.ndjson
	[ "$status" -eq 0 ]
	# "x" and true are not numbers; [1,2] has no key; \xff is bad UTF-8
	[ "$(printf '%s\n' "$output" | nocreated)" = '{"u":"a","sum_b":1,"count":1}
{"u":"b","sum_b":2,"count":1}
{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":6,"offsets":[],"bad":4}
{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":1,"offsets":[],"bad":1}' ]
	[ "$(grep -c 'ds-reduce: in.ndjson:' <<<"$stderr")" -eq 5 ]
}

@test "bad records: --dead-letter keeps them" {
	printf '%s\n' '{"u":"a","b":1}' '{"u":"a","b":"x"}' >in.ndjson
	run --separate-stderr ds-reduce -k u -a sum:b --dead-letter dl.ndjson in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"u":"a","sum_b":1}' ]
	python3 - <<'PYEOF'
import json
d = [json.loads(l) for l in open("dl.ndjson")]
assert len(d) == 1 and d[0]["line"] == 2 and d[0]["raw"] == '{"u":"a","b":"x"}', d
assert "not a number" in d[0]["error"], d
PYEOF
}

@test "records after the last marker get a final marker" {
	python3 gen.py 5 3 6 4 >in.ndjson
	python3 ref.py -k user <in.ndjson >want
	run ds-reduce -k user in.ndjson
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | nocreated >got
	diff <(grep -v FINAL want) <(grep -v '"final":true' got)
	tail -1 got | grep -q '"seq":6,.*"final":true'
}

@test "several input files are one stream" {
	python3 gen.py 6 3 7 >in.ndjson
	head -20 in.ndjson >a
	tail -n +21 in.ndjson >b
	python3 ref.py -k user -a count <in.ndjson >want
	run ds-reduce -k user a b
	diff want <(printf '%s\n' "$output" | nocreated)
}

@test "memory stays flat: 100k and 1M records with 100 keys" {
	python3 - <<'PYEOF'
import random
r = random.Random(1)
with open("big", "w") as f:
    for i in range(1000000):
        f.write('{"ts":%d,"user":"u%03d","app":"app%d","bytes":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n'
                % (1732255200000 + i, r.randrange(100), r.randrange(5), r.randrange(100000)))
PYEOF
	head -100000 big >small
	/usr/bin/time -f %M -o rss.small ds-reduce -k user -a sum:bytes -a count small >out.small
	/usr/bin/time -f %M -o rss.big ds-reduce -k user -a sum:bytes -a count big >out.big
	[ "$(wc -l <out.big)" -eq 100 ]
	# the totals are right too
	awk -F'"' '{u[$6]+=substr($13,2)+0; n[$6]++} END {for (k in u) print k, u[k], n[k]}' big | sort >want
	sed -E 's/\{"user":"([^"]*)","sum_bytes":([0-9]+),"count":([0-9]+)\}/\1 \2 \3/' out.big | sort >got
	diff want got
	small=$(tail -1 rss.small) big=$(tail -1 rss.big)
	echo "peak RSS: 100k $small KiB, 1M $big KiB"
	# ASan's quarantine holds freed memory: RSS means nothing there
	sanitized ds-reduce || [ "$big" -le $((small + 2048)) ]
}

@test "event-time batches from ds-batch -T: per-batch word counts (held-back input)" {
	command -v ds-batch >/dev/null || skip "ds-batch not built"
	python3 - <<'PYEOF'
import json, random
r = random.Random(21)
ts, recs = 1732255200000, []
for i in range(3000):
    ts += r.choice([0, 1, 3, 40, 400, 2500])   # gaps leave empty batches
    recs.append({"ts": ts, "word": r.choice("the a cat sat on mat dog".split())})
with open("words.ndjson", "w") as f:
    for d in recs:
        f.write(json.dumps(d) + "\n")
# the model: batch [k*2000, (k+1)*2000) ends at (k+1)*2000
first, last = recs[0]["ts"] // 2000, recs[-1]["ts"] // 2000
with open("want", "w") as f:
    for k in range(first, last + 1):
        counts = {}
        for d in recs:
            if d["ts"] // 2000 == k:
                counts[d["word"]] = counts.get(d["word"], 0) + 1
        for w, n in counts.items():
            f.write(json.dumps({"word": w, "count": n}, separators=(",", ":")) + "\n")
        f.write("M %d\n" % ((k + 1) * 2000))
PYEOF
	ds-batch -T ts -i 2s words.ndjson | ds-reduce -k word >out
	python3 -c '
import json, sys
for l in open("out"):
    d = json.loads(l)
    print("M %d" % d["time"] if "@ds" in d else l.rstrip("\n"))' >got
	diff want got
}

# jcheck ARGS...: ds-reduce -j N ARGS on in.ndjson, for N of 1 to 7,
# equals ref.py's model (N above the line count leaves chunks empty).
jcheck() {
	local n
	python3 ref.py "$@" <in.ndjson >want
	for n in 1 2 3 7; do
		run --separate-stderr ds-reduce -j "$n" "$@" in.ndjson
		[ "$status" -eq 0 ] || { echo "-j $n: exit $status: $stderr"; return 1; }
		printf '%s\n' "$output" | nocreated >got
		diff want got || { echo "-j $n $*"; return 1; }
	done
}

@test "-j N: a plain file in N chunks gives the model's output (every aggregate)" {
	python3 gen.py 250 300 11 | grep -v '^{"@ds"' >in.ndjson
	[ "$(wc -l <in.ndjson)" -gt 2000 ]
	# integers merge exactly; the fractions of lat send sum and avg to
	# the sequential path
	jcheck -k user -a count -a sum:bytes -a min:bytes -a max:bytes \
	    -a avg:bytes -a first:bytes -a last:bytes -a collect:bytes \
	    -a distinct:app
	jcheck -k user -a min:lat -a max:lat -a first:lat -a last:lat \
	    -a collect:lat -a distinct:lat
	jcheck -k user -a sum:lat -a avg:lat
	jcheck -k user -a top:2:bytes
	jcheck -k user,app -a count -a s=sum:bytes -a max:bytes -a last:app
	jcheck -a count -a sum:bytes
}

@test "-j N: blank lines, CRLF, no final newline, tiny files" {
	local n
	printf '{"u":"a","b":1}\r\n\n{"u":"b","b":2}\n  \n{"u":"a","b":3}\r\n{"u":"c","b":4}' \
	    >in.ndjson
	for n in 1 2 3 4 5 6 7 40; do
		run ds-reduce -j $n -k u -a sum:b -a count in.ndjson
		# by hand: a 1+3 in 2, b 2 in 1, c 4 in 1
		[ "$output" = '{"u":"a","sum_b":4,"count":2}
{"u":"b","sum_b":2,"count":1}
{"u":"c","sum_b":4,"count":1}' ] || { echo "-j $n: $output"; return 1; }
	done
	printf '\n\n' >in.ndjson
	run ds-reduce -j 3 -a count in.ndjson
	[ "$output" = '{"count":0}' ]
}

@test "-j N: sums of fractions round as -j 1 does (summed in one order)" {
	# 0.1 added 3000 times in one order differs from partial sums merged
	python3 -c '
for i in range(3000):
    print("{\"u\":\"a\",\"x\":0.1}")' >in.ndjson
	jcheck -k u -a sum:x -a avg:x
	run ds-reduce -j 2 -a sum:x in.ndjson
	[ "$output" = "{\"sum_x\":$(python3 -c '
s = 0.0
for i in range(3000): s += 0.1
print(repr(s))')}" ]
}

@test "-j N: batch markers, stdin and several files give -j 1's output" {
	python3 gen.py 30 5 12 >in.ndjson
	jcheck -k user -a sum:bytes -a count
	python3 ref.py -k user -a count <in.ndjson >want
	run ds-reduce -j 2 -k user -a count <in.ndjson
	diff want <(printf '%s\n' "$output" | nocreated)
	head -20 in.ndjson >a
	tail -n +21 in.ndjson >b
	run ds-reduce -j 2 -k user -a count a b
	diff want <(printf '%s\n' "$output" | nocreated)
}

@test "-j N: a bad record fails fast with its own line number, in any chunk" {
	python3 gen.py 100 5 13 | grep -v '^{"@ds"' >in.ndjson
	local n=$(wc -l <in.ndjson)
	{ head -n $((n - 5)) in.ndjson; echo '{"user":"x","bytes":"no"}'
	    tail -n 5 in.ndjson; } >bad.ndjson
	run --separate-stderr ds-reduce -j 2 -k user -a sum:bytes bad.ndjson
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "ds-reduce: bad.ndjson:$((n - 4)): sum_bytes: field 'bytes' is not a number: \"no\"" ]
}

@test "-j N: --skip-bad and --dead-letter report every bad line as -j 1 does" {
	python3 gen.py 100 5 14 | grep -v '^{"@ds"' >in.ndjson
	{ echo 'not json'; cat in.ndjson; echo '[1]'; printf '{"user":"\xff"}\n'
	    cat in.ndjson; } >bad.ndjson
	local n=$(wc -l <in.ndjson)
	run --separate-stderr ds-reduce -j 3 -k user -a count --skip-bad bad.ndjson
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | cut -d: -f1-3)" = "ds-reduce: bad.ndjson:1
ds-reduce: bad.ndjson:$((n + 2))
ds-reduce: bad.ndjson:$((n + 3))" ]
	local want=$output
	run --separate-stderr ds-reduce -j 1 -k user -a count --skip-bad \
	    bad.ndjson
	[ "$output" = "$want" ]
	run --separate-stderr ds-reduce -j 3 -k user -a count \
	    --dead-letter dl.ndjson bad.ndjson
	[ "$output" = "$want" ]
	[ "$(python3 -c '
import json
print(" ".join(str(json.loads(l)["line"]) for l in open("dl.ndjson")))')" = "1 $((n + 2)) $((n + 3))" ]
}
