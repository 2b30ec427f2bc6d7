#!/usr/bin/env bats
# ds-each: any command on every batch (Spark's transform and foreachRDD),
# its failure semantics, and the --persist co-process protocol.

load helper
bats_require_minimum_version 1.5.0

export LC_ALL=C

# the test HTTP server ($pid) and the example job's process group ($job)
teardown() {
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
	[ -z "${job:-}" ] || kill -9 -- "-$job" 2>/dev/null || true
}

# Three batches of 4, 1 and 2 records (one repeated in batch 1).
three() {
	printf '%s\n' '{"w":"b"}' '{"w":"a"}' '{"w":"b"}' '{"w":"c"}' \
	    '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":4,"offsets":[]}' \
	    '{"w":"z"}' \
	    '{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}' \
	    '{"w":"y"}' '{"w":"x"}' \
	    '{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":2,"offsets":[]}'
}

# per_batch FILE CMD...: FILE's batches, each batch's records through CMD
# then its marker (the reference, built with the shell)
per_batch() {
	local f=$1
	shift
	python3 - "$f" "$@" <<'EOF'
import subprocess, sys
path, cmd = sys.argv[1], sys.argv[2:]
batch = []
out = sys.stdout.buffer
for line in open(path, "rb"):
    if line.startswith(b'{"@ds":"batch"'):
        out.write(subprocess.run(cmd, input=b"".join(batch),
            stdout=subprocess.PIPE, check=True).stdout)
        out.write(line)
        batch = []
    else:
        batch.append(line)
EOF
}

@test "ds-each -h prints the usage to stdout and exits 0" {
	shows_usage ds-each "[-hRV]"
}

@test "ds-each: usage errors exit 2" {
	for a in "" "-c true true" "--acks x cat" "-R --sink cat" \
	    "--retry -1 cat" "--timeout 0 cat" "--empty maybe cat" "--bogus cat"; do
		run --separate-stderr ds-each $a </dev/null
		[ "$status" -eq 2 ] || { echo "'$a': $status"; return 1; }
	done
}

@test "ds-each: ds-batch -i 1s | ds-each -- sort -u: each batch sorted and unique, then its marker, byte for byte" {
	# two bursts a second and more apart: at least two batches
	{
		printf '{"w":"%s"}\n' b a b c a
		sleep 1.3
		printf '{"w":"%s"}\n' z y z
	} | ds-batch -i 1s >stream
	ds-each -- sort -u <stream >got
	[ "$(grep -c '^{"@ds":"batch"' stream)" -ge 2 ]
	per_batch stream sort -u >want
	cmp want got
}

@test "ds-each: transform over count batches; markers unchanged" {
	three >stream
	run --separate-stderr ds-each -- sort -u <stream
	[ "$status" -eq 0 ]
	per_batch stream sort -u >want
	[ "$output" = "$(cat want)" ]
	[ -z "$stderr" ]
}

@test "ds-each: plain input (no markers) is one run, plain output" {
	dsrun '{"w":"b"}\n{"w":"a"}\n{"w":"b"}\n' ds-each -- sort -u
	expect 0 '{"w":"a"}
{"w":"b"}'
}

@test "ds-each: DS_SEQ, DS_TIME, DS_INTERVAL, DS_STREAM, DS_COUNT and the window in the environment" {
	dsrun '{"a":1}\n{"a":2}\n{"@ds":"batch","seq":7,"time":9000,"interval":2000,"count":2,"offsets":[],"stream":"s1","window":{"start":3000,"end":9000}}\n' \
	    ds-each -c 'cat >/dev/null; printf "{\"seq\":%s,\"time\":%s,\"interval\":%s,\"stream\":\"%s\",\"count\":%s,\"w\":[%s,%s]}\n" \
	    "$DS_SEQ" "$DS_TIME" "$DS_INTERVAL" "$DS_STREAM" "$DS_COUNT" "$DS_WINDOW_START" "$DS_WINDOW_END"'
	expect 0 '{"seq":7,"time":9000,"interval":2000,"stream":"s1","count":2,"w":[3000,9000]}
{"@ds":"batch","seq":7,"time":9000,"interval":2000,"count":2,"offsets":[],"stream":"s1","window":{"start":3000,"end":9000}}'
}

@test "ds-each: empty batches skip the command by default, --empty run runs it" {
	in='{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":0,"offsets":[]}\n{"a":1}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}\n'
	dsrun "$in" ds-each -c 'echo "{\"ran\":$DS_SEQ}"'
	expect 0 '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":0,"offsets":[]}
{"ran":2}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}'
	dsrun "$in" ds-each --empty run -c 'echo "{\"ran\":$DS_SEQ,\"n\":$(wc -l)}"'
	expect 0 '{"ran":1,"n":0}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":0,"offsets":[]}
{"ran":2,"n":1}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}'
}

