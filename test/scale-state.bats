#!/usr/bin/env bats
# Scale-out with state over the real broker and FerretDB: members of one
# consumer group keep running totals per user with ds-state --changelog
# and write them through a transactional ds-kafka-cat -P, while members
# are added, stopped cleanly and killed -9 at random moments.  Every
# member runs under a supervisor loop that starts its pipeline again
# when it ends (as systemd's Restart=always would), with nothing on
# local disk: the state lives in the compacted changelog topic.  At the
# end the totals topic, and MongoDB filled from it with --mode upsert,
# equal totals computed by python3 from the produced records, never by
# ds.

bats_require_minimum_version 1.5.0
load helper

setup() {
	server_setup
	B=$DS_TEST_BROKERS
}

teardown() {
	local f
	# no member starts again
	for f in "$T"/*.pgid "$T"/*/*.pgid; do
		[ -e "$f" ] && touch "$(dirname "$f")/stop.$(basename "$f" .pgid)"
	done
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		for f in "$T"/*.err "$T"/*.runs; do
			[ -s "$f" ] && { echo "--- $f"; tail -8 "$f"; } >&2
		done
	fi
	kill_pgids
	for f in "$T"/*.pgid "$T"/*/*.pgid; do
		[ -s "$f" ] && kill -9 -- "-$(cat "$f")" 2>/dev/null
	done
	return 0
}

# topics P: the source ($src, keyed by user), the compacted changelogs
# ($cl, $cl-win) and the totals and windows ($out, $out-win), P
# partitions each
topics() {
	local t
	for t in "$src" "$out" "$out-win"; do
		DS_SERVER_DIR=${DS_SERVER_DIR:-$DS_TOP/build/servers} \
		    timeout 60 "$DS_TOP/test/servers/kafka.sh" topic "$t" "$1"
	done
	for t in "$cl" "$cl-win"; do
		DS_SERVER_DIR=${DS_SERVER_DIR:-$DS_TOP/build/servers} \
		    timeout 60 "$DS_TOP/test/servers/kafka.sh" topic "$t" \
		    "$1" cleanup.policy=compact
	done
}

# records N SEED: N records of 40 users
records() {
	python3 - "$1" "$2" <<'EOF'
import json, random, sys
random.seed(int(sys.argv[2]))
for i in range(int(sys.argv[1])):
    print(json.dumps({"user": "u%02d" % random.randrange(40),
        "bytes": random.randrange(1, 1000)}, separators=(",", ":")))
EOF
}

# scripts: supervise.sh STAGE NAME runs member NAME of a stage of
# examples/scale-out.sh again and again until stop.NAME exists, the
# pipeline in a process group of its own (its id in NAME.pgid, for
# kill -9), its stderr in NAME.err, each end in NAME.runs
scripts() {
	cat >supervise.sh <<'EOF'
#!/usr/bin/env bash
while [ ! -e "stop.$2" ]; do
	NAME=$2 setsid "$DS_TOP/examples/scale-out.sh" "$1" >/dev/null \
	    2>>"$2.err" &
	echo $! >"$2.pgid"
	st=0
	wait $! || st=$?
	echo "exit $st" >>"$2.runs"
	sleep 0.3
done
EOF
	chmod +x supervise.sh
}

# member STAGE NAME: start a supervised member of a stage
member() {
	setsid env BROKERS="$B" GROUP="$group" SOURCE="$raw" BYUSER="$src" \
	    CHANGELOG="$cl" TOTALS="$out" WINCHANGELOG="$cl-win" \
	    WINDOWS="$out-win" WINDOW=10m INTERVAL=300ms DS_OUT=cat \
	    INCREMENTS="${inc:-}" DS_MONGO_URI="$DS_TEST_MONGO_URI" \
	    MONGO_DB="${db:-}" MONGO_COLL=totals TMPDIR="$PWD" \
	    SOURCE_OPTS="-X session.timeout.ms=6000 -X heartbeat.interval.ms=500" \
	    DS_TOP="$DS_TOP" timeout 300 ./supervise.sh "$@" >/dev/null 2>&1 &
	pgids="$pgids $!"
}

