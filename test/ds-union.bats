#!/usr/bin/env bats
# ds-union: Spark's union of two batched streams.  Expected outputs are
# worked out by hand in each test from Spark's documented semantics
# (batch N of a.union(b) holds the records of batch N of a and of b),
# never taken from the tool itself.

bats_require_minimum_version 1.5.0
load helper

M1='{"@ds":"batch","seq":1,"time":1000,"interval":1000'

# Records of a batch in sorted order: the union interleaves its inputs'
# records as they arrive, and a batch is a set, as Spark's RDD union is.
bybatch() {
	python3 -c '
import sys
cur = []
for l in sys.stdin:
    if l.startswith("{\"@ds\":"):
        sys.stdout.writelines(sorted(cur) + [l])
        cur = []
    else:
        cur.append(l)
sys.stdout.writelines(sorted(cur))'
}
M2='{"@ds":"batch","seq":2,"time":2000,"interval":1000'

@test "ds-union -h, -V and usage errors" {
	run ds-union -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ds-union [-hV] "* ]]
	run ds-union -V
	[[ "$output" == "ds-union "* ]]
	run --separate-stderr ds-union a.ndjson
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"two or more inputs"* ]]
	run --separate-stderr ds-union --bogus a b
	[ "$status" -eq 2 ]
}

@test "d.union(d.map(_ + 4)) through FIFOs: batch N holds batch N of both, as in Spark" {
	# by hand: 1 s batches at 1000..4000 hold v=1..4 in d and v+4 in
	# the mapped branch; the union's batches are {1,5} {2,6} {3,7} {4,8}
	for i in 1 2 3 4; do echo "{\"t\":$((i * 1000 - 500)),\"v\":$i}"; done >in.ndjson
	mkfifo a.fifo b.fifo
	timeout 20 sh -c 'ds-batch -T t -i 1s in.ndjson | tee b.fifo |
	    ds-map "{v}" >a.fifo' &
	# wait for this job only: a bare wait also waits for every other
	# child of the test's shell, bats' BATS_TEST_TIMEOUT watchdog too
	pid=$!
	timeout 20 bash -c 'ds-union a.fifo <(ds-map "{v: (.v + 4)}" <b.fifo)' >out
	wait "$pid"
	output=$(bybatch <out) status=0
	expect 0 '{"v":1}
{"v":5}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}
{"v":2}
{"v":6}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":2,"offsets":[]}
{"v":3}
{"v":7}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":2,"offsets":[]}
{"v":4}
{"v":8}
{"@ds":"batch","seq":4,"time":4000,"interval":1000,"count":2,"offsets":[]}'
	# counted together downstream (countByValue on the union)
	ds-batch -T t -i 2s in.ndjson >a
	ds-batch -T t -i 2s in.ndjson | ds-map '{v: (.v % 2)}' >b
	output=$(ds-union a b | ds-reduce -k v -a count | bybatch) status=0
	# 2 s batches: 2000 holds v=1,2 in a and 1,0 in b; 4000 holds 3,4
	# in a and 1,0 in b
	expect 0 '{"v":0,"count":1}
{"v":1,"count":2}
{"v":2,"count":1}
{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":4,"offsets":[]}
{"v":0,"count":1}
{"v":1,"count":1}
{"v":3,"count":1}
{"v":4,"count":1}
{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":4,"offsets":[]}'
}

@test "markers are merged: counts, offsets, bad, created, stream, final" {
	printf '%s\n' '{"a":1}' \
	    "$M1"',"count":1,"offsets":[{"topic":"x","partition":0,"from":0,"until":1}],"created":5,"stream":"s1"}' \
	    '{"a":2}' \
	    "$M2"',"count":1,"offsets":[{"topic":"x","partition":0,"from":1,"until":2}],"created":7,"bad":1,"stream":"s1"}' >a
	printf '%s\n' '{"b":1}' '{"b":2}' \
	    "$M1"',"count":2,"offsets":[{"topic":"y","partition":1,"from":5,"until":7}],"created":6,"stream":"s2"}' \
	    '{"@ds":"assign","offsets":[]}' \
	    "$M2"',"count":0,"offsets":[],"created":6,"bad":2,"stream":"s2"}' '{"b":3}' >b
	run --separate-stderr ds-union a b
	# seq and time as the inputs'; counts and bad added; ranges merged;
	# the latest created; both streams; the record after b's last
	# marker closes a final batch (ds(7)); other control records pass
	expect 0 '{"a":1}
{"b":1}
{"b":2}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[{"topic":"x","partition":0,"from":0,"until":1},{"topic":"y","partition":1,"from":5,"until":7}],"stream":"s1+s2"}
{"a":2}
{"@ds":"assign","offsets":[]}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[{"topic":"x","partition":0,"from":1,"until":2}],"bad":3,"stream":"s1+s2"}
{"b":3}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":1,"offsets":[],"final":true}'
	[[ "${lines[3]}" == *'"created":6,'* ]]
	[[ "${lines[6]}" == *'"created":7,'* ]]
}