@test "ds-each: other control records pass through" {
	dsrun '{"@ds":"assign","offsets":[]}\n{"a":1}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[]}\n' ds-each cat
	expect 0 '{"@ds":"assign","offsets":[]}
{"a":1}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[]}'
}

@test "ds-each: a failing command stops before its batch's marker, with the seq and its stderr" {
	three >stream
	run --separate-stderr ds-each -c 'if [ "$DS_SEQ" = 2 ]; then echo "no luck" >&2; exit 3; fi; cat' <stream
	[ "$status" -eq 1 ]
	# batch 1 and its marker, nothing of batch 2
	[ "$output" = "$(sed -n 1,5p stream)" ]
	[[ "$stderr" == *"ds-each: batch 2: no luck"* ]]
	[[ "$stderr" == *"ds-each: batch 2: sh -c: exit status 3 (stderr: no luck)"* ]]
}

@test "ds-each: a command killed by a signal, or one that cannot run, fails its batch" {
	three >stream
	run --separate-stderr ds-each -c 'kill -9 $$' <stream
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"batch 1: sh -c: killed by signal 9"* ]]
	run --separate-stderr ds-each -- /nonexistent/cmd <stream
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"batch 1: /nonexistent/cmd: exit status 127"* ]]
}

@test "ds-each: --timeout kills a command that takes too long" {
	three >stream
	run --separate-stderr ds-each --timeout 300ms -c 'exec sleep 30' <stream
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"batch 1: sh -c: timed out after 300ms"* ]]
}

@test "ds-each: --skip-failed forwards the marker with the batch's records in bad" {
	three >stream
	run --separate-stderr ds-each --skip-failed -c '[ "$DS_SEQ" != 1 ] || exit 1; cat' <stream
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | sed -n 1p)" = '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":4,"offsets":[],"bad":4}' ]
	printf '%s\n' "$output" | jq -c 'if ."@ds" then [.seq, .bad] else . end' >got
	printf '%s\n' '[1,4]' '{"w":"z"}' '[2,null]' '{"w":"y"}' '{"w":"x"}' '[3,null]' | diff - got
	[[ "$stderr" == *"batch 1: skipped, 4 record(s) counted as bad"* ]]
}