# stopmember NAME: end the member's pipeline cleanly (SIGTERM to its
# source: the rest ends at end of input) and keep it from starting again
stopmember() {
	touch "stop.$1"
	pkill -TERM -g "$(cat "$1.pgid")" -x ds-kafka-cat 2>/dev/null || true
}

# crash NAME: kill -9 the member's whole pipeline (the supervisor starts
# it again)
crash() {
	kill -9 -- "-$(cat "$1.pgid")" 2>/dev/null || true
}

# stall NAME: stop the member's pipeline (SIGSTOP) for more than twice
# its session timeout, then let it go on: its group has moved on, and it
# writes what it had read as a zombie.  (Long enough for the partitions'
# new owner to have written those messages first: FerretDB 1.24 can
# lose one of two updates of a document made at the same moment.)
stall() {
	setsid bash -c 'kill -STOP -- "-$1"; sleep 15; kill -CONT -- "-$1"' \
	    stall "$(cat "$1.pgid")" >/dev/null 2>&1 &
	pgids="$pgids $!"
}

# restart NAME: end the member's pipeline cleanly (the supervisor starts
# it again)
restart() {
	pkill -TERM -g "$(cat "$1.pgid")" -x ds-kafka-cat 2>/dev/null || true
}

# chaos_done MIN NAME...: the producer ended well, after at least MIN
# rounds of chaos (said, with how often members NAME... ran)
chaos_done() {
	local st=0 m
	wait "$producer" || st=$?
	[ "$st" -eq 0 ] || { cat producer.err; return 1; }
	for m in "${@:2}"; do
		cat "$m.runs" 2>/dev/null
	done | echo "# $rounds rounds; pipeline runs: $(wc -l)" >&3
	[ "$rounds" -ge "$1" ]
}

# want FILE...: the expected totals, {"bytes","requests","user"} lines
# sorted by user
want() {
	python3 - "$@" <<'EOF'
import json, sys
t = {}
for f in sys.argv[1:]:
    for l in open(f):
        r = json.loads(l)
        s = t.setdefault(r["user"], [0, 0])
        s[0] += r["bytes"]
        s[1] += 1
for u in sorted(t):
    print(json.dumps({"bytes": t[u][0], "requests": t[u][1], "user": u},
        separators=(",", ":"), sort_keys=True))
EOF
}

# totals_are FILE [TOPIC]: the last committed total of each user in
# TOPIC ($out; a user's totals are in one partition, in order) equal FILE
totals_are() {
	timeout 30 ds-kafka-cat -b "$B" -t "${2:-$out}" -e >outmsgs 2>/dev/null &&
	    jq -c '.value | {bytes, requests, user}' outmsgs |
	    jq -s -c 'group_by(.user) | map(last) | .[]' >got &&
	    cmp -s "$1" got
}

# produce FILE SEED N CHUNK [TOPIC [KEY]]: produce N records into TOPIC
# ($src), keyed by the field KEY (user), in chunks of CHUNK, a little
# apart, in the background (its pid in $producer); FILE gets the
# records
produce() {
	records "$3" "$2" >"$1"
	split -l "$4" -d -a 3 "$1" "$1.chunk."
	setsid env B="$B" SRC="${5:-$src}" F="$1" K="${6:-user}" \
	    timeout 200 bash -c '
	for f in "$F".chunk.*; do
		timeout 30 ds-kafka-cat -P -b "$B" -t "$SRC" --key-field "$K" \
		    <"$f" || exit 1
		sleep 0.4
	done' >producer.out 2>producer.err &
	producer=$!
	pgids="$pgids $producer"
}

