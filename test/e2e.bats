#!/usr/bin/env bats
# End to end over the real broker and FerretDB: the flagship traffic job
# (examples/traffic.sh) killed with SIGKILL at random stages and moments
# and restarted until done, and MongoDB stopped mid-run.  Every expectation is computed here by python3
# from the produced records, and read back through pymongo.

bats_require_minimum_version 1.5.0
load helper

setup() {
	server_setup
}

teardown() {
	kill_pgids
	own_mongo_stop
}

# access N SEED: N access records, few keys (FerretDB scans a collection
# per keyed update, so the key count is kept small), ts over ~2 minutes
access() {
	python3 - "$1" "$2" <<'EOF'
import json, random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
random.seed(seed)
t0 = 1732255200000
for i in range(n):
    print(json.dumps({"id": "r%d-%d" % (seed, i),
        "user": "u%02d" % random.randrange(12),
        "app": random.choice(["live", "vod"]),
        "stream": "s%d" % random.randrange(3),
        "bytes": random.randrange(1, 100000),
        "ts": t0 + i * 120000 // n}, separators=(",", ":")))
EOF
}

# flux FILE COLL: what traffic.sh must leave in COLL, as mongo-q.py
# find prints it (keys sorted, sorted by _id)
flux() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
path, coll = sys.argv[1], sys.argv[2]
fields = {"hls_user_flux": ["user"], "hls_user_app_flux": ["user", "app"],
          "hls_user_app_stream_flux": ["user", "app", "stream"]}[coll]
docs = {}
for l in open(path):
    r = json.loads(l)
    m = r["ts"] // 60000 * 60000
    k = {"user": r["user"], "timestamp": m, "app": None, "stream": None}
    for f in fields:
        k[f] = r[f]
    key = json.dumps(k, sort_keys=True)
    d = docs.setdefault(key, dict(k, coll=coll, bytes=0, requests=0))
    d["bytes"] += r["bytes"]
    d["requests"] += 1
# mongo-q.py sorts by the _id, the key document in --key order
def idkey(d):
    return json.dumps({f: d[f] for f in ["user", "timestamp", "app", "stream"]})
for d in sorted(docs.values(), key=idkey):
    print(json.dumps(d, sort_keys=True, separators=(",", ":")))
EOF
}

# check_flux FILE DB: the three collections equal the reference
check_flux() {
	local c
	for c in hls_user_flux hls_user_app_flux hls_user_app_stream_flux; do
		flux "$1" "$c" >"want.$c"
		q find "$2" "$c" | python3 -c '
import json, sys
for l in sys.stdin:
    print(json.dumps(json.loads(l), sort_keys=True, separators=(",", ":")))' \
		    | sort >"got.$c"
		sort "want.$c" | diff - "got.$c" || {
			echo "collection $c differs" >&2
			return 1
		}
	done
}

# traffic: the flagship job, in its own process group; pid in $job
traffic() {
	setsid env TOPIC="$topic" GROUP="$group" DB="$db" STATE="$T/state" \
	    BROKERS="$DS_TEST_BROKERS" MONGO="$DS_TEST_MONGO_URI" \
	    INTERVAL=300ms AT_END=${AT_END:-1} RATE=${RATE:-200} DS_OUT=cat \
	    SOURCE_OPTS="${SOURCE_OPTS:-}" \
	    timeout 300 "$DS_TOP/examples/traffic.sh" >>out 2>>err &
	job=$!
	pgids="$pgids $job"
}

@test "e2e: the traffic job killed -9 at random stages and moments equals one clean run" {
	topic=$(uniq_name access) group=g$topic db=$(uniq_name hls)
	access 1500 1 >data
	ds-kafka-cat -P -b "$DS_TEST_BROKERS" -t "$topic" --key-field user <data
	# a static member: run again, it has its partitions back at once (a
	# new dynamic member would wait for the dead one's session to end,
	# and be killed before it read anything)
	export SOURCE_OPTS="-X group.instance.id=$group-1 -X session.timeout.ms=6000"
	stages=(ds-kafka-cat ds-batch ds-map ds-reduce ds-sink-mongo)
	kills=0
	for round in $(seq 8); do
		# 20 records/s a partition, for 25 s: every round finds
		# records; each kill comes once the round has written a
		# batch, at a random moment of a later one
		RATE=20 kill_mid_batch traffic 1.5 "${stages[@]}"
		if [ -n "$victim" ]; then
			kills=$((kills + 1))
			echo "round $round: killed $victim" >>kills
		fi
		reap "$job" 30
	done
	# and once more, undisturbed, until the acks have committed the
	# whole topic (FerretDB is slow under load: a generous bound); then
	# stop it
	AT_END=0 traffic
	within 240 drained "$DS_TEST_BROKERS" 3
	pkill -TERM -g "$job" -x ds-kafka-cat
	reap "$job" 60
	cat kills >&3 || true
	[ "$kills" -ge 6 ]
	check_flux data "$db"
	# the indexes of the seeds' project
	q indexes "$db" hls_user_app_stream_flux | grep -qx 'user:1,timestamp:-1,app:1,stream:1'
}

@test "e2e: MongoDB stopped and restarted mid-run: nothing lost, nothing doubled" {
	topic=$(uniq_name access) group=g$topic db=$(uniq_name hls)
	own_mongo	# stopped below: the other tests keep theirs
	export DS_TEST_MONGO_URI=$URI
	access 1500 2 >data
	ds-kafka-cat -P -b "$DS_TEST_BROKERS" -t "$topic" --key-field user <data
	# 10 s of data: the job is still writing when MongoDB goes away
	RATE=50 traffic
	wait_for 60 grep -q '"seq"' out
	DS_SERVER_DIR=$SRV "$DS_TOP/test/servers/mongo.sh" stop-ferret
	wait_for 60 grep -q 'retrying' err
	DS_SERVER_DIR=$SRV "$DS_TOP/test/servers/mongo.sh" start-ferret >/dev/null
	reap "$job" 420
	check_flux data "$db"
}

@test "e2e: a static member (SOURCE_OPTS group.instance.id) killed -9 and run again resumes at once" {
	topic=$(uniq_name access) group=g$topic db=$(uniq_name hls)
	access 1500 4 >data
	ds-kafka-cat -P -b "$DS_TEST_BROKERS" -t "$topic" --key-field user <data
	export SOURCE_OPTS="-X group.instance.id=$group-1"
	AT_END=0 RATE=50 traffic
	within 60 flowing 2
	kill -9 -- "-$job"
	reap "$job" 5
	n=$(nonempty)
	# the broker still counts the dead member in the group until its
	# session times out (45 s): a new dynamic member would get no
	# partition until then; the same static member takes them back
	AT_END=0 RATE=50 traffic
	within 30 flowing $((n + 1))
	within 120 drained "$DS_TEST_BROKERS" 3
	pkill -TERM -g "$job" -x ds-kafka-cat
	reap "$job" 60
	check_flux data "$db"
}

# mock CMD...: a command to the mock cluster (its stdin FIFO), then wait
# for its "ok"
mock() {
	local n
	n=$(grep -cxF "ok $*" mock.out || true)
	echo "$*" >mock.cmd
	within 10 okcount "$*" $((n + 1))
}

# okcount CMD N: the mock has answered "ok CMD" N times
okcount() {
	[ "$(grep -cxF "ok $1" mock.out)" -ge "$2" ]
}

@test "e2e: broker error storm on the mock cluster: nothing lost, nothing doubled, all committed" {
	topic=$(uniq_name access) group=g$topic db=$(uniq_name hls)
	# the mock cluster, its commands through a FIFO held open
	mkfifo mock.cmd
	setsid timeout 200 sleep 200 >mock.cmd &
	pgids="$pgids $!"
	setsid timeout 200 ds-kafka-cat -M 3 <mock.cmd >mock.out 2>mock.err &
	pgids="$pgids $!"
	within 10 test -s mock.out
	mb=$(head -1 mock.out)
	mock topic "$topic" 3
	# the group's coordinator is the broker the storm takes down: the
	# member's commits then wait for one while its records must not
	mock coordinator group "$group" 3
	access 1800 3 >data
	timeout 60 ds-kafka-cat -P -b "$mb" -t "$topic" --key-field user <data
	# 40 records/s a partition: the job takes about 15 s, and the storm
	# hits it mid-stream (once records flow: librdkafka 2.0.2's group
	# join does not get over a coordinator going down under it), also
	# on a loaded machine where the storm's commands take seconds.
	# A short session: the member killed below stays in the group until
	# its session times out, and the new one gets no partition until
	# then (45 s by default, and the mock cluster of librdkafka 2.0.2
	# knows no static members)
	export SOURCE_OPTS="-X session.timeout.ms=8000 -X heartbeat.interval.ms=1500"
	AT_END=0 RATE=40 DS_TEST_BROKERS=$mb traffic
	within 60 flowing 2
	mock error Fetch NOT_LEADER_FOR_PARTITION TRANSPORT NOT_LEADER_FOR_PARTITION
	mock error OffsetCommit COORDINATOR_NOT_AVAILABLE REQUEST_TIMED_OUT
	mock rtt 1 300
	mock leader "$topic" 0 2
	mock down 3
	within 60 flowing 5
	# a restart mid-storm: it resumes from what the acks committed
	kill -9 -- "-$job"
	reap "$job" 5
	mock up 3
	n=$(nonempty)
	AT_END=0 RATE=40 DS_TEST_BROKERS=$mb traffic
	within 60 flowing $((n + 2))
	mock error OffsetCommit REQUEST_TIMED_OUT COORDINATOR_NOT_AVAILABLE
	mock error Fetch TRANSPORT NOT_LEADER_FOR_PARTITION
	mock leader "$topic" 1 3
	mock down 2
	mock rtt 1 0
	mock up 2
	mock leader "$topic" 0 1
	# everything committed, then a clean stop
	within 90 drained "$mb" 3
	pkill -TERM -g "$job" -x ds-kafka-cat
	reap "$job" 30
	check_flux data "$db"
	echo "# $(nonempty) non-empty batches, $n before the restart" >&3
}
