#!/usr/bin/env bats
# Scale-out over the real broker and FerretDB: two exactly-once pipelines
# in one consumer group split a 4-partition topic keyed by user, one is
# killed with SIGKILL while records are still being produced, the other
# takes its partitions over after the rebalance, and the collection ends
# up with exactly one document per produced record.  Expectations are
# computed by python3 from the produced records and read back through
# pymongo (test/mongo-q.py), never through the sink.
#
# The sinks write absolute documents (--mode upsert by a unique record
# id), which stay exactly-once across the rebalance: the survivor replays
# from the dead pipeline's last commit, and a batch the dead one had
# written but not yet committed is written again to the same values.
# Around a rebalance two sinks can so upsert the same new keys at the
# same moment (the old owner's batches in flight, the new owner's
# replay): MongoDB retries such an upsert itself, ds-sink-mongo sends
# it again when a server answers E11000 instead (FerretDB).
# --mode inc would be at-least-once there, for exactly those batches in
# flight at the kill: each pipeline has its own progress record and seq
# numbers, so the _ds_seq guard cannot order the batches of two
# pipelines (ds-sink-mongo(1), "Exactly once").

bats_require_minimum_version 1.5.0
load helper

setup() {
	server_setup
}

teardown() {
	local f
	# on failure, what the stages said
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		for f in "$T"/a/err "$T"/b/err "$T"/producer.err; do
			[ -s "$f" ] && { echo "--- $f"; tail -5 "$f"; } >&2
		done
	fi
	kill_pgids
}

# records N: N records with a unique id, 16 users
records() {
	python3 - "$1" <<'EOF'
import json, random, sys
random.seed(8)
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": "r%04d" % i, "user": "u%02d" % random.randrange(16),
        "n": i, "bytes": random.randrange(1, 100000)}, separators=(",", ":")))
EOF
}

# pipeline NAME: one exactly-once pipeline of the group, in its own
# process group (its pid, which is the group id, in $pid_NAME), with its
# own batch log and ack FIFO in $T/NAME; the sink's markers in
# $T/NAME/out.  Short session timeout: a killed member's partitions move
# about 6 s after its death (the broker's group.min.session.timeout.ms).
pipeline() {
	local d=$T/$1
	mkdir -p "$d"
	mkfifo "$d/acks"
	setsid env NAME="$1" D="$d" B="$DS_TEST_BROKERS" G="$group" \
	    TOPIC="$topic" URI="$DS_TEST_MONGO_URI" DB="$db" \
	    timeout 150 bash -c '
	ds-kafka-cat -b "$B" -G "$G" -t "$TOPIC" --acks "$D/acks" \
	    -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
	    -X debug=cgrp |
	ds-batch -i 500ms --log "$D/batches" |
	ds-map --arg pipe "$NAME" ".value + {pipe: \$pipe, partition}" |
	ds-sink-mongo --uri "$URI" -d "$DB" -c recs --key id --mode upsert \
	    --id "$DB.$NAME" --acks "$D/acks"' >"$d/out" 2>"$d/err" &
	eval "pid_$1=$!"
	pgids="$pgids $!"
}

# wrote NAME: the pipeline's sink has upserted records
wrote() {
	grep -q '"upserted":[1-9]' "$T/$1/out"
}

# grouped: the group's leader has assigned the partitions to both
# pipelines (librdkafka's cgrp debug log)
grouped() {
	grep -q 'assignor for 2 member' "$T/a/err" "$T/b/err"
}

# both: each pipeline has written records
both() {
	wrote a && wrote b
}

# produced_ge N: the producer has produced at least N records
produced_ge() {
	[ "$(cat "$T/produced" 2>/dev/null || echo 0)" -ge "$1" ]
}

# count_is N: the collection holds N documents
count_is() {
	[ "$(q count "$db" recs)" -eq "$1" ]
}

# gone PID: the process has ended
gone() {
	! kill -0 "$1"
}

# partitions FILE: the partitions of the non-empty batches logged in FILE
partitions() {
	jq -r 'select(.count > 0) | .offsets[] | select(.until > .from) |
	    .partition' "$1" | sort -u | tr '\n' ' '
}

