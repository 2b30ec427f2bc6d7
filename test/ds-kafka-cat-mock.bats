#!/usr/bin/env bats
# ds-kafka-cat against librdkafka's mock cluster (ds-kafka-cat -M 3):
# offsets, groups, keys seen by kcat, rate limits, ack-mode commits and
# faults injected on cue (request errors, broker down/up, leader moves).
# Expected values come from python3/jq references, kcat is the peer.

load helper
bats_require_minimum_version 1.5.0

# one mock cluster for the file; commands go to its stdin FIFO, which a
# holder process keeps open so the mock never sees end of input
setup_file() {
	export MD=$BATS_FILE_TMPDIR
	mkfifo "$MD/cmd"
	timeout 900 sleep 900 >"$MD/cmd" &
	echo $! >"$MD/holder.pid"
	timeout 900 ds-kafka-cat -M 3 <"$MD/cmd" >"$MD/out" 2>"$MD/err" &
	echo $! >"$MD/mock.pid"
	for i in $(seq 100); do
		[ -s "$MD/out" ] && break
		sleep 0.1
	done
	B=$(head -1 "$MD/out")
	export B
	[ -n "$B" ]
}

teardown_file() {
	kill "$(cat "$MD/mock.pid")" 2>/dev/null
	kill "$(cat "$MD/holder.pid")" 2>/dev/null
	true
}

teardown() {
	killtree ${pids:-}
	# a test that took a broker down brings it up for the next ones
	[ -z "${down:-}" ] || mock up "$down"
}

# mock CMD...: send a command to the mock cluster and wait for its "ok"
mock() {
	echo "$*" >"$MD/cmd"
	wait_for 10 grep -qxF "ok $*" "$MD/out"
}

# the [partition, offset, i] triples a produce of gen N FROM in input
# order gives, each partition's offsets counting from base
expected() {
	python3 - "$1" "${2:-0}" <<'EOF'
import sys
n, start = int(sys.argv[1]), int(sys.argv[2])
nxt = {}
for i in range(start, start + n):
    p = i % 3
    o = nxt.get(p, start // 3 + (1 if p < start % 3 else 0))
    nxt[p] = o + 1
    print("[%d,%d,%d]" % (p, o, i))
EOF
}

# nlines_ge FILE N: FILE has at least N lines (for wait_for)
nlines_ge() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

G="-X session.timeout.ms=6000"

@test "ds-kafka-cat: -h prints the usage, bad usage exits 2" {
	run ds-kafka-cat -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ds-kafka-cat [-C] -b BROKERS -t TOPIC"* ]]
	run ds-kafka-cat -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ds-kafka-cat 0.1.0" ]]
	for args in "-Q" "-t x" "-b $B" "-b $B -t x --value nope" \
	    "-b $B -t x --commit maybe" "-b $B -t x --acks a" \
	    "-b $B -t x -c -1" "-b $B -P" "-b $B -t ^re" \
	    "-b $B -t x -G g -o 5" "-b $B -t x -X novalue" "-M 0" \
	    "-P -b $B -t x -G g" "-b $B -t x --transactional-id i" \
	    "-L -b $B --transactional-id i"; do
		run -2 ds-kafka-cat $args
	done
}

@test "mock: 3000 messages in 3 partitions come back with contiguous offsets and parsed values" {
	t=$(uniq_name m3000)
	mock topic "$t" 3
	gen 3000 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -t "$t" -e
	[ "${#lines[@]}" -eq 3000 ]
	got=$(printf '%s\n' "$output" | jq -c '[.partition,.offset,.value.i]' | sort)
	want=$(expected 3000 | sort)
	[ "$got" = "$want" ]
	# every envelope has the documented fields in order, and value_text
	# (json.dumps writes white space) after them
	printf '%s\n' "$output" | head -1 | jq -e 'keys_unsorted == ["topic","partition","offset","ts","key","headers","value","value_text"]'
	bad=$(printf '%s\n' "$output" | jq -c --arg t "$t" 'select(.topic != $t or .key != null or .value.k != ("k" + (.value.i|tostring)))' | wc -l)
	[ "$bad" -eq 0 ]
}

@test "mock: a group consumes all, and its next run gets exactly the 500 produced after" {
	t=$(uniq_name mgrp) g=$(uniq_name g)
	mock topic "$t" 3
	gen 3000 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" -e $G
	[ "${#lines[@]}" -eq 3000 ]
	gen 500 3000 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" -e $G
	got=$(printf '%s\n' "$output" | jq -c '[.partition,.offset,.value.i]' | sort)
	want=$(expected 500 3000 | sort)
	[ "$got" = "$want" ]
	# --lag agrees: everything committed, nothing left
	run -0 --separate-stderr ds-kafka-cat --lag -b "$B" -G "$g" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -s 'map(.lag) | add')" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -s 'map(.committed) | add')" -eq 3500 ]
}

