#!/usr/bin/env bats
# The rules of ds(7), each tested through the tools.  To cover a new
# tool, add it to the tables below: INGRESS (tools that validate raw
# input), and the tool loops of the plain-input, final-marker and
# pass-through tests.

load helper
bats_require_minimum_version 1.5.0

# signal tests run the tool itself in the background (a timeout(1)
# wrapper would relay the signal); teardown bounds it
teardown() {
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
}

# ingress commands: every line validated, one batch per interval
INGRESS=("ds-batch -i 1h")

# stages that read a marked stream (command, and how many output lines
# a batch of records gives, for the rules they share)
have() { command -v "$1" >/dev/null 2>&1; }

markers() {
	grep '^{"@ds":' "$@" | jq -c 'del(.created)'
}

# outmarks FILTER: each marker in $output, without created, through
# jq -c FILTER
outmarks() {
	printf '%s\n' "$output" | markers | jq -c "$1"
}

# ---- Lines ----

@test "protocol: CRLF line ends are accepted, output uses LF" {
	for cmd in "${INGRESS[@]}"; do
		dsok '{"a":1}\r\n{"b":"x\\r"}\r\n' $cmd
		want='{"a":1}
{"b":"x\r"}'
		[ "$(printf '%s\n' "$output" | grep -v '"@ds"')" = "$want" ]
		! printf '%s\n' "$output" | grep -q $'\r'
	done
}

@test "protocol: a missing final newline is accepted" {
	for cmd in "${INGRESS[@]}"; do
		dsok '{"a":1}\n{"a":2}' $cmd
		[ "$(printf '%s\n' "$output" | grep -c '"a"')" = 2 ]
		[ "$(outmarks .count)" = 2 ]
	done
}

@test "protocol: output is compact JSON, one value a line" {
	in='{ "a" : { "b" : [ 1 , 2 ] } , "s" : "x  y" }\n\t[ true, null ]\n "str" \n 15 \n'
	for cmd in "${INGRESS[@]}"; do
		dsok "$in" $cmd
		[ "$(printf '%s\n' "$output" | grep -v '"@ds"')" = "$(printf "$in" | jq -c .)" ]
	done
}

@test "protocol: blank lines are skipped, as jq does" {
	for cmd in "${INGRESS[@]}"; do
		dsok '\n{"a":1}\n   \n\t\r\n{"a":2}\n\n' $cmd
		[ "$(outmarks .count)" = 2 ]
		[ -z "$stderr" ]
	done
}

@test "protocol: any JSON value is a data record" {
	for cmd in "${INGRESS[@]}"; do
		dsok '1\n"s"\nnull\n[1]\n{"a":{"@ds":1}}\ntrue\n' $cmd
		[ "$(outmarks .count)" = 6 ]
	done
}

@test "protocol: markers are canonical: first bytes {\"@ds\":, fixed key order" {
	dsrun '{"a":1}\n' ds-batch -i 1h
	m=$(printf '%s\n' "$output" | tail -1)
	[ "${m:0:7}" = '{"@ds":' ]
	[ "$(jq -c keys_unsorted <<<"$m")" = '["@ds","seq","time","interval","count","offsets","created","final","stream"]' ]
	# canonical = compact: jq -c gives the same bytes
	[ "$(jq -c . <<<"$m")" = "$m" ]
}

@test "protocol: ingress rejects forged control records in every spelling" {
	for cmd in "${INGRESS[@]}"; do
		while read -r line; do
			dsrun "$line\n" $cmd
			[ "$status" -eq 1 ] || { echo "$cmd passed $line"; return 1; }
			[[ "$stderr" == *"<stdin>:1: forged control record"* ]]
		done <<'EOF'
{"@ds":"batch","seq":1,"time":1,"interval":1,"count":0,"offsets":[]}
{"@ds":"other"}
{"x":1,"@ds":null}
{"\u0040ds":"batch"}
{"@d\u0073":"batch"}
  {"@ds":1}
EOF
	done
}

@test "protocol: a duplicated key counts by its last occurrence" {
	dsok '{"ts":1000,"ts":5000}\n' ds-batch -T ts -i 2s
	[ "$(outmarks .time)" = 6000 ]
}

# ---- Batches ----

@test "protocol: seq from 1 and increasing, time the end, count the records between markers" {
	seq 1 17 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	ds-batch -i 1h -n 4 <in >out
	python3 - out <<'EOF'
import json, sys
n = 0
seq = 0
last = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if isinstance(o, dict) and "@ds" in o:
        seq += 1
        assert o["seq"] == seq and o["count"] == n, o
        assert o["time"] > last and o["interval"] == 3600000
        assert o["offsets"] == [] and o["created"] >= o["time"] - 3600000
        last = o["time"]
        n = 0
    else:
        n += 1
assert n == 0 and seq == 5
EOF
}