@test "scale-out with state: members added, stopped and killed -9 at random; totals exactly once, in Kafka and MongoDB" {
	src=$(uniq_name ss) cl=$(uniq_name sscl) out=$(uniq_name ssout)
	group=g$src db=$(uniq_name ssdb)
	topics 8
	scripts
	produce data 12 6000 150
	member totals m1
	member totals m2
	RANDOM=12
	rounds=0
	# until the producer is done: a third member joins, members are
	# killed -9 or restarted cleanly at random moments, and the third
	# leaves for good
	while kill -0 "$producer" 2>/dev/null; do
		sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
		rounds=$((rounds + 1))
		case $rounds in
		2) member totals m3 ;;
		9) stopmember m3 ;;
		*)
			m=m$((1 + RANDOM % 2))
			[ "$rounds" -gt 2 ] && [ "$rounds" -lt 9 ] &&
			    [ $((RANDOM % 3)) -eq 0 ] && m=m3
			if [ $((RANDOM % 3)) -eq 0 ]; then
				restart "$m"
			else
				crash "$m"
			fi
			;;
		esac
	done
	chaos_done 6 m1 m2 m3
	# the survivors end up with every record applied exactly once
	want data >want
	within 120 totals_are want || { diff want got; false; }
	topic=$src
	within 60 drained "$B" 8
	stopmember m1
	stopmember m2
	# the totals into MongoDB by a sink of their own (absolute values:
	# upsert), and read back by pymongo
	timeout 60 ds-kafka-cat -b "$B" -t "$out" -e |
	    ds-batch -n 500 | ds-map .value |
	    ds-sink-mongo --uri "$DS_TEST_MONGO_URI" -d "$db" -c totals \
	    --key user --mode upsert >/dev/null
	q find "$db" totals | jq -c '{bytes, requests, user}' >mongo
	diff want mongo
	q drop "$db"
}

@test "scale-out with state: a member on a new machine with an empty disk resumes with the right totals" {
	src=$(uniq_name se) cl=$(uniq_name secl) out=$(uniq_name seout)
	group=g$src
	topics 4
	mkdir one two
	cd one
	scripts
	produce ../first 3 1000 1000
	wait "$producer"
	member totals m1
	want ../first >want
	within 60 totals_are want || { diff want got; false; }
	stopmember m1
	within 30 bash -c '! pgrep -g "$(cat m1.pgid)" >/dev/null'
	# the first machine is gone; a second one, with nothing on disk and
	# another member name, takes over after the session timeout
	cd ../two
	scripts
	produce ../second 4 1000 1000
	wait "$producer"
	member totals m4
	want ../first ../second >want
	within 90 totals_are want || { diff want got; false; }
	stopmember m4
}