@test "mock: -P --key-field keys are the keys kcat sees" {
	t=$(uniq_name mkey)
	mock topic "$t" 3
	gen 300 | ds-kafka-cat -P -b "$B" -t "$t" --key-field k
	got=$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%k\n' | sort)
	want=$(gen 300 | jq -r .k | sort)
	[ "$got" = "$want" ]
	# and each key's payload is its whole record
	got=$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%k %s\n' |
	    jq -Rr 'split(" ") | (.[0]) + " " + (.[1:] | join(" ") | fromjson | .k)' |
	    awk '$1 != $2' | wc -l)
	[ "$got" -eq 0 ]
}

@test "mock: request errors on Fetch, ListOffsets and OffsetCommit lose nothing and duplicate nothing" {
	t=$(uniq_name merr) g=$(uniq_name g)
	mock topic "$t" 3
	gen 3000 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	mock error Fetch NOT_LEADER_FOR_PARTITION TRANSPORT UNKNOWN_TOPIC_OR_PART NOT_LEADER_FOR_PARTITION
	mock error ListOffsets NOT_LEADER_FOR_PARTITION
	mock error OffsetCommit COORDINATOR_NOT_AVAILABLE
	run -0 --separate-stderr timeout 90 ds-kafka-cat -b "$B" -G "$g" -t "$t" -e $G
	got=$(printf '%s\n' "$output" | jq -c '[.partition,.offset,.value.i]' | sort)
	[ "$got" = "$(expected 3000 | sort)" ]
	mock clear Fetch
	mock clear ListOffsets
	mock clear OffsetCommit
}

@test "mock: a broker down and up and a leader move mid-stream: every record exactly once" {
	t=$(uniq_name mdown) g=$(uniq_name g)
	mock topic "$t" 3
	gen 1500 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	timeout 120 ds-kafka-cat -b "$B" -G "$g" -t "$t" -c 3000 $G >out 2>err &
	cpid=$!
	pids=$cpid
	wait_for 30 nlines_ge out 1500
	mock down 2
	mock leader "$t" 0 3
	gen 1500 1500 | timeout 60 ds-kafka-cat -P -b "$B" -t "$t" \
	    --partition-field p -X message.timeout.ms=50000 &
	ppid=$!
	pids="$pids $ppid"
	mock down 3
	mock up 2
	mock up 3
	wait "$ppid"
	# (when it times out: how far each partition got, and why)
	wait_for 60 nlines_ge out 3000 ||
	    { jq -r .partition out | sort | uniq -c; tail -20 err; false; }
	wait "$cpid"
	got=$(jq -c '.value.i' out | sort -n | uniq | wc -l)
	[ "$got" -eq 3000 ]
	[ "$(wc -l <out)" -eq 3000 ]
	[ "$(jq -c '[.partition,.offset]' out | sort | uniq -d | wc -l)" -eq 0 ]
}

