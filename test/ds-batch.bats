#!/usr/bin/env bats
# ds-batch: processing-time, count, byte and event-time batches, envelope
# offsets, union of inputs, the bad-record policy at ingress, signals and
# --log replay.  Expected batches come from python3/awk/jq references.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
}

# markers only, without the wall-clock fields
markers() {
	jq -c 'select(type == "object" and ."@ds" == "batch") | del(.created)' "$@"
}

# envelopes like ds-kafka-cat's: N records over P partitions of topic t
gen_env() {
	python3 - "$1" "${2:-2}" <<'EOF'
import json, sys
n, parts = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    print(json.dumps({"topic": "t", "partition": i % parts,
        "offset": i // parts, "ts": 1700000000000 + i, "key": None,
        "value": {"i": i, "user": "u%d" % (i % 7)}}, separators=(",", ":")))
EOF
}

# access-log records with epoch-ms ts, in time order with idle gaps
gen_ts() {
	python3 - <<'EOF'
import json, random
random.seed(7)
t = 1732255200000
for i in range(2000):
    t += random.choice([0, 1, 3, 10, 50, 400, 1500, 4100])
    print(json.dumps({"user": "u%d" % random.randrange(50), "bytes":
        random.randrange(1, 9999), "ts": t}, separators=(",", ":")))
EOF
}

@test "ds-batch -h prints the usage to stdout and exits 0" {
	run --separate-stderr ds-batch -h
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: ds-batch [-i DURATION] [-n N] [-B BYTES] [-T FIELD]"* ]]
	[ -z "$stderr" ]
}

@test "ds-batch -V prints the version" {
	run ds-batch -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ds-batch "[0-9]* ]]
}

@test "ds-batch: usage errors exit 2 with the usage or a message" {
	while IFS='|' read -r args want; do
		run --separate-stderr ds-batch $args </dev/null
		[ "$status" -eq 2 ] || { echo "args: $args: status $status"; return 1; }
		[[ "$stderr" == *"$want"* ]] || { echo "args: $args: $stderr"; return 1; }
	done <<'EOF'
-i 0|-i: 0: expected a duration
-i 2x|-i: 2x: expected a duration
-n 0|-n: 0 is too small
-n x|-n: x is invalid
-B lots|-B: lots: expected a size
-T ts --time-unit h|--time-unit: h: expected s, ms or us
--lateness 1s|go with -T
--created|go with -T
-T ts -n 5|do not go with -T
-T ts -B 1k|do not go with -T
--bogus|usage: ds-batch
--max-depth 0|--max-depth
EOF
}

@test "ds-batch -n 1: each record followed by its marker, seq 1 then 2, count 1" {
	dsrun '{"a":1}\n{"a":2}\n' ds-batch -n 1
	[ "$status" -eq 0 ]
	run jq -sc '[.[] | if has("@ds") then [.seq, .count, .interval, .offsets] else . end]' <<<"$output"
	[ "$output" = '[{"a":1},[1,1,1000,[]],{"a":2},[2,1,1000,[]]]' ]
}

@test "ds-batch -n N: batches of N records, the rest closed at end of input" {
	seq 1 23 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	ds-batch -i 1h -n 5 <in >out
	# reference: awk cuts every 5 lines and closes the rest
	want=$(awk '{ c++ } c == 5 { print 5; c = 0 } END { if (c) print c }' in | paste -sd,)
	got=$(markers out | jq -r .count | paste -sd,)
	[ "$got" = "$want" ]
	[ "$(markers out | jq -r .seq | paste -sd,)" = "1,2,3,4,5" ]
	# the data lines are the input, in order
	[ "$(grep -v '"@ds"' out)" = "$(cat in)" ]
	# times strictly increase
	markers out | jq -s -e '[.[].time] as $t | all(range(1; $t | length); $t[.] > $t[. - 1])'
}

@test "ds-batch -B BYTES closes a batch once its bytes reach the limit" {
	# every line is 8 bytes with its newline: 3 lines reach 20 bytes
	printf '{"a":%d}\n' 1 2 3 4 5 6 7 >in
	ds-batch -i 1h -B 20 <in >out
	[ "$(markers out | jq -r .count | paste -sd,)" = "3,3,1" ]
}

@test "ds-batch -i: markers every interval while the input is idle, aligned, contiguous" {
	run --separate-stderr bash -c '(echo "{\"a\":1}"; sleep 3.5) | ds-batch -i 1s'
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >out
	n=$(markers out | wc -l)
	[ "$n" -ge 3 ]
	# aligned to the second, one second apart, seq 1..n, the record in batch 1
	markers out | jq -s -e 'all(.[]; .time % 1000 == 0 and .interval == 1000)
	    and ([.[].seq] == [range(1; length + 1)])
	    and ([.[].time] as $t | all(range(1; $t | length); $t[.] - $t[. - 1] == 1000))
	    and .[0].count == 1 and all(.[1:][]; .count == 0)'
	[ "$(head -1 out)" = '{"a":1}' ]
}

