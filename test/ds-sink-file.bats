#!/usr/bin/env bats
# ds-sink-file: Spark's saveAsTextFiles -- one file per batch named
# PREFIX-TIME_MS[.SUFFIX], written atomically; stdout has the markers.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
}

@test "ds-sink-file -h prints the usage to stdout and exits 0" {
	shows_usage ds-sink-file "[--skip-bad]"
}

@test "ds-sink-file -V prints the version" {
	run ds-sink-file -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ds-sink-file "[0-9]* ]]
}

@test "ds-sink-file: usage errors exit 2" {
	for a in "" "--bogus x"; do
		run --separate-stderr ds-sink-file $a </dev/null
		[ "$status" -eq 2 ] || { echo "'$a': $status"; return 1; }
		[[ "$stderr" == *"usage: ds-sink-file"* ]]
	done
}

@test "ds-sink-file: one file per batch with its records, markers on stdout" {
	python3 -c '
for i in range(50):
    print("{\"ts\":%d,\"i\":%d}" % (1000 + i * 97, i))' >in
	ds-batch -T ts -i 1s <in >stream
	run --separate-stderr ds-sink-file out/batch json <stream
	[ "$status" -eq 0 ]
	# stdout: exactly the markers
	[ "$output" = "$(grep '^{"@ds":' stream)" ]
	# reference: python splits the stream at its markers
	python3 - stream <<'EOF2'
import json, os, sys
recs = []
names = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "@ds" in o:
        name = "out/batch-%d.json" % o["time"]
        names.append(name)
        with open(name) as f:
            assert f.read() == "".join(recs), name
        recs = []
    else:
        recs.append(line)
assert sorted(os.listdir("out")) == sorted(os.path.basename(n) for n in names)
EOF2
}

@test "ds-sink-file: empty batches still get a file, no suffix gives no dot" {
	M='{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":0,"offsets":[]}'
	dsrun "$M\n" ds-sink-file p
	[ "$status" -eq 0 ]
	[ -f p-2000 ]
	[ ! -s p-2000 ]
	[ "$(ls p*)" = p-2000 ]
}

@test "ds-sink-file: plain input writes one file named by the time at the end" {
	t0=$(date +%s%3N)
	dsrun '{"a":1}\n{"a":2}\n' ds-sink-file d/plain txt
	t1=$(date +%s%3N)
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	f=$(ls d)
	[[ "$f" =~ ^plain-([0-9]+)\.txt$ ]]
	t=${BASH_REMATCH[1]}
	[ "$t" -ge "$t0" ]
	[ "$t" -le "$t1" ]
	[ "$(cat "d/$f")" = '{"a":1}
{"a":2}' ]
}

@test "ds-sink-file: records after the last marker get a final batch and file" {
	M='{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":1,"offsets":[]}'
	dsrun "{\"a\":1}\n$M\n{\"a\":2}\n" ds-sink-file p
	[ "$status" -eq 0 ]
	[ "$(cat p-2000)" = '{"a":1}' ]
	[ "$(cat p-4000)" = '{"a":2}' ]
	printf '%s\n' "$output" | tail -1 | jq -e '.seq == 2 and .time == 4000 and .final == true and .count == 1'
}

@test "ds-sink-file: a batch's file appears only when its marker comes" {
	# more records than the sink buffers (256 KiB): once it has written
	# some to its temporary file, it has read them, and still no batch
	# file may be there
	seq 4000 | awk '{ printf "{\"a\":%d,\"pad\":\"%080d\"}\n", $1, 0 }' >recs
	fifo_job out timeout 20 ds-sink-file p
	cat recs >&7
	wait_for 10 bash -c 'test -s p.tmp.*'
	[ -z "$(ls p-* 2>/dev/null)" ]
	echo '{"@ds":"batch","seq":1,"time":5000,"interval":1000,"count":4000,"offsets":[]}' >&7
	wait_for 10 grep -q '"seq":1' out
	# the marker leaves only after the file is complete
	cmp recs p-5000
	exec 7>&-
	wait "$pid"
	# no temporary file left behind
	[ "$(ls)" = "$(printf 'in.fifo\nout\np-5000\nrecs')" ]
}

@test "ds-sink-file: a replayed batch replaces its file with the same content" {
	printf '{"a":1}\n{"@ds":"batch","seq":1,"time":7000,"interval":1000,"count":1,"offsets":[]}\n' >s
	ds-sink-file p j <s >/dev/null
	ds-sink-file p j <s >/dev/null
	[ "$(ls)" = "$(printf 'p-7000.j\ns')" ]
	[ "$(cat p-7000.j)" = '{"a":1}' ]
}

@test "ds-sink-file: big batches are streamed to the file, not held" {
	seq 1 200000 | awk '{ printf "{\"n\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", $1 }' >in
	ds-batch -i 1h -n 150000 <in | ds-sink-file big >out
	[ "$(cat big-* | wc -l)" = 200000 ]
	cat big-* | cmp - in
}

@test "ds-sink-file: FILE operands after SUFFIX are read in order" {
	M='{"@ds":"batch","seq":1,"time":5000,"interval":1000,"count":2}'
	printf '{"a":1}\n' >f1
	printf '{"a":2}\n%s\n' "$M" >f2
	run --separate-stderr ds-sink-file p json f1 f2 </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "$M" ]
	[ "$(cat p-5000.json)" = "$(printf '{"a":1}\n{"a":2}')" ]
	# an empty SUFFIX is none, and a missing file names itself
	run --separate-stderr ds-sink-file q "" f2 nosuch
	[ "$status" -eq 1 ]
	[ "$stderr" = "ds-sink-file: nosuch: No such file or directory" ]
	[ -f q-5000 ]
}

@test "ds-sink-file: errors: unwritable directory, bad line" {
	run --separate-stderr bash -c 'echo "{\"a\":1}" | ds-sink-file /proc/nope/p'
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-sink-file: /proc/nope"* ]]
	dsrun '{"a":1}\n{bad\n' ds-sink-file p
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-sink-file: <stdin>:2: "* ]]
	dsrun '{"a":1}\n{bad\n' ds-sink-file --dead-letter dl q
	[ "$status" -eq 0 ]
	jq -e '.line == 2' dl
	[ "$(cat q-*)" = '{"a":1}' ]
}