@test "mock: --max-rate-per-partition spreads a backlog (records/s per partition within bounds)" {
	t=$(uniq_name mrate)
	mock topic "$t" 3
	gen 600 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	start=$(date +%s%N)
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -t "$t" -e --max-rate-per-partition 100
	end=$(date +%s%N)
	got=$(printf '%s\n' "$output" | jq -c '[.partition,.offset,.value.i]' | sort)
	[ "$got" = "$(expected 600 | sort)" ]
	# 200 records a partition at 100/s: about 2 s, so at most ~140/s
	rate=$(( 200 * 1000000000 / (end - start) ))
	echo "rate $rate records/s/partition" >&3
	# the limit is the upper bound; the lower one only rules out a
	# stall (a loaded machine is slower, never faster, than the limit)
	[ "$rate" -ge 10 ]
	[ "$rate" -le 140 ]
}

@test "mock: ack mode commits nothing before the ack, then exactly what the marker says" {
	t=$(uniq_name mack) g=$(uniq_name g)
	mock topic "$t" 3
	gen 300 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	: >acks
	timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" --acks acks $G >out 2>err &
	pids=$!
	wait_for 30 nlines_ge out 300
	run -0 --separate-stderr ds-kafka-cat --lag -b "$B" -G "$g" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -s 'map(select(.committed != null)) | length')" -eq 0 ]
	# a marker for partitions 0 and 1 up to offset 60 and 70
	echo '{"@ds":"batch","seq":1,"time":1,"interval":1,"count":130,"offsets":[{"topic":"'"$t"'","partition":0,"from":0,"until":60},{"topic":"'"$t"'","partition":1,"from":0,"until":70}]}' >>acks
	wait_for 20 sh -c "ds-kafka-cat --lag -b '$B' -G '$g' -t '$t' | jq -s -e 'any(.partition == 1 and .committed == 70)'"
	# "commit" wins over "offsets"
	echo '{"@ds":"batch","seq":2,"time":2,"interval":1,"count":1,"offsets":[{"topic":"'"$t"'","partition":2,"from":0,"until":100}],"commit":[{"topic":"'"$t"'","partition":2,"until":40}]}' >>acks
	wait_for 20 sh -c "ds-kafka-cat --lag -b '$B' -G '$g' -t '$t' | jq -s -e 'any(.partition == 2 and .committed == 40)'"
	kill -TERM "$pids"
	st=0
	wait "$pids" || st=$?
	[ "$st" -eq 0 ] || { cat err; false; }
	run -0 --separate-stderr ds-kafka-cat --lag -b "$B" -G "$g" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -c '[.partition,.committed]' | tr -d '\n')" = "[0,60][1,70][2,40]" ]
	# a restart resumes right after the acked offsets
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" -e --commit none $G
	got=$(printf '%s\n' "$output" | grep -v '^{"@ds"' | jq -c '[.partition,.offset]' | jq -s -c 'group_by(.[0]) | map([.[0][0], (map(.[1]) | min), length])')
	[ "$got" = "[[0,60,40],[1,70,30],[2,40,60]]" ]
}

@test "mock: ack mode reads on while the group coordinator is down (commits wait, records do not)" {
	t=$(uniq_name mcoord) g=$(uniq_name g)
	mock topic "$t" 3
	for p in 0 1 2; do
		mock leader "$t" "$p" 1
	done
	mock coordinator group "$g" 3
	gen 3000 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	: >acks
	# 100 records/s a partition: 10 s of records; a session longer than
	# the test, so the member keeps its partitions all along
	timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" --acks acks \
	    --max-rate-per-partition 100 -X session.timeout.ms=45000 >out 2>err &
	pids=$!
	wait_for 30 nlines_ge out 30
	down=3
	mock down 3
	# an ack now: its commit waits for a coordinator (librdkafka defers
	# it up to session.timeout.ms); the records must not wait with it
	echo '{"@ds":"batch","seq":1,"time":1,"interval":1,"count":3,"offsets":[{"topic":"'"$t"'","partition":0,"from":0,"until":1},{"topic":"'"$t"'","partition":1,"from":0,"until":1},{"topic":"'"$t"'","partition":2,"from":0,"until":1}]}' >>acks
	n=$(wc -l <out)
	wait_for 10 nlines_ge out $((n + 600))
	mock up 3
	down=
	# the commit is made once the coordinator is back
	wait_for 30 sh -c "ds-kafka-cat --lag -b '$B' -G '$g' -t '$t' | jq -s -e 'length == 3 and all(.committed == 1)'"
}