@test "ds-batch -i: the marker's created is the close time, at or after its time" {
	run --separate-stderr bash -c '(echo "{\"a\":1}"; sleep 1.2) | ds-batch -i 500ms'
	printf '%s\n' "$output" | jq -s -e '[.[] | select(has("@ds"))] |
	    length >= 2 and all(.[]; .created >= .time and .created - .time < 2000)'
}

@test "ds-batch -T: event-time batches are contiguous, hold the right records, byte-identical" {
	gen_ts >in
	ds-batch -T ts -i 2s <in >out1
	ds-batch -T ts -i 2s <in >out2
	cmp out1 out2
	# no wall-clock field unless --created
	! grep -q created out1
	# reference: python groups the input by floor(ts/2000)
	python3 - in out1 <<'EOF'
import json, sys
I = 2000
recs = [json.loads(l) for l in open(sys.argv[1])]
ks = [r["ts"] // I for r in recs]
want = {}
for k in ks:
    want[k] = want.get(k, 0) + 1
out = [json.loads(l) for l in open(sys.argv[2])]
marks = [m for m in out if "@ds" in m]
times = [m["time"] for m in marks]
# contiguous: every interval from the first to the last batch
assert times == [(k + 1) * I for k in range(min(ks), max(ks) + 1)], "not contiguous"
assert [m["seq"] for m in marks] == list(range(1, len(marks) + 1))
assert [m["count"] for m in marks] == [want.get(t // I - 1, 0) for t in times]
assert sum(m["count"] for m in marks) == len(recs)
# every record sits before its own batch's marker
batch = []
for o in out:
    if "@ds" in o:
        assert all(o["time"] - I <= r["ts"] < o["time"] for r in batch)
        assert len(batch) == o["count"]
        batch = []
    else:
        batch.append(o)
assert batch == []
EOF
}

@test "ds-batch -T --created adds the wall-clock created field" {
	dsrun '{"ts":1000}\n{"ts":3500}\n' ds-batch -T ts -i 2s --created
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -s -e '[.[] | select(has("@ds"))] |
	    length == 2 and all(.[]; .created > 1600000000000)'
}

@test "ds-batch -T: time units and RFC 3339 strings" {
	while IFS='|' read -r args in want; do
		dsrun "$in" ds-batch -T ts $args
		[ "$status" -eq 0 ] || { echo "$args: $stderr"; return 1; }
		got=$(printf '%s\n' "$output" | markers | jq -r '"\(.time)/\(.count)"' | paste -sd' ')
		[ "$got" = "$want" ] || { echo "$args $in: got $got want $want"; return 1; }
	done <<'EOF'
-i 2s|{"ts":1000}\n{"ts":1999}\n{"ts":2000}\n|2000/2 4000/1
-i 2s --time-unit s|{"ts":1}\n{"ts":1.5}\n{"ts":2}\n|2000/2 4000/1
-i 2s --time-unit us|{"ts":1999999}\n{"ts":2000000}\n|2000/1 4000/1
-i 1s --time-unit ms|{"ts":1500.7}\n|2000/1
-i 1s|{"ts":"1970-01-01T00:00:01Z"}\n{"ts":"1970-01-01T00:00:01.999Z"}\n|2000/2
-i 1s|{"ts":"1970-01-01T08:00:02+08:00"}\n|3000/1
-i 1s|{"ts":"1970-01-01 00:00:00.5-00:30"}\n|1801000/1
-i 1h|{"ts":"2024-11-22T10:00:00Z"}\n|1732273200000/1
-i 1s|{"ts":-1}\n{"ts":0}\n|0/1 1000/1
EOF
}

@test "ds-batch -T: a record without a usable time is a bad record" {
	while IFS='|' read -r in want; do
		dsrun "$in" ds-batch -T ts
		[ "$status" -eq 1 ] || { echo "$in: status $status"; return 1; }
		[[ "$stderr" == *"$want"* ]] || { echo "$in: $stderr"; return 1; }
	done <<'EOF'
{"a":1}\n|ds-batch: <stdin>:1: no time field "ts"
{"ts":"yesterday"}\n|ds-batch: <stdin>:1: field "ts" is not a time: "yesterday"
{"ts":true}\n|<stdin>:1: field "ts" is not a time
{"ts":"2024-13-01T00:00:00Z"}\n|is not a time
[1,2]\n|no time field
EOF
}

@test "ds-batch -T --lateness: late records within the bound join their batch" {
	# 2500 arrives after 4100 but batch [2000,4000) waits 1s more
	dsrun '{"ts":1000}\n{"ts":4100}\n{"ts":2500}\n{"ts":5200}\n{"ts":3999}\n' \
	    ds-batch -T ts -i 2s --lateness 1s --skip-bad
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >out
	# 3999 came after 5200: batch [2000,4000) had closed at 5000
	[[ "$stderr" == *"<stdin>:5: late record: time 3999"* ]]
	want='{"ts":1000}
{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":1,"offsets":[]}
{"ts":2500}
{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":1,"offsets":[]}
{"ts":4100}
{"ts":5200}
{"@ds":"batch","seq":3,"time":6000,"interval":2000,"count":2,"offsets":[],"bad":1}'
	[ "$(cat out)" = "$want" ]
}

@test "ds-batch -T: late records without --lateness, to the dead letter" {
	dsrun '{"ts":5000}\n{"ts":1000}\n{"ts":6000}\n' ds-batch -T ts -i 2s --dead-letter dl
	[ "$status" -eq 0 ]
	jq -e '.error | startswith("late record: time 1000")' dl
	jq -e '.line == 2 and .raw == "{\"ts\":1000}"' dl
	[ "$(printf '%s\n' "$output" | markers | jq -r '"\(.time):\(.count)"' | paste -sd,)" = "6000:1,8000:1" ]
}

@test "ds-batch: offsets of ds-kafka-cat envelopes go into the marker" {
	gen_env 250 3 >in
	ds-batch -i 1h -n 40 <in >out
	python3 - in out <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
marks = [m for m in map(json.loads, open(sys.argv[2])) if "@ds" in m]
i = 0
for m in marks:
    chunk = recs[i:i + m["count"]]
    i += m["count"]
    want = {}
    for r in chunk:
        k = (r["topic"], r["partition"])
        lo, hi = want.get(k, (r["offset"], r["offset"]))
        want[k] = (min(lo, r["offset"]), max(hi, r["offset"]))
    want = [{"topic": t, "partition": p, "from": lo, "until": hi + 1}
            for (t, p), (lo, hi) in sorted(want.items())]
    assert m["offsets"] == want, (m, want)
assert i == len(recs)
assert [m["count"] for m in marks] == [40] * 6 + [10]
EOF
}

@test "ds-batch: a record that only looks like an envelope has no offsets" {
	dsrun '{"topic":"t","partition":"0","offset":1}\n{"topic":"t","offset":2}\n' ds-batch -n 2
	[ "$(printf '%s\n' "$output" | markers | jq -c .offsets)" = "[]" ]
}

@test "ds-batch: several inputs are merged, each line names its own input" {
	printf '{"f":"a","i":%d}\n' 1 2 3 >a
	printf '{"f":"b","i":%d}\n' 1 2 >b
	ds-batch -i 1h a b >out
	[ "$(markers out | jq -r .count)" = 5 ]
	[ "$(grep -c '"f":"a"' out)" = 3 ]
	[ "$(grep -c '"f":"b"' out)" = 2 ]
	printf '{"ok":1}\nnot json\n' >c
	run --separate-stderr ds-batch a c
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-batch: c:2: invalid JSON"* ]]
}

@test "ds-batch: FIFOs are merged as their lines arrive (union)" {
	mkfifo f1 f2
	timeout 20 ds-batch -i 300ms f1 f2 >out &
	pid=$!
	exec 7>f1 8>f2
	echo '{"s":1}' >&7
	echo '{"s":2}' >&8
	wait_for 5 grep -q '"s":2' out
	echo '{"s":1}' >&7
	exec 7>&- 8>&-
	wait "$pid"
	[ "$(grep -c '"s"' out)" = 3 ]
	[ "$(markers out | jq -s 'map(.count) | add')" = 3 ]
}

@test "ds-batch: a malformed line exits 1 with <stdin>:N after the good lines" {
	dsrun '{"a":1}\n{"a":\n{"a":3}\n' ds-batch -i 1h
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-batch: <stdin>:2: "* ]]
	[ "$output" = '{"a":1}' ]
}

@test "ds-batch --skip-bad reports, goes on and counts the bad lines" {
	dsrun '{"a":1}\nnope\n{"@ds":"batch","seq":9}\n{"a":2}\n' ds-batch -i 1h --skip-bad
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"<stdin>:2: invalid JSON"* ]]
	[[ "$stderr" == *"<stdin>:3: forged control record"* ]]
	[ "$(printf '%s\n' "$output" | grep -vc '"@ds"')" = 2 ]
	[ "$(printf '%s\n' "$output" | markers | jq -c '[.count, .bad]')" = "[2,2]" ]
}

@test "ds-batch --dead-letter writes error, source, line and raw" {
	printf '{"a":1}\n{"b":\n{"a":2,"@ds":"x"}\n' >in
	run --separate-stderr ds-batch -i 1h --dead-letter dl in
	[ "$status" -eq 0 ]
	[ "$(wc -l <dl)" = 2 ]
	run jq -sc 'map([.source, .line, .raw, (.error | test("^forged"))])' dl
	[ "$output" = '[["in",2,"{\"b\":",false],["in",3,"{\"a\":2,\"@ds\":\"x\"}",true]]' ]
	[[ "$stderr" == "ds-batch: 2 bad lines written to dl" ]]
}

@test "ds-batch: forged control records are bad records" {
	while read -r line; do
		dsrun "$line\n" ds-batch -i 1h
		[ "$status" -eq 1 ] || { echo "$line passed"; return 1; }
		[[ "$stderr" == *"forged control record"* ]]
	done <<'EOF'
{"@ds":"batch","seq":1,"time":1,"interval":1,"count":0,"offsets":[]}
{"a":1,"@ds":"batch"}
{ "@ds" : 1 }
{"\u0040ds":1}
EOF
	# nested "@ds" keys are data
	dsrun '{"a":{"@ds":1}}\n' ds-batch -i 1h
	[ "$status" -eq 0 ]
}

@test "ds-batch output is compact JSON" {
	dsrun '{ "a" : [1, 2], "s":"x y" }\n  [ 1 ,{"b" :null}]  \n' ds-batch -i 1h
	[ "$status" -eq 0 ]
	want=$(printf '{ "a" : [1, 2], "s":"x y" }\n  [ 1 ,{"b" :null}]  \n' | jq -c .)
	[ "$(printf '%s\n' "$output" | grep -v '"@ds"')" = "$want" ]
}

@test "ds-batch | head -1 exits quietly" {
	seq 1 200000 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	run bash -c 'ds-batch -n 1000 <in 2>err | head -1'
	[ "$output" = '{"n":1}' ]
	[ ! -s err ]
}

@test "ds-batch >/dev/full exits 1 with a message" {
	run --separate-stderr bash -c 'printf "{\"a\":1}\n" | ds-batch >/dev/full'
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-batch: stdout: No space left on device"* ]]
}

@test "ds-batch: SIGTERM closes the current batch and exits 0" {
	mkfifo f
	ds-batch -i 1h --dead-letter dl <f >out &
	pid=$!
	exec 7>f
	# nothing is flushed before the marker: the bad line after the
	# records tells us when ds-batch has read them
	printf '{"a":1}\n{"a":2}\n{"a":3}\nbad\n' >&7
	wait_for 10 test -s dl
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	exec 7>&-
	[ "$st" -eq 0 ]
	[ "$(grep -c '"a"' out)" = 3 ]
	[ "$(markers out | jq -c '[.seq, .count, .bad]')" = "[1,3,1]" ]
}

@test "ds-batch -T: SIGINT closes every open batch and exits 0" {
	mkfifo f
	ds-batch -T ts -i 2s <f >out &
	pid=$!
	exec 7>f
	printf '{"ts":%d}\n' 100 2100 4100 >&7
	wait_for 5 grep -q '"time":4000' out
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	exec 7>&-
	[ "$st" -eq 0 ]
	[ "$(markers out | jq -r '"\(.time)/\(.count)"' | paste -sd' ')" = "2000/1 4000/1 6000/1" ]
}

@test "ds-batch --log: the log holds every emitted marker" {
	gen_env 95 2 >in
	ds-batch -i 1h -n 30 --log L <in >out
	[ "$(markers out | jq -c '{seq,time,interval,count,offsets,stream}')" = "$(cat L/batches.ndjson)" ]
}

@test "ds-batch --log: replay after kill -9 gives the same seq, time and offsets" {
	gen_env 600 2 >all
	# reference: an uninterrupted run
	ds-batch -i 1h -n 100 --log U <all >U.out
	# run 1: 350 records through a FIFO, killed once 3 batches are logged
	mkfifo f
	# no timeout(1) wrapper: kill -9 must hit ds-batch itself
	ds-batch -i 1h -n 100 --log L <f >K.out &
	pid=$!
	exec 7>f
	head -350 all >&7
	wait_for 10 bash -c '[ "$(wc -l <L/batches.ndjson)" -ge 3 ]'
	kill -9 "$pid"
	wait "$pid" || true
	exec 7>&-
	[ "$(wc -l <L/batches.ndjson)" = 3 ]
	cp L/batches.ndjson logged
	# run 2: the source replays from the start
	run --separate-stderr ds-batch -i 1h -n 100 --log L <all
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >R.out
	# same batches (seq, count, offsets) and records as the uninterrupted run
	[ "$(markers R.out | jq -c '{seq,count,offsets}')" = "$(markers U.out | jq -c '{seq,count,offsets}')" ]
	[ "$(grep -v '"@ds"' R.out)" = "$(cat all)" ]
	# the logged batches come back with their logged time
	[ "$(markers R.out | head -3 | jq -c '{seq,time,interval,count,offsets,stream}')" = "$(cat logged)" ]
	# the log now has every batch once
	[ "$(jq -r .seq L/batches.ndjson | paste -sd,)" = "1,2,3,4,5,6" ]
}

@test "ds-batch --log: a source that resumes at a later offset skips committed batches" {
	gen_env 600 2 >all
	head -250 all | ds-batch -i 1h -n 100 --log L >first
	# the sink committed batch 2: the source resumes at record 200
	tail -n +201 all >rest
	run --separate-stderr ds-batch -i 1h -n 100 --log L <rest
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >R.out
	# batch 3 is replayed with its logged fields, then new batches 4..
	[ "$(markers R.out | head -1 | jq -c '{seq,time,count,offsets}')" = "$(sed -n 3p L/batches.ndjson | jq -c '{seq,time,count,offsets}')" ]
	# head -250 logged 100,100,50: batch 3 is records 200..249
	[ "$(markers R.out | jq -r '"\(.seq):\(.count)"' | paste -sd,)" = "3:50,4:100,5:100,6:100,7:50" ]
	[ "$(grep -v '"@ds"' R.out)" = "$(cat rest)" ]
}

@test "ds-batch --log: plain records are re-cut by the logged counts" {
	seq 1 50 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	head -25 in | ds-batch -i 1h -n 10 --log L >first
	run --separate-stderr ds-batch -i 1h -n 7 --log L <in
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >R.out
	# logged batches 10,10,5 come back as they were, new ones cut by -n 7
	[ "$(markers R.out | jq -r '"\(.seq):\(.count)"' | paste -sd,)" = "1:10,2:10,3:5,4:7,5:7,6:7,7:4" ]
	[ "$(markers R.out | head -3 | jq -c '{seq,time,interval,count,offsets,stream}')" = "$(head -3 L/batches.ndjson)" ]
}

@test "ds-batch --log: a torn last entry is cut off with a warning" {
	seq 1 3 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	ds-batch -i 1h -n 1 --log L <in >/dev/null
	printf '{"seq":4,"ti' >>L/batches.ndjson
	run --separate-stderr ds-batch -i 1h -n 1 --log L <in
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"dropping a torn last entry"* ]]
	[ "$(jq -r .seq L/batches.ndjson | paste -sd,)" = "1,2,3" ]
}

@test "ds-batch --log: an unusable log exits 1 (corrupt inside, out of order, unreadable)" {
	seq 1 3 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	ds-batch -i 1h -n 1 --log L <in >/dev/null
	cp L/batches.ndjson good
	{ head -n 1 good; echo 'garbage'; tail -n 1 good; } >L/batches.ndjson
	run --separate-stderr ds-batch -i 1h -n 1 --log L <in
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-batch: L/batches.ndjson: corrupt entry at byte "* ]]
	{ tail -n 1 good; head -n 1 good; } >L/batches.ndjson
	run --separate-stderr ds-batch -i 1h -n 1 --log L <in
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-batch: L/batches.ndjson: seq 1 after 3" ]]
	rm -r L
	mkdir -p L/batches.ndjson
	run --separate-stderr ds-batch -i 1h -n 1 --log L <in
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-batch: L/batches.ndjson: "* ]]
}

@test "ds-batch --log: a replay missing records is an error, loudly" {
	seq 1 20 | awk '{ printf "{\"n\":%d}\n", $1 }' >in
	ds-batch -i 1h -n 10 --log L <in >/dev/null
	run --separate-stderr bash -c 'head -15 in | ds-batch -i 1h -n 10 --log L'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"batch 2: 5 records replayed, the log says 10"* ]]
}