@test "scale-out with state: changelog records go out in the batch's transaction and come back on assignment; the producer's checks" {
	src=$(uniq_name sc) cl=$(uniq_name sccl) out=$(uniq_name scout)
	group=g$src
	topics 2
	o() { echo '{"topic":"'"$src"'","partition":'"$1"',"from":'"$2"',"until":'"$3"'}'; }
	printf '%s\n' '{"@ds":"assign","offsets":[{"topic":"'"$src"'","partition":0},{"topic":"'"$src"'","partition":1}]}' \
	    '{"partition":0,"user":"a","n":2}' '{"partition":1,"user":"b","n":5}' \
	    '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":['"$(o 0 0 1),$(o 1 0 1)"']}' \
	    '{"partition":0,"user":"a","n":3}' \
	    '{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":['"$(o 0 1 2)"']}' >in
	run -0 --separate-stderr ds-state -k user -a sum:n --changelog "$cl" -b "$B" in
	printf '%s\n' "$output" >staged
	# the batch's changed keys, then its marker committing its own offsets
	# (a key's state record as a checkpoint holds it, keyed by its fields)
	[ "$(jq -c 'select(."@ds" == "changelog") | [.topic == "'"$cl"'", .partition, (.key | fromjson | .user), .value.t, (.value.k | tojson) == .key]' staged | tr -d '\n')" = \
	    '[true,0,"a",1000,true][true,1,"b",1000,true][true,0,"a",2000,true]' ]
	[ "$(jq -c 'select(."@ds" == "batch") | .commit | map([.partition, .until])' staged | tr -d '\n')" = "[[0,1],[1,1]][[0,2]]" ]
	[ "$(grep -v '^{"@ds"' staged | tr '\n' ' ')" = '{"partition":0,"user":"a","sum_n":2} {"partition":1,"user":"b","sum_n":5} {"partition":0,"user":"a","sum_n":5} ' ]
	# the producer writes them with the batches, and passes on the rest
	run -0 --separate-stderr timeout 60 ds-kafka-cat -P -b "$B" -t "$out" \
	    --key-field user --transactional-id "tx$group" -G "$group" staged
	[ "$(printf '%s\n' "$output" | grep -c changelog)" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '"@ds":"batch"')" -eq 2 ]
	topic=$src
	timeout 20 ds-kafka-cat --lag -b "$B" -G "$group" -t "$src" | jq -c '[.partition, .committed]' | tr -d '\n' >lag
	[ "$(cat lag)" = "[0,2][1,1]" ]
	# a member assigned both partitions reads their state back
	printf '%s\n' '{"@ds":"assign","offsets":[{"topic":"'"$src"'","partition":0},{"topic":"'"$src"'","partition":1}]}' \
	    '{"partition":1,"user":"b","n":1}' \
	    '{"@ds":"batch","seq":1,"time":3000,"interval":1000,"count":1,"offsets":['"$(o 1 1 2)"']}' >in2
	run -0 --separate-stderr timeout 60 ds-state -k user -a sum:n --changelog "$cl" -b "$B" --emit all in2
	[ "$(printf '%s\n' "$output" | grep -v '^{"@ds"' | sort | tr '\n' ' ')" = '{"partition":0,"user":"a","sum_n":5} {"partition":1,"user":"b","sum_n":6} ' ]
	# ... and drops a revoked one's
	printf '%s\n' "${lines[0]}" '{"@ds":"revoke","offsets":[{"topic":"'"$src"'","partition":0}]}' \
	    '{"@ds":"batch","seq":1,"time":3000,"interval":1000,"count":0,"offsets":[]}' >in3
	run -0 --separate-stderr timeout 60 ds-state -k user -a sum:n --changelog "$cl" -b "$B" --emit all in3
	[ "$(printf '%s\n' "$output" | grep -v '^{"@ds"' | tr '\n' ' ')" = '{"partition":1,"user":"b","sum_n":5} ' ]
	# a changelog record needs a transaction; a batch may not span two
	# assignments
	run -1 --separate-stderr timeout 60 ds-kafka-cat -P -b "$B" -t "$out" staged
	[[ "$stderr" == *"staged:4: a changelog record needs --transactional-id and -G"* ]]
	printf '%s\n' '{"user":"a"}' '{"@ds":"assign","offsets":[],"group":"QUJD"}' >span
	run -1 --separate-stderr timeout 60 ds-kafka-cat -P -b "$B" -t "$out" \
	    --transactional-id "tx2$group" -G "$group" span
	[[ "$stderr" == *"span:2: a rebalance inside a batch: its transaction is aborted"* ]]
}

@test "scale-out with state: records re-keyed through a topic, then totals and a sliding window per partition; members of every stage killed -9" {
	raw=$(uniq_name sr) src=$(uniq_name srby) cl=$(uniq_name srcl)
	out=$(uniq_name srout) group=g$raw
	topics 4
	DS_SERVER_DIR=${DS_SERVER_DIR:-$DS_TOP/build/servers} \
	    timeout 60 "$DS_TOP/test/servers/kafka.sh" topic "$raw" 3
	scripts
	# no key: a user's records land in any partition of $raw
	produce data 21 3000 150 "$raw" nokey
	member repartition r1
	member totals m1
	member totals m2
	member windows w1
	member windows w2
	for victim in r1 m1 w1 r1 m2 w2; do
		sleep 2.5
		crash "$victim"
	done
	st=0
	wait "$producer" || st=$?
	[ "$st" -eq 0 ] || { cat producer.err; false; }
	want data >want
	within 120 totals_are want || { diff want got; false; }
	# a window of 10 minutes sliding every batch holds every record
	within 60 totals_are want "$out-win" || { diff want got; false; }
	# the re-keyed topic holds each record once, a user in one partition
	timeout 30 ds-kafka-cat -b "$B" -t "$src" -e >byuser
	[ "$(wc -l <byuser)" -eq 3000 ]
	[ "$(jq -r '[.value.user, .partition] | @tsv' byuser | sort -u | cut -f1 | uniq -d | wc -l)" -eq 0 ]
	stopmember r1
	stopmember m1
	stopmember m2
	stopmember w1
	stopmember w2
}