@test "protocol: a batch is flushed downstream as soon as its marker is written" {
	mkfifo f
	timeout 20 ds-batch -i 1h -n 2 <f >out &
	pid=$!
	exec 7>f
	printf '{"a":1}\n{"a":2}\n{"a":3}\n' >&7
	# the input stays open: batch 1 must still arrive
	wait_for 10 grep -q '"seq":1' out
	[ "$(grep -c '"a"' out)" = 2 ]
	exec 7>&-
	wait "$pid"
}

@test "protocol: an empty batch still gets its marker" {
	run --separate-stderr bash -c '(sleep 1.1) | ds-batch -i 200ms'
	[ "$status" -eq 0 ]
	n=$(printf '%s\n' "$output" | markers | jq -s 'map(select(.count == 0)) | length')
	[ "$n" -ge 3 ]
}

@test "protocol: offsets are Spark OffsetRanges, sorted by topic and partition" {
	dsrun '{"topic":"b","partition":1,"offset":7}\n{"topic":"a","partition":2,"offset":5}\n{"topic":"b","partition":0,"offset":9}\n{"topic":"b","partition":1,"offset":8}\n' ds-batch -i 1h
	want='[{"topic":"a","partition":2,"from":5,"until":6},{"topic":"b","partition":0,"from":9,"until":10},{"topic":"b","partition":1,"from":7,"until":9}]'
	[ "$(outmarks .offsets)" = "$want" ]
}

@test "protocol: event-time markers are reproducible facts of the data" {
	python3 -c '
import random
random.seed(3)
t = 1732255200000
for i in range(3000):
    t += random.randrange(0, 40)
    print("{\"ts\":%d,\"v\":%d}" % (t, i))' >in
	ds-batch -T ts -i 1s <in >a
	sleep 0.01
	ds-batch -T ts -i 1s <in >b
	cmp a b
	[ "$(markers a | jq -s 'map(.count) | add')" = 3000 ]
}

# ---- Errors and bad input ----

@test "protocol: every bad-line class exits 1 with <where>: <what>" {
	printf '{"ok":1}\n' >good
	while IFS='|' read -r opts in want; do
		for cmd in "${INGRESS[@]}"; do
			dsrun "$in" $cmd $opts
			[ "$status" -eq 1 ] || { echo "$cmd $opts '$in': status $status"; return 1; }
			[[ "$stderr" == "${cmd%% *}: <stdin>:2: $want"* ]] || { echo "$in: $stderr"; return 1; }
			# what was complete is written before the exit
			[ "$output" = '{"ok":1}' ]
		done
	done <<'EOF'
|{"ok":1}\nnot json\n|invalid JSON
|{"ok":1}\n{"a":1}}\n|trailing data
|{"ok":1}\n{"a":"\xff"}\n|invalid UTF-8
|{"ok":1}\n{"a":"\xc0\xaf"}\n|invalid UTF-8
|{"ok":1}\n{"a":"\xed\xa0\x80"}\n|invalid UTF-8
|{"ok":1}\n{"a":"x\ty"}\n|control character in string
|{"ok":1}\n{"a":01}\n|expected ',' or '}' at byte 7
--max-line 16|{"ok":1}\n{"a":"0123456789abcdef"}\n|line longer than 16 bytes
--max-depth 3|{"ok":1}\n[[[[1]]]]\n|nesting deeper than 3
|{"ok":1}\n{"@ds":"batch"}\n|forged control record
EOF
}

@test "protocol: limits are options with sane defaults" {
	# depth 512 passes by default, 513 does not
	python3 -c 'print("[" * 512 + "]" * 512); print("[" * 513 + "]" * 513)' >deep
	run --separate-stderr ds-batch -i 1h --skip-bad deep
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"deep:2: nesting deeper than 512"* ]]
	[ "$(outmarks '[.count, .bad]')" = "[1,1]" ]
	# a line over --max-line is reported once, the lines after it are read
	python3 -c 'print("{\"a\":\"" + "x" * 3000000 + "\"}"); print("{\"b\":1}")' >long
	run --separate-stderr ds-batch -i 1h --max-line 1M --skip-bad long
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"long:1: line longer than 1048576 bytes"* ]]
	[ "$(printf '%s\n' "$output" | head -1)" = '{"b":1}' ]
}