@test "ds-batch -T --log: event-time batches continue after the logged ones" {
	printf '{"ts":%d}\n' 100 900 2100 4100 6100 >in
	head -3 in | ds-batch -T ts -i 2s --log L >first
	run --separate-stderr ds-batch -T ts -i 2s --log L <in
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | markers | jq -r '"\(.seq):\(.time):\(.count)"' | paste -sd,)" = \
	    "1:2000:2,2:4000:1,3:6000:1,4:8000:1" ]
}

@test "ds-batch --log: a committed batch on an idle partition does not hold the replay" {
	# batch 1 has partitions 0 and 1, batches 2 and 3 only partition 0
	python3 -c '
import json
recs = [(i % 2, i // 2) for i in range(100)] + [(0, 50 + i) for i in range(200)]
for p, o in recs:
    print(json.dumps({"topic": "t", "partition": p, "offset": o, "value": o}, separators=(",", ":")))' >all
	ds-batch -i 1h -n 100 --log L <all >first
	[ "$(wc -l <L/batches.ndjson)" = 3 ]
	# the source resumes at batch 3 (partition 0 offset 150); partition 1
	# has nothing new: batches 1 and 2 must not wait for it
	mkfifo f
	ds-batch -i 1h -n 100 --log L <f >out &
	pid=$!
	exec 7>f
	tail -n 100 all >&7
	wait_for 10 grep -q '"seq":3' out
	exec 7>&-
	wait "$pid"
	[ "$(markers out | jq -c '{seq,time,count,offsets}')" = "$(sed -n 3p L/batches.ndjson | jq -c '{seq,time,count,offsets}')" ]
}

# replays_whole INPUT LOG: ds-batch --log L on INPUT writes the batches
# of LOG (seq, time, count, offsets) and the records of all, each once
replays_whole() {
	run --separate-stderr ds-batch -i 1h -n 40 --log L <"$1"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >out
	[ "$(markers out | jq -c '{seq,time,count,offsets}')" = "$(jq -c '{seq,time,count,offsets}' "$2")" ]
	[ "$(grep -v '"@ds"' out)" = "$(cat all)" ]
}

@test "ds-batch: a record delivered again (offset already seen) is dropped with a warning" {
	gen_env 100 2 >all
	# a rebalance: partition 0 is read again from offset 20
	python3 - all >in <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines]
first = lines[:60]
again = [l for l, r in zip(lines, recs) if r["partition"] == 0 and r["offset"] >= 20]
rest = [l for l, r in zip(lines, recs) if r["partition"] == 1 and r["offset"] >= 30]
print("\n".join(first + again + rest))
EOF
	run --separate-stderr ds-batch -i 1h -n 45 <in
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >out
	# every record once
	[ "$(grep -v '"@ds"' out | sort)" = "$(sort all)" ]
	[ "$(markers out | jq -s 'map(.count) | add')" = 100 ]
	[[ "$stderr" == *"dropped 10 record(s) delivered again"* ]]
	# and the batches' ranges do not overlap
	[ "$(markers out | jq -c '.offsets[] | select(.partition == 0) | [.from, .until]' | paste -sd' ')" = "[0,23] [23,50]" ]
}

@test "ds-batch --log: records delivered again during a replay do not break it" {
	gen_env 100 2 >all
	ds-batch -i 1h -n 40 --log L <all >first
	# the restarted source re-reads records 20..39 once more after 50
	{ head -50 all; sed -n 21,40p all; tail -n +51 all; } >in
	replays_whole in L/batches.ndjson
}

@test "ds-batch --log: input that ends inside a logged batch leaves it for the next run" {
	gen_env 100 2 >all
	ds-batch -i 1h -n 40 --log L <all >first
	cp L/batches.ndjson logged
	# the restarted source owns partition 0 only (another member of the
	# group still holds partition 1) and reaches its end
	jq -c 'select(.partition == 0)' all >p0
	run --separate-stderr ds-batch -i 1h -n 40 --log L <p0
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"batch 1: the input ended before its records of t/1 [0, 20) came (none of them)"* ]]
	# nothing written: batch 1 short would count as applied downstream
	[ -z "$output" ]
	cmp logged L/batches.ndjson
	# the next run, with both partitions, replays every batch whole
	replays_whole all logged
}