@test "scale-out with state: a transactional run with -e waits for its last batch's ack before it leaves the group" {
	src=$(uniq_name sa) cl=$(uniq_name sacl) out=$(uniq_name saout)
	group=g$src
	topics 4
	records 2000 5 >data
	ds-kafka-cat -P -b "$B" -t "$src" --key-field user <data
	mkfifo acks
	# a dynamic member: leaving the group at the end would fence the
	# batches still in the pipe
	timeout 120 ds-kafka-cat -b "$B" -G "$group" -t "$src" --commit none \
	    --acks acks -e -o beginning 2>src.err |
	    ds-batch -i 200ms | ds-map '.value + {partition}' |
	    ds-reduce -k partition,user -a bytes=sum:bytes -a requests=count |
	    ds-state -k user -a bytes=sum:bytes -a requests=sum:requests \
	        --changelog "$cl" -b "$B" |
	    timeout 120 ds-kafka-cat -P -b "$B" -t "$out" --key-field user \
	        --transactional-id "tx$group" -G "$group" >acks 2>sink.err
	[ "${PIPESTATUS[*]}" = "0 0 0 0 0 0" ] || { cat src.err sink.err; false; }
	want data >want
	totals_are want
	topic=$src
	drained "$B" 4
}

# acked_all TOPIC GROUP: GROUP committed, in every partition of TOPIC,
# the offset after its last message
acked_all() {
	timeout 30 ds-kafka-cat -b "$B" -t "$1" -e |
	    jq -s -c 'group_by(.partition) | map([.[0].partition, (map(.offset) | max) + 1]) | .[]' >ends &&
	    timeout 20 ds-kafka-cat --lag -b "$B" -G "$2" -t "$1" |
	    jq -c '[.partition, .committed]' >committed &&
	    [ -s ends ] && cmp -s ends committed
}

# mongo_is FILE: the documents of $db.totals, as want() prints, equal FILE
mongo_is() {
	q find "$db" totals | jq -c '{bytes, requests, user}' >mgot &&
	    cmp -s "$1" mgot
}

@test "scale-out with state: increments into MongoDB with --mode inc, exactly once while members of both stages are killed -9, restarted and stalled past their session" {
	raw=$(uniq_name si) inc=$(uniq_name siinc) db=$(uniq_name sidb)
	group=g$raw
	for t in "$raw 3" "$inc 4"; do
		DS_SERVER_DIR=${DS_SERVER_DIR:-$DS_TOP/build/servers} \
		    timeout 60 "$DS_TOP/test/servers/kafka.sh" topic $t
	done
	scripts
	# no key: a user's records land in any partition of $raw
	produce data 31 4000 100 "$raw" nokey
	member increments i1
	member increments i2
	member mongo s1
	member mongo s2
	# until the producer is done, every few seconds the next of these,
	# over and over
	set -- "crash s1" "crash i1" "stall s2" "restart i2" "stall s1" \
	    "stall i1" "crash s2" "crash i2" "restart s1" "stall i2"
	rounds=0
	while kill -0 "$producer" 2>/dev/null; do
		sleep "1.$((RANDOM % 10))"
		$1
		set -- "${@:2}" "$1"
		rounds=$((rounds + 1))
	done
	chaos_done 8 i1 i2 s1 s2
	want data >want
	within 150 mongo_is want
	# every increment was read and acknowledged by the sinks (the end
	# offset of a transactional topic counts its last commit marker too)
	within 60 acked_all "$inc" "$group-mongo"
	for m in i1 i2 s1 s2; do
		stopmember "$m"
	done
	q drop "$db"
}