@test "protocol: memory stays bounded by --max-line, not by the input" {
	have /usr/bin/time || skip "no /usr/bin/time"
	python3 -c 'import sys; sys.stdout.write("{\"a\":\"" + "x" * 200000000 + "\"}\n{\"b\":1}\n")' >huge
	/usr/bin/time -f %M -o rss ds-batch -i 1h --max-line 1M --skip-bad huge >out 2>err
	# 200 MB line, far less resident memory (kB)
	[ "$(cat rss)" -lt 60000 ]
	grep -q '{"b":1}' out
}

@test "protocol: --skip-bad reports, goes on, counts bad in the marker" {
	for cmd in "${INGRESS[@]}"; do
		dsok '{"a":1}\nx\ny\n{"a":2}\n' $cmd --skip-bad
		[ "$(printf '%s\n' "$stderr" | grep -c 'invalid JSON')" = 2 ]
		[ "$(outmarks '[.count, .bad]')" = "[2,2]" ]
	done
}

@test "protocol: --dead-letter appends error, source, line and raw" {
	for cmd in "${INGRESS[@]}"; do
		rm -f dl
		printf '{"pre":1}\n' >dl
		dsok '{"a":1}\n{"a":"\xff"}\n' $cmd --dead-letter dl
		[ "$(wc -l <dl)" = 2 ]
		tail -1 dl | jq -e '.source == "<stdin>" and .line == 2 and
		    (.error | startswith("invalid UTF-8")) and .raw == "{\"a\":\"\ufffd\"}"'
		[ "$(outmarks .bad)" = 1 ]
	done
}

@test "protocol: usage errors exit 2, -h exits 0 on stdout" {
	for t in ds-batch ds-print ds-sink-file ds-top; do
		have "$t" || continue
		run --separate-stderr "$t" --no-such-option
		[ "$status" -eq 2 ] || { echo "$t: $status"; return 1; }
		[[ "$stderr" == *"usage: $t"* ]]
		run --separate-stderr "$t" -h
		[ "$status" -eq 0 ]
		[[ "$output" == "usage: $t"* ]]
	done
}

@test "protocol: every tool takes -h, --help, -V and --version" {
	for c in "$DS_TOP"/bin/ds-*.c; do
		t=$(basename "$c" .c)
		for o in -h --help; do
			run --separate-stderr "$t" "$o"
			[ "$status" -eq 0 ] || { echo "$t $o: $status"; return 1; }
			[[ "$output" == *"usage: $t"* ]] || { echo "$t $o"; return 1; }
		done
		for o in -V --version; do
			run --separate-stderr "$t" "$o"
			[ "$status" -eq 0 ] || { echo "$t $o: $status"; return 1; }
			[[ "$output" == "$t "[0-9]* ]] || { echo "$t $o: $output"; return 1; }
		done
	done
}

@test "protocol: every keyed tool checks -k the same way" {
	for t in ds-reduce ds-window ds-state ds-join; do
		extra=
		[ "$t" = ds-join ] && extra="--with /dev/null"
		run --separate-stderr $t -k geo,geo.city $extra </dev/null
		[ "$status" -eq 2 ] || { echo "$t: $status"; return 1; }
		[[ "$stderr" == "$t: -k: "*"geo"* ]] || { echo "$t: $stderr"; return 1; }
		run --separate-stderr $t -k a -k b $extra </dev/null
		[ "$status" -eq 2 ] || { echo "$t twice: $status"; return 1; }
		[[ "$stderr" == "$t: -k: give the key fields once"* ]] || { echo "$t: $stderr"; return 1; }
		run --separate-stderr $t -k 'a,"b' $extra </dev/null
		[ "$status" -eq 2 ] || { echo "$t bad: $status"; return 1; }
		[[ "$stderr" == "$t: -k a,\"b: bad field list"* ]] || { echo "$t: $stderr"; return 1; }
	done
}

@test "protocol: a full disk is exit 1 with a message, a closed pipe is quiet" {
	run --separate-stderr bash -c 'echo "{\"a\":1}" | ds-batch >/dev/full'
	[ "$status" -eq 1 ]
	[ "$stderr" = "ds-batch: stdout: No space left on device" ]
	yes '{"a":1}' | head -300000 >in
	run bash -c 'ds-batch -n 10 <in 2>err | head -2'
	[ ! -s err ]
}

@test "protocol: SIGTERM and SIGINT finish the batch and exit 0" {
	for sig in TERM INT; do
		rm -f in.fifo out dl
		fifo_job out ds-batch -i 1h --dead-letter dl
		printf '{"a":1}\nbad\n' >&7
		wait_for 10 test -s dl
		kill -"$sig" "$pid"
		st=0
		wait "$pid" || st=$?
		exec 7>&-
		[ "$st" -eq 0 ] || { echo "$sig: status $st"; return 1; }
		[ "$(markers out | jq -c '[.count, .bad]')" = "[1,1]" ]
	done
}