# first_log: L holds batch 1 (partition 0, offsets 0..49) and batch 2
# (partition 1, offsets 0..9); env P FROM N prints N envelopes
env_p() {
	python3 -c '
import json, sys
p, a, n = map(int, sys.argv[1:])
for o in range(a, a + n):
    print(json.dumps({"topic": "t", "partition": p, "offset": o, "value": o}, separators=(",", ":")))' "$@"
}
first_log() {
	{ env_p 0 0 50; env_p 1 0 10; } | ds-batch -i 1h -n 50 --log L >/dev/null
	[ "$(jq -c '.offsets[] | [.partition, .from, .until]' L/batches.ndjson | paste -sd' ')" = "[0,0,50] [1,0,10]" ]
}

@test "ds-batch --log: the source's assign record ends the replay of committed batches, idle partitions too" {
	first_log
	# both batches were committed; partition 1 stays idle
	mkfifo f
	ds-batch -i 1h -n 20 --log L <f >out &
	pid=$!
	exec 7>f
	echo '{"@ds":"assign","offsets":[{"topic":"t","partition":0,"from":50},{"topic":"t","partition":1,"from":10}]}' >&7
	env_p 0 50 30 >&7
	# new batches go out while the input is still open
	wait_for 10 grep -q '"seq":3' out
	exec 7>&-
	wait "$pid"
	[ "$(markers out | jq -r '"\(.seq):\(.count)"' | paste -sd,)" = "3:20,4:10" ]
	[ "$(grep -v '"@ds"' out)" = "$(env_p 0 50 30)" ]
}

