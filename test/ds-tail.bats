#!/usr/bin/env bats
# ds-tail: envelopes, positions, rotation by rename and copy-truncate,
# partial, shrinking and vanishing files, ack mode, and the kill -9
# rotation storm into Kafka through the transactional producer.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	kill_pgids
	tmx_stop
}

lines() {
	jq -r .line "$@"
}

# tailed WANT [GLOB]: ds-tail -e -R -p pos on GLOB (app.log) prints the
# lines WANT, those added since the last run
tailed() {
	run -0 --separate-stderr ds-tail -e -R -p pos "${2:-app.log}"
	[ "$output" = "$1" ] || { printf 'want:\n%s\ngot:\n%s\n' "$1" "$output"; return 1; }
}

@test "ds-tail: envelopes {file,fp,inode,offset,line}, raw lines with -R, -e at the end" {
	printf 'a 1\nb "2"\n' >app.log
	ino=$(stat -c %i app.log)
	run -0 --separate-stderr ds-tail -e app.log
	# fp: the file's first-line hash, in 16 hex digits
	fp=$(printf '%s\n' "$output" | jq -r .fp | sort -u)
	[[ "$fp" =~ ^[0-9a-f]{16}$ ]]
	[ "$output" = "{\"file\":\"app.log\",\"fp\":\"$fp\",\"inode\":$ino,\"offset\":0,\"line\":\"a 1\"}
{\"file\":\"app.log\",\"fp\":\"$fp\",\"inode\":$ino,\"offset\":4,\"line\":\"b \\\"2\\\"\"}" ]
	# a copy is the same file; another first line another one
	cp app.log copy.log
	[ "$(ds-tail -e copy.log | jq -r .fp | sort -u)" = "$fp" ]
	printf 'c\n' >other.log
	[ "$(ds-tail -e other.log | jq -r .fp)" != "$fp" ]
	run -0 --separate-stderr ds-tail -e -R app.log
	[ "$output" = 'a 1
b "2"' ]
}

@test "ds-tail: a partial last line waits for its newline" {
	printf 'one\ntw' >app.log
	tailed one
	printf 'o\nthree\n' >>app.log
	tailed 'two
three'
}

@test "ds-tail: the position file resumes where the last run stopped" {
	seq 1 5 >app.log
	run -0 --separate-stderr ds-tail -e -R -p state/pos app.log
	[ "$output" = "$(seq 1 5)" ]
	seq 6 8 >>app.log
	run -0 --separate-stderr ds-tail -e -R -p state/pos app.log
	[ "$output" = "$(seq 6 8)" ]
	run -0 --separate-stderr ds-tail -e -R -p state/pos app.log
	[ "$output" = "" ]
	grep -q '"offset":16' state/pos
}

@test "ds-tail: a glob follows rotation by rename and by copy-truncate" {
	mkdir logs
	printf 'r1\nr2\n' >logs/app.log
	tailed 'r1
r2' 'logs/app.log*'
	# rename: the rest of the old file, then the new one from its start
	echo r3 >>logs/app.log
	mv logs/app.log logs/app.log.1
	echo n1 >logs/app.log
	run -0 --separate-stderr ds-tail -e -p pos 'logs/app.log*'
	[ "$(printf '%s\n' "$output" | jq -r '.file + " " + .line' | sort)" = 'logs/app.log n1
logs/app.log.1 r3' ]
	# copy-truncate: the copy goes on where the original was
	echo n2 >>logs/app.log
	cp logs/app.log logs/app.log.2
	: >logs/app.log
	echo m1 >logs/app.log
	run -0 --separate-stderr ds-tail -e -R -p pos 'logs/app.log*'
	[ "$(printf '%s\n' "$output" | sort)" = 'm1
n2' ]
}

@test "ds-tail: a file truncated and rewritten is read again from its start" {
	printf 'x1\nx2\nx3\n' >app.log
	tailed 'x1
x2
x3'
	printf 'y1\n' >app.log
	tailed y1
	printf 'y1\ny2\ny3\n' >>app.log
	tailed 'y1
y2
y3'
	# shorter, with the same first line: it shrank, read it again
	printf 'y1\n' >app.log
	tailed y1
}

@test "ds-tail: a deleted file is read to its end, then dropped from the positions" {
	mkdir logs
	seq 1 3 >logs/a.log
	ds-tail -R -i 50ms -p pos 'logs/*.log' >out 2>err &
	pgids="$!"
	wait_for 10 grep -qx 3 out
	# open for appending, delete, then write the rest: the lines come
	exec 7>>logs/a.log
	rm logs/a.log
	printf '4\npartial' >&7
	exec 7>&-
	wait_for 10 grep -qx partial out
	wait_for 10 grep -q '"files":\[\]' pos
	kill -TERM "$pgids"
	wait "$pgids"
	[ "$(cat out)" = "$(seq 1 4; echo partial)" ]
}

@test "ds-tail: follows new lines and new files until stopped" {
	mkdir logs
	echo a >logs/1.log
	ds-tail -R -i 50ms -p pos 'logs/*.log' >out 2>err &
	pgids="$!"
	wait_for 10 grep -qx a out
	echo b >>logs/1.log
	echo c >logs/2.log
	wait_for 10 grep -qx b out
	wait_for 10 grep -qx c out
	kill -TERM "$pgids"
	wait "$pgids"
	[ "$(sort out)" = 'a
b
c' ]
	grep -q '"offset":2' pos
}

@test "ds-tail: an over-long line is a bad record (--skip-bad goes on)" {
	{ echo short; head -c 100 /dev/zero | tr '\0' x; echo; echo after; } >app.log
	run -1 --separate-stderr ds-tail -e -R --max-line 50 app.log
	[ "$output" = short ]
	[[ "$stderr" == *"ds-tail: app.log:2: line longer than 50 bytes"* ]]
	run -0 --separate-stderr ds-tail -e -R --max-line 50 --skip-bad app.log
	[ "$output" = 'short
after' ]
}

@test "ds-tail: in ack mode positions move only when a batch is acknowledged" {
	seq 1 5 >app.log
	mkfifo acks
	# nobody acknowledges (an ack file, empty): nothing is saved
	: >noacks
	run -0 --separate-stderr ds-tail -e -R -p pos --acks noacks app.log
	[ "$output" = "$(seq 1 5)" ]
	grep -q '"offset":0' pos
	# the sink acknowledges two batches of two: four lines saved
	run -0 --separate-stderr bash -c 'ds-tail -e -p pos --acks acks app.log |
	    ds-batch -n 2 | grep "^{\"@ds\"" | head -2 >acks'
	grep -q '"offset":8' pos
	tailed 5
}

# tomongo: ds-tail in ack mode into ds-sink-mongo, which acknowledges
tomongo() {
	ds-tail -e -p pos --acks acks app.log | ds-batch -n 3 |
	    ds-sink-mongo --uri "$DS_TEST_MONGO_URI" -d "$db" -c lines \
	    --mode insert --acks acks >/dev/null
}

@test "ds-tail: in ack mode into ds-sink-mongo, a second run sends only the new lines" {
	need_mongo
	db=$(uniq_name tailmongo)
	mkfifo acks
	seq 1 7 >app.log
	tomongo
	[ "$(q count "$db" lines)" -eq 7 ]
	seq 8 10 >>app.log
	tomongo
	# inserted, not upserted: a line sent twice would be there twice
	[ "$(q find "$db" lines | jq -r .line | sort -n | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 " ]
	q drop "$db"
}

@test "ds-tail: --seen moves positions past records delivered already" {
	seq 1 6 >app.log
	run -0 --separate-stderr ds-tail -e -p pos --acks /dev/null app.log
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 6 ]
	printf '%s\n' "$output" | head -4 | jq -c '{topic:"t",partition:0,offset:0,value:.}' >seen
	run -0 --separate-stderr ds-tail -p pos --resume-time
	[ "$output" -gt 0 ]
	run -0 --separate-stderr ds-tail -e -R -p pos --seen seen app.log
	[ "$output" = '5
6' ]
}

@test "ds-tail: usage errors exit 2" {
	run -2 --separate-stderr ds-tail
	run -2 --separate-stderr ds-tail -i 0 x
	run -2 --separate-stderr ds-tail --acks a x
	[[ "$stderr" == *"--acks needs -p"* ]]
	run -2 --separate-stderr ds-tail --resume-time
	run -0 ds-tail -h
	[[ "$output" == usage:* ]]
}

@test "ds-tail: a progress line over a backlog on a terminal, none when piped" {
	seq 1 200000 >big.log
	run -0 --separate-stderr ds-tail -e -R big.log
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 200000 ]
	[[ "$stderr" != *ETA* ]]
	run -0 --separate-stderr ds-tail -e -R --progress big.log
	[[ "$stderr" == *"ds-tail: "*" of "*"(100%)"*ETA* ]]
	tmx new-session -d -s one -x 120 -y 10 \
	    "ds-tail -e -R big.log >/dev/null; echo END; sleep 60"
	wait_for 30 tmx_shows one END
	tmx capture-pane -p -t one >pane
	grep -q 'ds-tail: 1.2 MB of 1.2 MB (100%)' pane
	tmx new-session -d -s two -x 120 -y 10 \
	    "ds-tail -e -R --no-progress big.log >/dev/null; echo END; sleep 60"
	wait_for 30 tmx_shows two END
	tmx capture-pane -p -t two >pane
	! grep -q ETA pane
}

# The acceptance test: a writer appends numbered lines (some in two
# writes) and rotates every few lines, by rename or by copy-truncate;
# ds-tail | ds-batch | ds-kafka-cat -P --transactional-id is killed -9
# at random moments and started again.  A committed read of the topic
# then holds every line of the files exactly once.
writer() {
	local i=0 k=0 j
	while [ ! -e stop ]; do
		for j in 1 2 3 4 5 6 7 8; do
			i=$((i + 1))
			if [ $((i % 5)) -eq 0 ]; then
				printf 'line %d ' "$i" >>logs/app.log
				printf 'end\n' >>logs/app.log
			else
				printf 'line %d\n' "$i" >>logs/app.log
			fi
		done
		k=$((k + 1))
		case $((RANDOM % 3)) in
		0) mv logs/app.log "logs/app.log.$k" ;;
		1) cp logs/app.log "logs/app.log.$k" && : >logs/app.log ;;
		esac
		sleep 0.0$((RANDOM % 8 + 2))
	done
}

# collector [-e]: fence the last run's transaction, read back what was
# committed since the positions were saved, and start the pipeline
collector() {
	timeout 60 ds-kafka-cat -P -b "$B" -t "$t" --transactional-id "tx$t" \
	    </dev/null
	since=$(ds-tail -p pos --resume-time)
	timeout 60 ds-kafka-cat -b "$B" -t "$t" -o "s@$since" -e >seen
	setsid bash -c 'exec ds-tail '"$1"' -i 50ms -p pos --acks acks \
	    --seen seen "logs/app.log*" |
	    ds-batch -i 100ms |
	    ds-kafka-cat -P -b "$0" -t "$1" --transactional-id "tx$1" \
	    >acks' "$B" "$t" 2>>errs &
	pg=$!
	pgids="$pgids $pg"
}

@test "ds-tail: kill -9 during a rotation storm loses and repeats no line (Kafka, transactional)" {
	need_kafka
	B=$DS_TEST_BROKERS
	t=$(uniq_name tailstorm)
	pgids=
	mkdir logs
	mkfifo acks
	# the topic exists before the first read-back
	echo '{"sentinel":1}' | timeout 60 ds-kafka-cat -P -b "$B" -t "$t"
	setsid bash -c "$(declare -f writer); writer" &
	pgids="$!"
	for round in 1 2 3 4 5; do
		collector ""
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
		wait_for 10 kill -0 -- "-$pg"	# setsid has made the group
		kill -9 -- "-$pg"
		wait "$pg" || true
	done
	touch stop
	wait_for 10 sh -c "! kill -0 ${pgids%% *} 2>/dev/null"
	collector -e
	wait_for 60 sh -c "! kill -0 -- -$pg"
	wait "$pg"
	cat logs/app.log* | sort >want
	timeout 60 ds-kafka-cat -b "$B" -t "$t" -e >all
	jq -r 'select(.value.line) | .value.line' all | sort >got
	[ "$(wc -l <want)" -gt 100 ]
	diff want got
}

# mcollector [-e]: ds-tail in ack mode into ds-sink-mongo, each line
# inserted under its file's fp and its offset, in a process group of its
# own ($pg)
mcollector() {
	setsid bash -c 'exec ds-tail '"$1"' -i 50ms -p pos --acks acks \
	    "logs/app.log*" |
	    ds-batch -i 100ms |
	    ds-sink-mongo --uri "$0" -d "$1" -c lines --mode insert \
	    --key fp,offset --acks acks >/dev/null' \
	    "$DS_TEST_MONGO_URI" "$db" 2>>errs &
	pg=$!
	pgids="$pgids $pg"
}

@test "ds-tail: kill -9 during a rotation storm loses and repeats no line (MongoDB, keyed by fp and offset)" {
	need_mongo
	db=$(uniq_name tailmstorm)
	pgids=
	mkdir logs
	mkfifo acks
	setsid bash -c "$(declare -f writer); writer" &
	pgids="$!"
	for round in 1 2 3 4 5; do
		mcollector ""
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
		wait_for 10 kill -0 -- "-$pg"
		kill -9 -- "-$pg"
		wait "$pg" || true
	done
	touch stop
	wait_for 10 sh -c "! kill -0 ${pgids%% *} 2>/dev/null"
	mcollector -e
	wait_for 60 sh -c "! kill -0 -- -$pg"
	wait "$pg"
	cat logs/app.log* | sort >want
	q find "$db" lines | jq -r .line | sort >got
	[ "$(wc -l <want)" -gt 100 ]
	diff want got
	q drop "$db"
}

# combined-log lines N..M of client 10.0.0.(i%5)
access() {
	local i
	for i in $(seq "$1" "$2"); do
		printf '10.0.0.%d - - [22/Nov/2024:10:00:%02d +0800] "GET /p/%d HTTP/1.1" 200 %d "-" "curl/8"\n' \
		    $((i % 5)) $((i % 60)) "$i" "$i"
	done
}

# committed messages of topic $t: at least N
topic_has() {
	[ "$(timeout 30 ds-kafka-cat -b "$B" -t "$t" -e 2>/dev/null | wc -l)" -ge "$1" ]
}

@test "examples: collect-nginx.sh parses access logs into Kafka, each line once across a kill -9 and a rotation" {
	need_kafka
	B=$DS_TEST_BROKERS
	t=$(uniq_name nginx)
	pgids=
	mkdir logs
	access 1 200 >logs/access.log
	echo 'not a log line' >>logs/access.log
	BROKERS=$B LOGS="$T/logs/access.log*" TOPIC=$t STATE=$T/st \
	    INTERVAL=200ms setsid "$DS_TOP/examples/collect-nginx.sh" \
	    2>err &
	pg=$!
	pgids=$pg
	within 60 topic_has 1
	mv logs/access.log logs/access.log.1
	access 201 300 >logs/access.log
	within 60 topic_has 201
	kill -9 -- "-$pg"
	wait "$pg" || true
	access 301 350 >>logs/access.log
	BROKERS=$B LOGS="$T/logs/access.log*" TOPIC=$t STATE=$T/st \
	    INTERVAL=200ms AT_END=1 timeout 60 \
	    "$DS_TOP/examples/collect-nginx.sh" 2>>err
	timeout 60 ds-kafka-cat -b "$B" -t "$t" -e >all
	access 1 350 | sort >want
	jq -r .value.line all | sort >got
	diff want got
	# parsed: the bytes of the log lines add up
	[ "$(jq -s 'map(.value.bytes) | add' all)" -eq $((350 * 351 / 2)) ]
	[ "$(jq -r '.raw | fromjson | .line' st/rejects)" = 'not a log line' ]
}

@test "examples: cron-incremental.sh run twice applies every record once; a bad record is exit 1 with nothing applied; a run that finds the lock held skips" {
	need_kafka
	need_mongo
	B=$DS_TEST_BROKERS
	t=$(uniq_name cron) db=$(uniq_name cron)
	for i in $(seq 1 60); do
		printf '{"user":"u%d","bytes":%d}\n' $((i % 3)) "$i"
	done >recs
	timeout 60 ds-kafka-cat -P -b "$B" -t "$t" recs
	export BROKERS=$B MONGO=$DS_TEST_MONGO_URI TOPIC=$t GROUP=g$t DB=$db \
	    STATE=$T/st BATCH=25
	run -0 --separate-stderr timeout 120 "$DS_TOP/examples/cron-incremental.sh"
	[[ "$stderr" == *"cron-incremental: "*" done"* ]]
	# the consumer's run summary
	[[ "$stderr" == *'{"tool":"ds-kafka-cat","in":'* ]]
	run -0 --separate-stderr timeout 120 "$DS_TOP/examples/cron-incremental.sh"
	want='{"bytes":590,"requests":20,"user":"u1"}
{"bytes":610,"requests":20,"user":"u2"}
{"bytes":630,"requests":20,"user":"u0"}'
	[ "$(q find "$db" user_totals | sort)" = "$want" ]
	# new records: only they are added
	printf '{"user":"u1","bytes":1000}\n' |
	    timeout 60 ds-kafka-cat -P -b "$B" -t "$t"
	run -0 --separate-stderr timeout 120 "$DS_TOP/examples/cron-incremental.sh"
	[ "$(q find "$db" user_totals '{"user":"u1"}')" = '{"bytes":1590,"requests":21,"user":"u1"}' ]
	# a bad record: exit 1, and neither it nor what follows it (in one
	# partition, so in order) is applied, however often the job runs
	printf '{"user":"u2","bytes":"x"}\n{"user":"u0","bytes":5}\n' |
	    timeout 60 ds-kafka-cat -P -b "$B" -t "$t" -p 0
	want=$(q find "$db" user_totals | sort)
	for i in 1 2; do
		run -1 --separate-stderr timeout 120 "$DS_TOP/examples/cron-incremental.sh"
		[[ "$stderr" == *"'bytes' is not a number"* ]]
		[[ "$stderr" == *"cron-incremental: "*" failed (exit statuses "* ]]
		[ "$(q find "$db" user_totals | sort)" = "$want" ]
	done
	# the lock is held: exit 0, skipped
	setsid flock st/lock -c 'touch held; sleep 60' &
	pgids=$!
	wait_for 10 test -e held
	run -0 --separate-stderr timeout 60 "$DS_TOP/examples/cron-incremental.sh"
	[[ "$stderr" == *"a run is still going"*"skipped"* ]]
	# usage
	run -2 --separate-stderr env -u MONGO "$DS_TOP/examples/cron-incremental.sh"
	[[ "$stderr" == *"MONGO is not set"* ]]
	q drop "$db"
}

@test "--stats: every tool writes one JSON summary line on stderr at exit" {
	printf '{"a":1}\n{"a":2}\nbad\n{"a":3}\n' >in
	run -0 --separate-stderr ds-batch -n 2 --skip-bad --stats in
	s=$(printf '%s\n' "$stderr" | grep '^{"tool"')
	[ "$(printf '%s\n' "$s" | jq -c '[.tool, .in, .out, .bad, .batches, (.wall_ms >= 0)]')" = '["ds-batch",4,3,1,2,true]' ]
	printf '{"a":1}\n' | ds-map --stats .a 2>err >/dev/null
	[ "$(jq -c '[.tool, .in, .out]' err)" = '["ds-map",1,1]' ]
	# without --stats, nothing
	printf '{"a":1}\n' | ds-map .a 2>err >/dev/null
	[ ! -s err ]
}

@test "--stats: every tool names it in -h; in counts the records it read, not its side inputs" {
	for c in "$DS_TOP"/bin/ds-*.c; do
		t=$(basename "$c" .c)
		run -0 "$t" -h
		[[ "$output" == *"--stats"* ]] || { echo "$t -h: no --stats"; return 1; }
	done
	printf '{"k":"a","v":1}\n{"k":"b","v":2}\n' >in
	ds-tail -e in >seen
	printf '{"k":"c","v":3}\n' >>in
	# the tools that need no server (ds-kafka-cat: its own test)
	while IFS='|' read -r want t args; do
		$t --stats $args <in >/dev/null 2>err || { echo "$t $args: exit $?"; cat err; return 1; }
		got=$(grep '^{"tool"' err | jq -c '[.tool, .in, .bad]')
		[ "$got" = "$want" ] || { echo "$t $args: $got, want $want"; return 1; }
	done <<'EOF'
["ds-batch",3,0]|ds-batch|-n 1
["ds-map",3,0]|ds-map|.
["ds-reduce",3,0]|ds-reduce|-k k -a count
["ds-window",3,0]|ds-window|-k k -w 2s -s 1s -a count
["ds-state",3,0]|ds-state|-k k -a count
["ds-print",3,0]|ds-print|
["ds-top",3,0]|ds-top|
["ds-union",6,0]|ds-union|in -
["ds-join",6,0]|ds-join|--other in -k k
["ds-sink-file",3,0]|ds-sink-file|out
["ds-each",3,0]|ds-each|-- sort
["ds-each",3,0]|ds-each|--persist -- cat
["ds-each",3,3]|ds-each|--skip-failed -- false
["ds-tail",1,0]|ds-tail|-e -p pos --seen seen in
EOF
}

@test "--stats: SIGUSR1 writes the summary of a running tool" {
	mkfifo in
	ds-batch -n 1 <in >out 2>err &
	pgids=$!
	exec 7>in
	echo '{"a":1}' >&7
	wait_for 10 grep -q '"@ds":"batch"' out
	kill -USR1 "$pgids"
	echo '{"a":2}' >&7
	wait_for 10 grep -q '"tool":"ds-batch"' err
	exec 7>&-
	wait "$pgids"
	[ "$(head -1 err | jq -c '[.in >= 1, .batches >= 1]')" = '[true,true]' ]
}

@test "ds-kafka-cat: --stats has the lag at start and end; -e shows progress on a terminal only" {
	need_kafka
	B=$DS_TEST_BROKERS
	t=$(uniq_name kprog)
	seq 1 5000 | sed 's/.*/{"i":&}/' | timeout 60 ds-kafka-cat -P -b "$B" -t "$t"
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -t "$t" -e --stats
	s=$(printf '%s\n' "$stderr" | grep '^{"tool"')
	[ "$(printf '%s\n' "$s" | jq -c '[.tool, .in, .out, .lag_end]')" = '["ds-kafka-cat",5000,5000,0]' ]
	[ "$(printf '%s\n' "$s" | jq '.lag_start >= 0')" = true ]
	[[ "$stderr" != *ETA* ]]
	tmx new-session -d -s kc -x 150 -y 10 \
	    "ds-kafka-cat -b $B -t $t -e >/dev/null; echo END; sleep 60"
	wait_for 60 tmx_shows kc END
	tmx capture-pane -p -t kc >pane
	grep -q 'ds-kafka-cat: 5000 of 5000 records (100%)' pane
}