@test "ds-each: --retry N --backoff runs a failing batch again, output of failed runs dropped" {
	three >stream
	run --separate-stderr ds-each --retry 3 --backoff 10ms -c '
	    n=$(cat tries 2>/dev/null || echo 0); echo $((n + 1)) >tries
	    echo "{\"try\":$n}"
	    [ "$n" -ge 2 ] || exit 1
	    cat' <stream
	[ "$status" -eq 0 ]
	# batch 1 succeeded on its third run; then every run succeeds
	printf '%s\n' "$output" | jq -c 'if ."@ds" then .seq else . end' >got
	printf '%s\n' '{"try":2}' '{"w":"b"}' '{"w":"a"}' '{"w":"b"}' '{"w":"c"}' 1 \
	    '{"try":3}' '{"w":"z"}' 2 '{"try":4}' '{"w":"y"}' '{"w":"x"}' 3 | diff - got
	[[ "$stderr" == *"batch 1: retry 1 of 3 in 10 ms"* ]]
	[[ "$stderr" == *"batch 1: retry 2 of 3 in 20 ms"* ]]
	[[ "$stderr" != *"retry 3 of 3"* ]]
	# retries used up: it fails
	rm tries
	run --separate-stderr ds-each --retry 1 --backoff 10ms -c 'exit 1' <stream
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "ds-each: output that is not JSON is a bad record under the usual policy" {
	three >stream
	run --separate-stderr ds-each -c 'cat; echo "not json"' <stream
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-each: <sh -c output, batch 1>:5: invalid JSON"* ]]
	[ "$output" = "$(sed -n 1,4p stream)" ]
	run --separate-stderr ds-each --skip-bad -c 'cat; echo "not json"' <stream
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(."@ds") | .bad')" = "$(printf '1\n1\n1')" ]
	run --separate-stderr ds-each --dead-letter dl -c 'echo "{\"@ds\":\"batch\",\"seq\":9}"; echo "{ \"a\" : 1 }"' <stream
	[ "$status" -eq 0 ]
	# a control record from the command is forged; white space compacted
	[ "$(printf '%s\n' "$output" | sed -n 1p)" = '{"a":1}' ]
	[ "$(jq -r .error dl | sort -u)" = 'forged control record ("@ds" key in data)' ]
	[ "$(jq -r .source dl | head -1)" = '<sh -c output, batch 1>' ]
}

@test "ds-each: -R takes the command's output lines as strings" {
	dsrun '{"w":"b"}\n{"w":"a"}\n' ds-each -R -c 'wc -l; echo "x \"y\""'
	expect 0 '"2"
"x \"y\""'
}

@test "ds-each: bad input records follow the policy" {
	dsrun '{"a":1}\nnope\n' ds-each cat
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-each: <stdin>:2: invalid JSON"* ]]
	dsrun '{"a":1}\nnope\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}\n' ds-each --skip-bad cat
	expect 0 '{"a":1}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[],"bad":1}'
}

@test "ds-each: --sink: only markers go on, each after the command succeeded; --acks gets them too" {
	three >stream
	run --separate-stderr ds-each --sink --acks acks -c 'cat >"out.$DS_SEQ"; echo "wrote $DS_SEQ"' <stream
	[ "$status" -eq 0 ]
	[ "$output" = "$(grep '^{"@ds"' stream)" ]
	diff <(grep '^{"@ds"' stream) acks
	# the command's stdout is no record: it goes to stderr, prefixed
	[[ "$stderr" == *"ds-each: batch 2: wrote 2"* ]]
	cat out.1 out.2 out.3 | diff - <(grep -v '^{"@ds"' stream)
	# a failed sink command: no marker, no ack for its batch
	rm acks
	run --separate-stderr ds-each --sink --acks acks -c '[ "$DS_SEQ" != 2 ]' <stream
	[ "$status" -eq 1 ]
	[ "$output" = "$(sed -n 5p stream)" ]
	[ "$(cat acks)" = "$(sed -n 5p stream)" ]
}

# a co-process that follows the delimiter protocol: each record wrapped,
# the marker line echoed
COPROC='while IFS= read -r l; do case $l in "{\"@ds\":"*) echo "$l";; *) echo "{\"pid\":$$,\"r\":$l}";; esac; done'

@test "ds-each --persist: one process for every batch, each batch ended by its echoed marker" {
	three >stream
	run --separate-stderr ds-each --persist -c "$COPROC" <stream
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.pid) | .pid' | sort -u | wc -l)" -eq 1 ]
	printf '%s\n' "$output" | jq -c 'if .pid then .r else . end' | diff stream -
	# a ds tool follows the protocol as it is
	run --separate-stderr ds-each --persist -- ds-map '.w' <stream
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -c 'if type == "object" then .seq else . end' | tr '\n' ' ' >got
	[ "$(cat got)" = '"b" "a" "b" "c" 1 "z" 2 "y" "x" 3 ' ]
}

@test "ds-each --persist: a co-process that dies or echoes the wrong marker fails its batch; --retry restarts it" {
	three >stream
	run --separate-stderr ds-each --persist -- head -2 <stream
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"batch 1: head: ended without echoing the marker"* ]]
	run --separate-stderr ds-each --persist -c 'read -r l; echo "{\"@ds\":\"batch\",\"seq\":5}"; cat' <stream
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"batch 1: sh -c: echoed the marker of batch 5 in batch 1"* ]]
	run --separate-stderr ds-each --persist --timeout 300ms -c 'exec sleep 30' <stream
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"batch 1: sh -c: timed out after 300ms"* ]]
	# dies in its first batch once, then works
	run --separate-stderr ds-each --persist --retry 1 --backoff 10ms -c '
	    if [ ! -e died ]; then touch died; exit 4; fi; '"$COPROC" <stream
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"batch 1: sh -c: exit status 4"* ]]
	printf '%s\n' "$output" | jq -c 'if .pid then .r else . end' | diff stream -
	# dies while its batch (more than a pipe holds) is being written: the
	# end of its input comes first or its exit, the report is the same
	{ seq -f '{"n":%g}' 20000; three | tail -1; } >big
	run --separate-stderr ds-each --persist -c 'read -r l; exit 4' <big
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"batch 3: sh -c: exit status 4"* ]]
}

@test "ds-each --persist: plain input, and output after the last marker" {
	dsrun '{"w":"b"}\n{"w":"a"}\n' ds-each --persist -- sort
	expect 0 '{"w":"a"}
{"w":"b"}'
	dsrun '{"w":"b"}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[]}\n' \
	    ds-each --persist -c "$COPROC"'; echo "{\"bye\":1}"'
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | tail -1)" = '{"bye":1}' ]
}

# --- the examples ---------------------------------------------------------