@test "ds-batch --log: after an assign record, a logged batch of a partition not assigned is not taken for committed" {
	first_log
	# the source owns partition 0 only and starts it at 0
	{ echo '{"@ds":"assign","offsets":[{"topic":"t","partition":0,"from":0}]}'; env_p 0 0 50; } >in
	run --separate-stderr ds-batch -i 1h -n 20 --log L <in
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"batch 2: the input ended before its records of t/1 [0, 10) came (none of them)"* ]]
	# batch 1 is replayed; batch 2 waits for a run that owns partition 1
	[ "$(printf '%s\n' "$output" | markers | jq -r '"\(.seq):\(.count)"' | paste -sd,)" = "1:50" ]
	# without an assign record the source says nothing of partition 1,
	# and a batch none of whose records came was committed
	env_p 0 50 5 >in2
	run --separate-stderr ds-batch -i 1h -n 20 --log L <in2
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | markers | jq -r '"\(.seq):\(.count)"' | paste -sd,)" = "3:5" ]
}

@test "ds-batch: a malformed assign record is a bad record" {
	dsrun '{"@ds":"assign","offsets":5}\n{"a":1}\n' ds-batch -n 1
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"<stdin>:1: malformed assign record"* ]]
}

@test "ds-batch --skip-bad: a last batch of only bad lines still reports its count" {
	dsrun '{"a":1}\nbad\n' ds-batch -i 1h -n 1 --skip-bad
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | markers | jq -c '[.seq, .count, .bad]' | paste -sd' ')" = "[1,1,null] [2,0,1]" ]
}