@test "mock: transactional -P rides out coordinator errors: every record once" {
	src=$(uniq_name mtsrc) dst=$(uniq_name mtdst) g=$(uniq_name g)
	mock topic "$src" 3
	mock topic "$dst" 3
	gen 900 | ds-kafka-cat -P -b "$B" -t "$src" --partition-field p
	mock error InitProducerId COORDINATOR_LOAD_IN_PROGRESS
	mock error AddPartitionsToTxn CONCURRENT_TRANSACTIONS COORDINATOR_NOT_AVAILABLE
	mock error TxnOffsetCommit COORDINATOR_LOAD_IN_PROGRESS
	mock error EndTxn NOT_COORDINATOR COORDINATOR_LOAD_IN_PROGRESS
	timeout 120 ds-kafka-cat -b "$B" -G "$g" -t "$src" --commit none -e $G |
	    ds-batch -n 100 | ds-map .value |
	    timeout 120 ds-kafka-cat -P -b "$B" -t "$dst" \
	    --transactional-id "tx$g" -G "$g" >out
	[ "$(jq -s 'map(.count) | add' out)" -eq 900 ]
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -t "$dst" -e
	[ "$(printf '%s\n' "$output" | jq -r .value.i | sort -n | tr '\n' ' ')" = \
	    "$(seq 0 899 | tr '\n' ' ')" ]
	# (the mock acknowledges TxnOffsetCommit but keeps no offsets: the
	# real-broker test in ds-kafka-cat.bats checks those)
	for api in InitProducerId AddPartitionsToTxn TxnOffsetCommit EndTxn; do
		mock clear "$api"
	done
}

@test "mock: SIGTERM flushes, commits what was written and exits 0" {
	t=$(uniq_name msig) g=$(uniq_name g)
	mock topic "$t" 3
	gen 900 | ds-kafka-cat -P -b "$B" -t "$t" --partition-field p
	timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" $G >out 2>err &
	pids=$!
	wait_for 30 nlines_ge out 900
	kill -TERM "$pids"
	st=0
	wait "$pids" || st=$?
	[ "$st" -eq 0 ]
	run -0 --separate-stderr ds-kafka-cat --lag -b "$B" -G "$g" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -s 'map(.committed) | add')" -eq 900 ]
}

@test "mock: -L lists brokers and partitions as JSON" {
	t=$(uniq_name mmeta)
	mock topic "$t" 3
	run -0 --separate-stderr ds-kafka-cat -L -b "$B" -t "$t"
	[ "$(printf '%s\n' "$output" | jq '.brokers | length')" -eq 3 ]
	[ "$(printf '%s\n' "$output" | jq -c --arg t "$t" '.topics[] | select(.topic == $t) | [.partitions[].partition]')" = "[0,1,2]" ]
}

@test "mock: a bad command is reported and the cluster keeps serving" {
	echo "frobnicate 1" >"$MD/cmd"
	wait_for 10 grep -qxF "error frobnicate 1" "$MD/out"
	grep -q "ds-kafka-cat: <stdin>:[0-9]*: unknown command" "$MD/err"
	mock rtt 1 0
}

# --- the five bugs of issue 18, each with the fault that showed it

@test "mock: a bad line stops -P only after every record before it is delivered" {
	t=$(uniq_name mbadline)
	mock topic "$t" 3
	{ seq 1 20000; echo 'not json'; echo 20001; } >in
	run -1 --separate-stderr ds-kafka-cat -P -b "$B" -t "$t" in
	[[ "$stderr" == *"in:20001: invalid JSON at byte 1"* ]]
	got=$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%s\n' | sort -n)
	[ "$got" = "$(seq 1 20000)" ]
	# with --skip-bad the run goes on and the line after is sent too
	t2=$(uniq_name mbadskip)
	mock topic "$t2" 1
	run -0 --separate-stderr ds-kafka-cat -P -b "$B" -t "$t2" --skip-bad in
	[ "$(timeout 30 kcat -b "$B" -C -t "$t2" -e -q -f '%s\n' | wc -l)" -eq 20001 ]
}