# ---- Rules of the stages after the ingress ----

# stages that forward markers (their stdout is a ds stream)
FORWARDERS=("ds-sink-file out/p" "ds-union - /dev/null")

@test "protocol: plain input works: no marker in, no marker out" {
	# ds-print: the first records, like head
	dsok '{"a":1}\n{"a":2}\n' ds-print
	[ "$output" = '{"a":1}
{"a":2}' ]
	# ds-sink-file: one file, nothing on stdout
	dsok '{"a":1}\n{"a":2}\n' ds-sink-file p
	[ -z "$output" ]
	[ "$(cat p-*)" = '{"a":1}
{"a":2}' ]
}

@test "protocol: records after the last marker get a final marker" {
	M='{"@ds":"batch","seq":4,"time":8000,"interval":2000,"count":1,"offsets":[]}'
	for cmd in "${FORWARDERS[@]}"; do
		dsok "{\"a\":1}\n$M\n{\"a\":2}\n{\"a\":3}\n" $cmd
		printf '%s\n' "$output" | tail -1 | jq -e '."@ds" == "batch" and .seq == 5 and
		    .time == 10000 and .interval == 2000 and .count == 2 and .final == true'
	done
}

@test "protocol: stages carry unknown marker fields through, in order" {
	M='{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":1,"offsets":[],"created":5,"window":{"start":0,"end":2000},"zz":[1]}'
	for cmd in "${FORWARDERS[@]}"; do
		dsok "{\"a\":1}\n$M\n" $cmd
		[ "$(printf '%s\n' "$output" | grep '^{"@ds"')" = "$M" ]
	done
}

@test "protocol: other control records are forwarded untouched" {
	C='{"@ds":"hello","x":[1,2]}'
	for cmd in "${FORWARDERS[@]}"; do
		dsok "$C\n{\"a\":1}\n" $cmd
		[ "$(printf '%s\n' "$output" | head -1)" = "$C" ]
	done
}

@test "protocol: a malformed control record is a bad record" {
	for cmd in "${FORWARDERS[@]}" ds-print ds-top; do
		dsrun '{"@ds":"batch",\n' $cmd
		[ "$status" -eq 1 ] || { echo "$cmd: $status"; return 1; }
		[[ "$stderr" == *"<stdin>:1: malformed control record"* ]]
	done
}

@test "protocol: the bad count adds up along the pipe" {
	printf '{"a":1}\nbad\n{"a":2}\n' >in
	ds-batch -i 1h --skip-bad <in 2>/dev/null | sed 's/{"a":2}/{"a":/' \
	    | ds-sink-file --skip-bad p 2>/dev/null >out
	[ "$(markers out | jq .bad)" = 2 ]
}

# ---- The manual's examples are tests ----

# every "$ command" block in the man pages of my tools: run it, its
# output must begin with the lines the page shows
@test "protocol: the '\$ command' examples of the man pages give the output they show" {
	for page in "$DS_TOP"/man/ds.7 "$DS_TOP"/man/ds-batch.1; do
		python3 - "$page" >examples <<'EOF2'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
def unesc(s):
    return s.replace("\\e", "\\").replace("\\&", "")
i = 0
while i < len(lines):
    if lines[i].startswith("$ "):
        cmd = unesc(lines[i][2:])
        while cmd.endswith("\\"):
            i += 1
            cmd = cmd[:-1] + unesc(lines[i]).strip()
        out = []
        i += 1
        while not lines[i].startswith(".Ed") and not lines[i].startswith("$ "):
            out.append(unesc(lines[i]))
            i += 1
        print(json.dumps({"cmd": cmd, "out": out}))
        continue
    i += 1
EOF2
		[ -s examples ]
		while read -r ex; do
			cmd=$(jq -r .cmd <<<"$ex")
			want=$(jq -r '.out[]' <<<"$ex")
			got=$(bash -c "$cmd" 2>&1 | head -n "$(jq '.out | length' <<<"$ex")")
			[ "$got" = "$want" ] || { printf '%s\n--- want\n%s\n--- got\n%s\n' "$cmd" "$want" "$got"; return 1; }
		done <examples
	done
}

@test "protocol: end of input closes the open batch on the interval grid, final" {
	dsok '{"a":1}\n{"a":2}\n' ds-batch -i 2s
	m=$(printf '%s\n' "$output" | tail -1)
	# the time is the end of its 2 s interval, not the wall clock
	jq -e '.time % 2000 == 0 and .final == true and .count == 2 and .created <= .time' <<<"$m"
}