@test "scale-out: two pipelines in one group, one killed -9 mid-stream, the other takes over: one document per record" {
	topic=$(uniq_name scale) group=g$topic db=$(uniq_name sc)
	n=400
	DS_SERVER_DIR=${DS_SERVER_DIR:-$DS_TOP/build/servers} \
	    timeout 60 "$DS_TOP/test/servers/kafka.sh" topic "$topic" 4
	records "$n" >data
	split -l 10 -d -a 3 data chunk.
	# the producer: once both pipelines are in the group, the records
	# in small steps, keyed by user so that all of a user's records are
	# in one partition.  (Records read by a before b joined would be
	# written by both sinks at once around the rebalance, and FerretDB
	# stalls on two clients upserting the same new keys together;
	# MongoDB itself retries such an upsert.)
	setsid env B="$DS_TEST_BROKERS" TOPIC="$topic" timeout 120 bash -c '
	i=0
	for w in $(seq 600); do
		[ -e go ] && break
		sleep 0.1
	done
	for f in chunk.*; do
		timeout 30 ds-kafka-cat -P -b "$B" -t "$TOPIC" \
		    --key-field user <"$f" || exit 1
		i=$((i + 10))
		echo "$i" >produced.tmp && mv produced.tmp produced
		sleep 0.25
	done' >producer.out 2>producer.err &
	producer=$!
	pgids="$pgids $producer"
	pipeline a
	pipeline b
	within 60 grouped
	touch go
	within 60 both
	a0=$(wc -l <a/batches/batches.ndjson)
	b0=$(wc -l <b/batches/batches.ndjson)
	# kill a's whole pipeline mid-stream
	within 60 produced_ge 150
	kill -0 "$producer"	# still producing
	kill -9 -- "-$pid_a"
	wait "$pid_a" 2>/dev/null || true
	b1=$(wc -l <b/batches/batches.ndjson)
	# b takes a's partitions over and ends up with everything committed
	within 90 produced_ge "$n"
	st=0
	wait "$producer" || st=$?
	[ "$st" -eq 0 ] || { cat producer.err; false; }
	within 90 count_is "$n"
	within 60 drained "$DS_TEST_BROKERS" 4
	# a clean stop: the source ends on SIGTERM, the rest at end of input
	pkill -TERM -g "$pid_b" -x ds-kafka-cat
	within 30 gone "$pid_b"
	st=0
	wait "$pid_b" || st=$?
	[ "$st" -eq 0 ] || { cat b/err; false; }
	# between both writing and the kill, a and b read disjoint
	# partitions, all four between them; after the kill, b reads all
	tail -n +"$((a0 + 1))" a/batches/batches.ndjson >a.mid
	sed -n "$((b0 + 1)),${b1}p" b/batches/batches.ndjson >b.mid
	tail -n +"$((b1 + 1))" b/batches/batches.ndjson >b.after
	pa=$(partitions a.mid) pb=$(partitions b.mid) pc=$(partitions b.after)
	echo "# partitions read: a $pa| b $pb| b after the kill $pc" >&3
	[ -n "$pa" ]
	[ -n "$pb" ]
	[ "$(echo $pa $pb | tr ' ' '\n' | sort | tr -d '\n')" = 0123 ]
	[ "$pc" = "0 1 2 3 " ]
	# exactly one document per record, with the record's fields
	q find "$db" recs >got
	[ "$(wc -l <got)" -eq "$n" ]
	jq -c '{bytes, id, n, user}' got | sort >got.recs
	jq -c -S . data | sort >want.recs
	diff want.recs got.recs
	# both pipelines' writes are there, and a user's records all come
	# from one partition
	[ "$(jq -r .pipe got | sort | uniq -c | awk '{print $2}' | tr -d '\n')" = ab ]
	[ "$(jq -r '[.user, .partition] | @tsv' got | sort -u | cut -f1 | uniq -d | wc -l)" -eq 0 ]
	# and the sinks recorded their progress under their own ids
	[ "$(q progress "$db" "$db.a")" -gt 0 ]
	[ "$(q progress "$db" "$db.b")" -gt 0 ]
}