@test "mock: an input that cannot be opened stops -P after the records before it are delivered" {
	t=$(uniq_name mnofile)
	mock topic "$t" 1
	seq 1 100 >in
	run -1 --separate-stderr ds-kafka-cat -P -b "$B" -t "$t" in nosuch in
	[[ "$stderr" == *"ds-kafka-cat: nosuch: No such file or directory"* ]]
	got=$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%s\n' | sort -n)
	[ "$got" = "$(seq 1 100)" ]
}

@test "mock: SIGINT and SIGTERM stop -P while a message cannot be delivered" {
	for sig in INT TERM; do
		echo '{"a":1}' | ds-kafka-cat -P -b 127.0.0.1:1 -t x \
		    2>err.$sig &
		pid=$!
		pids=$pid
		# it is in its delivery wait once the refused connect is told
		wait_for 20 grep -q "Connection refused" err.$sig
		kill -$sig $pid
		wait_for 10 sh -c "! kill -0 $pid"
		st=0
		wait $pid || st=$?
		[ "$st" -eq 1 ]
		grep -q "1 message(s) not delivered (interrupted)" err.$sig
	done
}

@test "mock: reading without -G needs no group coordinator (FindCoordinator refused)" {
	t=$(uniq_name mnogroup)
	mock topic "$t" 2
	seq 1 10 | ds-kafka-cat -P -b "$B" -t "$t"
	mock error FindCoordinator GROUP_AUTHORIZATION_FAILED GROUP_AUTHORIZATION_FAILED GROUP_AUTHORIZATION_FAILED GROUP_AUTHORIZATION_FAILED
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -e
	mock clear FindCoordinator
	[ "$(printf '%s\n' "$output" | jq .value | sort -n | tr '\n' ' ')" = "$(seq 1 10 | tr '\n' ' ')" ]
}

@test "mock: root causes are named (TLS against plaintext, offset past the end, -o stored, -F line, -o s@)" {
	t=$(uniq_name mcause)
	mock topic "$t" 1
	seq 1 5 | ds-kafka-cat -P -b "$B" -t "$t"
	# the TLS handshake failure is said at once, not a bare timeout
	run --separate-stderr timeout 5 ds-kafka-cat -L -b "$B" -X security.protocol=ssl
	# (librdkafka says "SSL handshake failed" or "in state SSL_HANDSHAKE")
	printf '%s\n' "$stderr" | grep -Eqi 'SSL.handshake'
	run -1 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 0 -o 100 -e
	[ -z "$output" ]
	[[ "$stderr" == *"$t/0: "*"Offset out of range"* ]]
	run -2 --separate-stderr ds-kafka-cat -b "$B" -t "$t" -o stored -e
	[[ "$stderr" == *"-o stored: needs -G GROUP or -X group.id=G"* ]]
	printf '# comment\nclient.id=x\nno.such.prop=1\n' >conf
	run -2 --separate-stderr ds-kafka-cat -b "$B" -t "$t" -F conf -e
	[[ "$stderr" == *"conf:3: no.such.prop: "* ]]
	run -2 --separate-stderr ds-kafka-cat -b "$B" -t "$t" -o s@abc -e
	[[ "$stderr" == *"-o s@abc: timestamp invalid"* ]]
}

@test "mock: -P --text -l: a line over --max-line stops the run after the lines before it are delivered" {
	t=$(uniq_name mtextbad)
	mock topic "$t" 1
	{ seq 1 100; printf '%02000d\n' 0; echo 101; } >in
	run -1 --separate-stderr ds-kafka-cat -P -b "$B" -t "$t" -l --max-line 1024 in
	[[ "$stderr" == *"in:101: longer than 1024 bytes"* ]]
	[ "$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%s\n' | sort -n)" = "$(seq 1 100)" ]
}