@test "ds-batch -T: a time far ahead of the stream is a bad record, not a flood of markers" {
	dsrun '{"ts":1000}\n{"ts":1732255200000}\n{"ts":1500}\n' timeout 10 ds-batch -T ts -i 1s --skip-bad
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"<stdin>:2: time 1732255200000 is more than 1000000 intervals after the open batches"* ]]
	[ "$(printf '%s\n' "$output" | markers | jq -c '[.time, .count, .bad]')" = "[2000,2,1]" ]
}

# The --max-rate-per-partition tests follow Spark's documented
# spark.streaming.kafka.maxRatePerPartition: a batch takes at most
# rate x batch seconds records of each partition (at least 1), the rest
# goes to the following batches; expected batches are worked by hand.

# The non-empty batches as "value..." lines and [count,[[p,from,until]...]]
# markers (a slow start can add an empty batch first).
ratebatches() {
	jq -c 'if has("@ds") then select(.count > 0) |
	    [.count, [.offsets[] | [.partition, .from, .until]]] else .value end' "$@"
}

@test "ds-batch --max-rate-per-partition: a burst goes into batches of rate x interval per partition" {
	# 20/s x 200 ms = 4 records a partition a batch.  p0 has offsets
	# 0..9, p1 0..1, all arriving at once: batch 1 takes p0 0-3 and
	# p1 0-1, batch 2 p0 4-7, batch 3 (final) p0 8-9
	{
		for i in 0 1; do
			echo "{\"topic\":\"t\",\"partition\":0,\"offset\":$i,\"value\":\"a$i\"}"
			echo "{\"topic\":\"t\",\"partition\":1,\"offset\":$i,\"value\":\"b$i\"}"
		done
		for i in 2 3 4 5 6 7 8 9; do
			echo "{\"topic\":\"t\",\"partition\":0,\"offset\":$i,\"value\":\"a$i\"}"
		done
	} >in
	run --separate-stderr ds-batch -i 200ms --max-rate-per-partition 20 in
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >out
	[ "$(ratebatches out | paste -sd' ')" = '"a0" "b0" "a1" "b1" "a2" "a3" [6,[[0,0,4],[1,0,2]]] "a4" "a5" "a6" "a7" [4,[[0,4,8]]] "a8" "a9" [2,[[0,8,10]]]' ]
	tail -1 out | grep -q '"final":true'
	# plain records without offsets are one partition: 1/s x 200 ms
	# rounds to the minimum, 1
	printf '{"a":1}\n{"a":2}\n' >plain
	run --separate-stderr ds-batch -i 200ms --max-rate-per-partition 1 plain
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -c 'select((has("@ds") | not) or .count > 0) | .count // .a' | paste -sd' ')" = '1 1 2 1' ]
}