@test "commit: each partition up to what every input that had it says is safe" {
	# a: a stateful stage checkpointed x/0 up to 1 of 3 and has not
	# checkpointed x/1 yet (absent from its commit: not safe);
	# b: no stateful stage, it delivered x/0 to 3 and y/0 to 9
	printf '%s\n' \
	    "$M1"',"count":0,"offsets":[{"topic":"x","partition":0,"from":0,"until":3},{"topic":"x","partition":1,"from":0,"until":4}],"commit":[{"topic":"x","partition":0,"from":0,"until":1}]}' >a
	printf '%s\n' \
	    "$M1"',"count":0,"offsets":[{"topic":"x","partition":0,"from":0,"until":3},{"topic":"y","partition":0,"from":7,"until":9}]}' >b
	run --separate-stderr ds-union a b
	# x/0: min(1, 3) = 1; x/1: not safe in a; y/0: only b had it: 9
	expect 0 "$M1"',"count":0,"offsets":[{"topic":"x","partition":0,"from":0,"until":3},{"topic":"x","partition":1,"from":0,"until":4},{"topic":"y","partition":0,"from":7,"until":9}],"commit":[{"topic":"x","partition":0,"from":0,"until":1},{"topic":"y","partition":0,"from":7,"until":9}]}'
	# no input with a commit: none added (the offsets are what is safe)
	run --separate-stderr ds-union b b
	expect 0 "$M1"',"count":0,"offsets":[{"topic":"x","partition":0,"from":0,"until":3},{"topic":"y","partition":0,"from":7,"until":9}]}'
}

@test "inputs whose batch times disagree are an error naming both" {
	printf '%s\n' '{"a":1}' "$M1"',"count":1,"offsets":[]}' >a
	printf '%s\n' '{"b":1}' "$M2"',"count":1,"offsets":[]}' >b
	run --separate-stderr ds-union a b
	[ "$status" -eq 1 ]
	[ "$stderr" = "ds-union: b:2: batch 2 ends at 2000 (interval 1000 ms), but batch 1 of a:2 at 1000 (interval 1000 ms): the inputs must be batched alike" ]
	printf '%s\n' '{"b":1}' '{"@ds":"batch","seq":1,"time":1000,"interval":500,"count":1,"offsets":[]}' >b
	run --separate-stderr ds-union a b
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"interval 500 ms"* ]]
}

@test "an input that ends leaves the union; bad lines follow the shared policy" {
	printf '%s\n' '{"a":1}' "$M1"',"count":1,"offsets":[]}' >a
	printf '%s\n' "$M1"',"count":0,"offsets":[]}' '{"b":2}' "$M2"',"count":1,"offsets":[]}' >b
	run --separate-stderr ds-union a b
	expect 0 '{"a":1}
'"$M1"',"count":1,"offsets":[]}
{"b":2}
'"$M2"',"count":1,"offsets":[]}'
	printf '%s\n' '{"a":1}' '{oops' "$M1"',"count":2,"offsets":[]}' >a
	run --separate-stderr ds-union a b
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-union: a:2: "* ]]
	run --separate-stderr ds-union --skip-bad a b
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "$M1"',"count":2,"offsets":[],"bad":1}' ]
}