@test "ds-each example: top 3 brands per category per batch with sort and awk" {
	# brand b of category c appears (b+1)*(c+2) times, plus ties
	brand_sales 5 12 >sales
	brand_top3 sales >want
	# one batch: the whole input within the interval
	DS_OUT=cat INTERVAL=1h "$DS_TOP/examples/top3-each.sh" - <sales >out
	grep -v '^{"@ds"' out | diff want -
	[ "$(grep -c '^{"@ds":"batch"' out)" -eq 1 ]
}

# post FAIL RETRY: examples/http-post.sh on ./in, to the test server
# failing its first FAIL requests; the server's files in srv/
post() {
	mkdir srv
	FAIL=$1 "$DS_TOP/test/http-sink.py" srv &
	pid=$!
	wait_for 20 test -e srv/port
	URL="http://127.0.0.1:$(cat srv/port)/batches" DS_OUT=cat \
	    INTERVAL=1h RETRY=$2 run --separate-stderr "$DS_TOP/examples/http-post.sh" <in
	kill "$pid"
	wait "$pid" || true
}

@test "ds-each example: each batch POSTed with curl to a local server, retried after HTTP errors" {
	python3 -c '
for i in range(3000):
    print("{\"i\":%d}" % i)' >in
	post 2 3
	[ "$status" -eq 0 ]
	# the server answered 500 twice: two retries, then the batch
	[ "$(grep -c 'retry' <<<"$stderr")" -eq 2 ]
	[ "$(printf '%s\n' "$output" | jq -c '[.seq, .count]')" = '[1,3000]' ]
	cmp in srv/1.ndjson
}

@test "ds-each example: HTTP errors beyond the retries stop the job before the marker" {
	printf '{"i":1}\n' >in
	post 9 1
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"batch 1: curl: (22) The requested URL returned error: 500"* ]]
	[ ! -e srv/1.ndjson ]
}

# sqlite_job: examples/sqlite-upsert.sh in its own process group, pid in $job
sqlite_job() {
	setsid env TOPIC="$topic" GROUP="$group" DB="$T/hits.db" \
	    STATE="$T/state" BROKERS="$DS_TEST_BROKERS" INTERVAL=300ms \
	    AT_END=0 RATE="${RATE:-}" DS_OUT=cat SOURCE_OPTS="$SOURCE_OPTS" \
	    timeout 120 "$DS_TOP/examples/sqlite-upsert.sh" >>out 2>>err &
	job=$!
}

@test "ds-each example: the SQLite upsert killed -9 at random stages and moments equals the records, once each" {
	need_kafka
	topic=$(uniq_name access) group=g$topic
	python3 -c '
import json, random
random.seed(11)
for i in range(500):
    print(json.dumps({"id": "r%d" % i, "user": "u%d" % random.randrange(9),
        "bytes": random.randrange(1, 10**6)}, separators=(",", ":")))' >data
	ds-kafka-cat -P -b "$DS_TEST_BROKERS" -t "$topic" --key-field user <data
	SOURCE_OPTS="-X group.instance.id=$group-1 -X session.timeout.ms=6000"
	# a slow sqlite3, so that most kills land while a batch is written
	mkdir bin
	printf '#!/bin/sh\nsleep 0.2\n%s "$@" || exit\nsleep 0.2\n' \
	    "$(command -v sqlite3)" >bin/sqlite3
	chmod +x bin/sqlite3
	PATH=$T/bin:$PATH
	stages=(ds-kafka-cat ds-batch ds-map ds-each sqlite3)
	kills=0
	for round in 1 2 3 4 5; do
		# 15 records/s a partition: every round finds records; the
		# kill comes at a random moment after a batch was written
		RATE=15 kill_mid_batch sqlite_job 0.8 "${stages[@]}"
		if [ -n "$victim" ]; then
			kills=$((kills + 1))
			echo "round $round: killed $victim" >>kills
		fi
		# then the rest of the pipeline, a moment later
		kill -9 -- "-$job" 2>/dev/null || true
		reap "$job" 30
	done
	# undisturbed until the acks committed the whole topic
	sqlite_job
	within 90 drained "$DS_TEST_BROKERS" 3
	pkill -TERM -g "$job" -x ds-kafka-cat
	reap "$job" 30
	cat kills >&3 || true
	[ "$kills" -ge 2 ]
	# the independent reference: every record once, as produced
	python3 -c '
import json
for l in sorted(open("data"), key=lambda l: json.loads(l)["id"]):
    r = json.loads(l)
    print("%s|%s|%d" % (r["id"], r["user"], r["bytes"]))' >want
	sqlite3 hits.db 'SELECT id, user, bytes FROM hits ORDER BY id' >got
	diff want got
}