@test "ds-batch --max-rate-per-partition: every batch within the bound, offsets exact, order kept" {
	gen_env 900 3 >in	# 300 records in each of 3 partitions
	run --separate-stderr ds-batch -i 100ms --max-rate-per-partition 500 in
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >out
	# 500/s x 100 ms = 50: each batch holds a run of consecutive offsets
	# of each partition, at most 50, that its marker's ranges say
	python3 - <<'PYEOF'
import json
recs, nb, nxt = {}, 0, {0: 0, 1: 0, 2: 0}
for l in open("out"):
    d = json.loads(l)
    if "@ds" not in d:
        recs.setdefault(d["partition"], []).append(d["offset"])
        continue
    nb += 1
    got = {r["partition"]: (r["from"], r["until"]) for r in d["offsets"]}
    assert d["count"] == sum(len(v) for v in recs.values()), d
    assert set(got) == set(recs), (d, recs)
    for p, offs in recs.items():
        assert len(offs) <= 50, (d, p, len(offs))
        assert offs == list(range(nxt[p], nxt[p] + len(offs))), (p, offs)
        assert got[p] == (offs[0], offs[-1] + 1), (d, p)
        nxt[p] += len(offs)
    recs = {}
assert not recs and nxt == {0: 300, 1: 300, 2: 300}, nxt
assert nb >= 6, nb
PYEOF
}

@test "ds-batch --max-rate-per-partition --log: a replay re-cuts the bounded batches exactly" {
	gen_env 120 2 >in
	ds-batch -i 100ms --max-rate-per-partition 200 --log L in >first
	# the replay takes the logged boundaries, not the rate or the clock
	ds-batch -i 100ms --max-rate-per-partition 200 --log L in >again
	[ "$(markers again)" = "$(markers first)" ]
	[ "$(grep -v '"@ds"' again | jq -c '[.partition, .offset]')" = "$(grep -v '"@ds"' first | jq -c '[.partition, .offset]')" ]
	# and every batch took at most 200 x 0.1 = 20 of each partition
	[ "$(markers first | jq '[.offsets[] | .until - .from] | max // 0' | sort -n | tail -1)" -le 20 ]
}

@test "ds-batch --max-rate-per-partition: usage errors" {
	local bad
	for bad in "--max-rate-per-partition 0" "--max-rate-per-partition x" \
	    "--max-rate-per-partition 5 -T ts" "--max-rate-per-partition 5 -n 10" \
	    "--max-rate-per-partition 5 -B 1k"; do
		run --separate-stderr ds-batch $bad </dev/null
		[ "$status" -eq 2 ] || { echo "'$bad': exit $status"; return 1; }
		[ -n "$stderr" ] || { echo "'$bad': no message"; return 1; }
	done
}

@test "ds-batch: assign and revoke records close the open batch and are passed on" {
	printf '%s\n' '{"@ds":"assign","offsets":[{"topic":"t","partition":0}]}' \
	    '{"a":1}' '{"@ds":"revoke","offsets":[{"topic":"t","partition":0}]}' \
	    '{"a":2}' '{"@ds":"assign","offsets":[{"topic":"t","partition":0,"from":5}],"group":"x"}' \
	    '{"@ds":"revoke","offsets":[]}' '{"a":3}' >in
	run -0 --separate-stderr ds-batch -i 1h in
	# no marker for the empty batch before the first assign, nor between
	# the last two records
	[ "$(printf '%s\n' "$output" | jq -r 'if ."@ds" == "batch" then "B\(.count)" elif ."@ds" then ."@ds" else .a end' | tr '\n' ' ')" = \
	    "assign 1 B1 revoke 2 B1 assign revoke 3 B1 " ]
	# passed on as they came
	[ "$(printf '%s\n' "$output" | grep -c -F '{"@ds":"assign","offsets":[{"topic":"t","partition":0,"from":5}],"group":"x"}')" -eq 1 ]
}
