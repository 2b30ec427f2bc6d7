#!/usr/bin/env bats
# ds-sink-mongo against FerretDB (test/servers/mongo.sh).  Every result is
# read back through an independent client (test/mongo-q.py, pymongo) and
# compared with values computed here by python3, never by the sink.

bats_require_minimum_version 1.5.0
load helper

q() {
	timeout 60 "$DS_TEST_MONGO_PY" "$DS_TOP/test/mongo-q.py" \
	    "${URI:-$DS_TEST_MONGO_URI}" "$@"
}

sink() {
	timeout 120 ds-sink-mongo --uri "${URI:-$DS_TEST_MONGO_URI}" "$@"
}

# marker N: a batch marker with seq N
mk() {
	printf '{"@ds":"batch","seq":%d,"time":%d000,"interval":1000,"count":0,"offsets":[]}\n' "$1" "$1"
}

# expected documents from an NDJSON file, like mongo-q.py find prints
# them: python3 reduces records per key with the mode's rule
expect_docs() {
	python3 - "$@" <<'EOF'
import json, sys
mode, key, path = sys.argv[1], sys.argv[2], sys.argv[3]
docs = {}
for line in open(path):
    r = json.loads(line)
    if "@ds" in r:
        continue
    k = r[key]
    d = docs.setdefault(k, {})
    if mode == "upsert":
        docs[k] = dict(r)
    elif mode == "merge":
        d.update(r)
    elif mode == "inc":
        for f, v in r.items():
            if f != key and isinstance(v, (int, float)) and not isinstance(v, bool):
                d[f] = d.get(f, 0) + v
            else:
                d[f] = v
for k in sorted(docs, key=lambda x: json.dumps(x)):
    print(json.dumps(docs[k], separators=(",", ":"), sort_keys=True))
EOF
}

@test "ds-sink-mongo: -h prints the usage, exit 0" {
	shows_usage ds-sink-mongo "[--uri URI] -d DB"
}

@test "ds-sink-mongo: usage errors exit 2" {
	while IFS='|' read -r args why; do
		run --separate-stderr bash -c "DS_MONGO_URI=mongodb://127.0.0.1:1/ ds-sink-mongo $args </dev/null"
		[ "$status" -eq 2 ] || { echo "args: $args status $status"; return 1; }
		[[ "$stderr" == *"$why"* ]] || { echo "args: $args: $stderr"; return 1; }
	done <<'EOF'
-c x|need -d DB
-d d|need -d DB
-d d -c x --collection-field f|need -d DB
-d d -c x --mode replace|--mode replace
-d d -c x --w 0|--w 0
-d d -c x --w many|--w many
-d d -c x --batch-size 0|--batch-size 0
-d d -c x --index user:2|direction of user
-d d -c x --index '$x:1'|bad field name
-d d -c x --key ''|--key
-d d -c x --bogus|usage:
EOF
	run --separate-stderr bash -c 'unset DS_MONGO_URI; ds-sink-mongo -d d -c x </dev/null'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"DS_MONGO_URI"* ]]
	run --separate-stderr ds-sink-mongo --uri http://x/ -d d -c x </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"invalid URI"* ]]
}

@test "ds-sink-mongo: each mode, checked with pymongo" {
	need_mongo
	db=$(uniq_name m)
	python3 -c '
import random
random.seed(7)
for i in range(300):
    print("{\"user\":\"u%d\",\"bytes\":%d,\"app\":\"a%d\",\"n%d\":1}" % (i % 37, random.randint(1, 999), i % 4, i % 3))
' >in.ndjson
	for mode in upsert merge inc; do
		sink -d "$db" -c "$mode" --mode "$mode" --key user \
		    --batch-size 10 <in.ndjson
		expect_docs "$mode" user in.ndjson >want
		q find "$db" "$mode" | python3 -c '
import json, sys
for l in sys.stdin: print(json.dumps(json.loads(l), separators=(",", ":"), sort_keys=True))' >got
		diff want got || { echo "mode $mode differs"; return 1; }
	done
	sink -d "$db" -c ins --mode insert <in.ndjson
	[ "$(q count "$db" ins)" -eq 300 ]
	# insert keeps every record as it is
	python3 -c 'import json,sys
print(sum(json.loads(l)["bytes"] for l in open("in.ndjson")))' >want
	q find "$db" ins | python3 -c 'import json,sys
print(sum(json.loads(l)["bytes"] for l in sys.stdin))' >got
	diff want got
	# plain input: nothing on stdout (stderr apart: a slow server's
	# retry warnings go there)
	run --separate-stderr sink -d "$db" -c plain --mode insert <in.ndjson
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "ds-sink-mongo: inc over two batches gives exact sums; a rerun changes nothing" {
	need_mongo
	db=$(uniq_name inc)
	{
		printf '{"user":"a","bytes":5,"hits":1}\n{"user":"b","bytes":7,"hits":1}\n{"user":"a","bytes":2.5,"hits":1}\n'
		mk 1
		printf '{"user":"a","bytes":10,"hits":1,"app":"x"}\n{"user":"c","bytes":1,"hits":1}\n'
		mk 2
	} >in.ndjson
	expect_docs inc user in.ndjson >want
	dsrun "$(cat in.ndjson)" ds-sink-mongo --uri "$DS_TEST_MONGO_URI" -d "$db" -c flux --mode inc --key user
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	[[ "${lines[0]}" == *'"seq":1,'*'"written":{"inserted":0,"matched":0,"modified":0,"upserted":2,"duplicate":0}'* ]]
	[[ "${lines[1]}" == *'"seq":2,'*'"matched":1,"modified":1,"upserted":1'* ]]
	q find "$db" flux >got
	diff want got
	# a: 5+2.5+10, hits 3 (checked by hand too)
	grep -qx '{"app":"x","bytes":17.5,"hits":3,"user":"a"}' got
	sink -d "$db" -c flux --mode inc --key user <in.ndjson >out2
	grep -c '"replayed":true' out2 | grep -qx 2
	q find "$db" flux >got2
	diff want got2
	[ "$(q progress "$db" "$db.flux")" -eq 2 ]
}

@test "ds-sink-mongo: --index creates single and compound indexes with directions" {
	need_mongo
	db=$(uniq_name ix)
	printf '{"user":"a","timestamp":1,"app":"x","stream":"s"}\n' |
	    sink -d "$db" -c flux --index 'user:1' \
	    --index 'user:1,timestamp:-1,app:1,stream:1' --index app:-1
	q indexes "$db" flux >got
	printf '%s\n' _id:1 app:-1 user:1 user:1,timestamp:-1,app:1,stream:1 >want
	diff want got
	# with --collection-field every collection gets them
	printf '{"c":"p","user":"a"}\n{"c":"q","user":"b"}\n' |
	    sink -d "$db" --collection-field c --index 'user:1,timestamp:-1'
	[ "$(q indexes "$db" q)" = "$(printf '_id:1\nuser:1,timestamp:-1')" ]
	[ "$(q find "$db" p)" = '{"c":"p","user":"a"}' ]
}

@test "ds-sink-mongo: merge merges fields of several batches into one document" {
	need_mongo
	db=$(uniq_name mg)
	{
		printf '{"user":"a","city":"x"}\n'; mk 1
		printf '{"user":"a","plan":"pro"}\n'; mk 2
		printf '{"user":"a","city":"y","n":{"k":1}}\n'; mk 3
	} | sink -d "$db" -c u --mode merge --key user >/dev/null
	[ "$(q find "$db" u)" = '{"city":"y","n":{"k":1},"plan":"pro","user":"a"}' ]
	[ "$(q count "$db" u)" -eq 1 ]
}

@test "ds-sink-mongo: compound --key, _id is the key" {
	need_mongo
	db=$(uniq_name ck)
	printf '{"user":"a","app":"x","b":1}\n{"user":"a","app":"y","b":2}\n{"user":"a","app":"x","b":3}\n' |
	    sink -d "$db" -c f --mode inc --key user,app
	[ "$(q find "$db" f)" = "$(printf '%s\n' '{"app":"x","b":4,"user":"a"}' '{"app":"y","b":2,"user":"a"}')" ]
	q ids "$db" f | sort >ids
	grep -qx '{"user": "a", "app": "x"}' ids
}

@test "ds-sink-mongo: already-applied batches are skipped and still forwarded" {
	need_mongo
	db=$(uniq_name rp)
	{ printf '{"user":"a","b":1}\n'; mk 1; printf '{"user":"a","b":2}\n'; mk 2; } >first
	{ cat first; printf '{"user":"a","b":4}\n'; mk 3; } >all
	sink -d "$db" -c f --mode inc --key user <first >/dev/null
	sink -d "$db" -c f --mode inc --key user --acks acks.out <all >out
	[ "$(grep -c '"replayed":true' out)" -eq 2 ]
	grep '"seq":3' out | grep -q '"matched":1,"modified":1'
	[ "$(q find "$db" f)" = '{"b":7,"user":"a"}' ]
	# the ack path got exactly what stdout got
	diff out acks.out
	# insert mode is exactly-once through the progress record as well
	sink -d "$db" -c i <all >/dev/null
	sink -d "$db" -c i <all >/dev/null
	[ "$(q count "$db" i)" -eq 3 ]
	# --id: a different sink identity has its own progress
	sink -d "$db" -c i --id other <first >/dev/null
	[ "$(q count "$db" i)" -eq 5 ]
	[ "$(q progress "$db" other)" -eq 2 ]
}

@test "ds-sink-mongo: killed between the bulk write and the progress record: no double \$inc" {
	need_mongo
	db=$(uniq_name kill)
	{
		printf '{"user":"a","b":1}\n{"user":"b","b":10}\n'; mk 1
		printf '{"user":"a","b":2}\n{"user":"c","b":5}\n'; mk 2
		printf '{"user":"a","b":4}\n'; mk 3
	} >in.ndjson
	expect_docs inc user in.ndjson >want
	run env DS_SINK_MONGO_CRASH_AFTER_WRITE=2 timeout 60 ds-sink-mongo \
	    --uri "$DS_TEST_MONGO_URI" -d "$db" -c f --mode inc --key user <in.ndjson
	[ "$status" -eq 137 ]		# SIGKILL, as kill -9
	[ "$(q progress "$db" "$db.f")" -eq 1 ]
	run --separate-stderr sink -d "$db" -c f --mode inc --key user <in.ndjson
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == *'"seq":2,'*'"duplicate":2'* ]]
	q find "$db" f >got
	diff want got
	# keyed insert: the retried documents are already there
	run env DS_SINK_MONGO_CRASH_AFTER_WRITE=1 timeout 60 ds-sink-mongo \
	    --uri "$DS_TEST_MONGO_URI" -d "$db" -c i --key user <in.ndjson
	[ "$status" -eq 137 ]
	sink -d "$db" -c i --key user <in.ndjson >out
	grep '"seq":1,' out | grep -q '"duplicate":2'
	[ "$(q count "$db" i)" -eq 3 ]
}

@test "ds-sink-mongo: a batch cut off part-way is completed on replay (guarded ops after a duplicate still run)" {
	need_mongo
	db=$(uniq_name part)
	# the first run wrote batch 2 only in part (a and c), as a bulk write
	# cut off by a crash would; the replay has the whole batch
	{ printf '{"user":"a","b":1}\n'; mk 1; } >b1
	{ cat b1; printf '{"user":"a","b":2}\n{"user":"c","b":5}\n'; mk 2; } >part
	{ cat b1; printf '{"user":"a","b":2}\n{"user":"c","b":5}\n{"user":"d","b":6}\n{"user":"e","b":7}\n'; mk 2; } >full
	run env DS_SINK_MONGO_CRASH_AFTER_WRITE=2 timeout 60 ds-sink-mongo \
	    --uri "$DS_TEST_MONGO_URI" -d "$db" -c f --mode inc --key user <part
	[ "$status" -eq 137 ]
	sink -d "$db" -c f --mode inc --key user <full >out
	grep '"seq":2,' out | grep -q '"upserted":2,"duplicate":2'
	expect_docs inc user full >want
	q find "$db" f >got
	diff want got
}

@test "ds-sink-mongo: bad records (\$ keys, dotted keys, NaN, no key, not JSON)" {
	need_mongo
	db=$(uniq_name bad)
	printf '%s\n' '{"user":"a","a.b":1}' '{"user":"a","$x":1}' \
	    '{"user":"a","n":{"$numberDouble":"NaN"}}' '[1]' 'nope' \
	    '{"b":1}' '{"user":"a","n":{"$inner":1}}' '{"user":"a","ok":1}' >in
	mk 1 >>in
	run --separate-stderr sink -d "$db" -c f --mode merge --key user --dead-letter dl <in
	[ "$status" -eq 0 ]
	[ "$(wc -l <dl)" -eq 7 ]
	[[ "$output" == *'"bad":7'* ]]
	python3 -c 'import json
for l in open("dl"): d = json.loads(l); assert d["line"] in (1,2,3,4,5,6,7), d'
	[ "$(q find "$db" f)" = '{"ok":1,"user":"a"}' ]
	# default policy: report and exit 1
	run --separate-stderr sink -d "$db" -c g <in
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"<stdin>:1: a key contains '.'"* ]]
	# extended JSON values are MongoDB types, not bad records
	printf '{"d":{"$date":"2024-01-01T00:00:00Z"}}\n' | sink -d "$db" -c x
	[ "$(q find "$db" x)" = '{"d":{"$date":"2024-01-01T00:00:00Z"}}' ]
}

@test "ds-sink-mongo: DS_MONGO_URI, long option names, --w majority and --w N" {
	need_mongo
	db=$(uniq_name opt)
	{ printf '{"user":"a","b":1}\n'; mk 1; } >in
	DS_MONGO_URI=$DS_TEST_MONGO_URI timeout 60 ds-sink-mongo --db "$db" \
	    --collection f --mode upsert --key user --w majority <in >out
	grep -q '"upserted":1' out
	{ printf '{"user":"b","b":2}\n'; mk 1; } |
	    sink -d "$db" -c g --mode merge --key user --w 1 >/dev/null
	[ "$(q find "$db" f)" = '{"b":1,"user":"a"}' ]
	[ "$(q find "$db" g)" = '{"b":2,"user":"b"}' ]
}

@test "ds-sink-mongo: a 100k-key batch" {
	need_mongo
	db=$(uniq_name big)
	python3 -c '
for i in range(100000): print("{\"user\":\"u%d\",\"bytes\":%d}" % (i, i % 1000))
print("{\"@ds\":\"batch\",\"seq\":1,\"time\":1,\"interval\":1,\"count\":100000,\"offsets\":[]}")' >in
	run sink -d "$db" -c f --key user <in
	[ "$status" -eq 0 ]
	[[ "$output" == *'"inserted":100000,'* ]]
	[ "$(q count "$db" f)" -eq 100000 ]
	python3 -c 'print(sum(i % 1000 for i in range(100000)))' >want
	q find "$db" f | python3 -c 'import json,sys
print(sum(json.loads(l)["bytes"] for l in sys.stdin))' >got
	diff want got
}

@test "ds-sink-mongo: inc of 150 existing keys in one batch completes (FerretDB: small commands)" {
	need_mongo
	db=$(uniq_name many)
	# FerretDB 1.24 hangs for good on one update command that matches
	# 100 or more documents: the sink must split such a batch itself
	python3 -c '
for b in (1, 2):
    for i in range(150): print("{\"user\":\"u%d\",\"n\":%d}" % (i, b))
    print("{\"@ds\":\"batch\",\"seq\":%d,\"time\":%d,\"interval\":1,\"count\":150,\"offsets\":[]}" % (b, b))' >in
	# stderr apart: a slow server's retry warnings are not markers; a
	# retried request may find some of its updates applied (duplicate)
	run --separate-stderr sink -d "$db" -c f --mode inc --key user <in
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.seq == 2) | .written | .matched + .duplicate' <<<"$output")" = 150 ]
	[ "$(q find "$db" f | grep -c '"n":3,')" -eq 150 ]
}

@test "ds-sink-mongo: --id-format string: _id is the key values as JSON text" {
	need_mongo
	db=$(uniq_name ids)
	{ printf '%s\n' '{"user":"a","t":1,"n":1}' '{"user":"a\"b","t":2.0,"n":2}' \
	    '{"user":"a","t":1,"n":4}'; mk 1; } >in
	run sink -d "$db" -c f --mode inc --key user,t --id-format string <in
	[ "$status" -eq 0 ]
	[ "$(q ids "$db" f | sort)" = "$(printf '%s\n' '"[\"a\",1]"' '"[\"a\\\"b\",2]"')" ]
	[ "$(q find "$db" f | sort)" = "$(printf '%s\n' '{"n":2,"t":2.0,"user":"a\"b"}' '{"n":5,"t":1,"user":"a"}')" ]
	# a key field missing is a bad record; string ids need --key
	printf '{"user":"a","n":1}\n' >in2
	run --separate-stderr sink -d "$db" -c f --mode inc --key user,t --id-format string <in2
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"<stdin>:1: key field missing"* ]]
	run --separate-stderr sink -d "$db" -c f --mode insert --id-format string </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--id-format string needs --key"* ]]
	run --separate-stderr sink -d "$db" -c f --id-format bson </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--id-format bson: object or string"* ]]
}

@test "ds-sink-mongo: the password never appears in diagnostics" {
	# -k: a process that ignored SIGTERM must fail the test, not hang it
	run --separate-stderr timeout -k 20 -s TERM 3 ds-sink-mongo \
	    --uri 'mongodb://bob:s3cr3t@127.0.0.1:1/?serverSelectionTimeoutMS=200' \
	    -d d -c x </dev/null
	[ "$status" -eq 124 ]		# SIGTERM from timeout while retrying
	[[ "$stderr" == *"stopped while MongoDB was unreachable"* ]]
	[[ "$stderr" == *"127.0.0.1:1: reading progress"*"retrying in"* ]]
	[[ "$stderr" != *s3cr3t* ]]
	[[ "$stderr" != *bob* ]]
}

teardown() {
	[ -n "${SINKPID:-}" ] && kill "$SINKPID" 2>/dev/null
	[ -n "${FEEDPID:-}" ] && kill "$FEEDPID" 2>/dev/null
	own_mongo_stop
}

@test "ds-sink-mongo: started while MongoDB is down, it waits and then delivers" {
	need_mongo
	own_mongo
	DS_SERVER_DIR=$SRV "$DS_TOP/test/servers/mongo.sh" stop-ferret
	{ printf '{"user":"a","b":2}\n{"user":"a","b":3}\n'; mk 1; } >in
	timeout 90 ds-sink-mongo --uri "$URI" -d w -c f --mode inc --key user \
	    --index user:1 <in >out 2>err &
	SINKPID=$!
	wait_for 30 grep -q 'retrying in' err
	[ ! -s out ]
	DS_SERVER_DIR=$SRV "$DS_TOP/test/servers/mongo.sh" start-ferret
	wait "$SINKPID"
	SINKPID=
	grep -q '"seq":1,' out
	[ "$(q find w f)" = '{"b":5,"user":"a"}' ]
	[ "$(q indexes w f)" = "$(printf '_id:1\nuser:1')" ]
}

@test "ds-sink-mongo: MongoDB stopped mid-stream then restarted: nothing lost" {
	need_mongo
	own_mongo
	mkfifo feed
	timeout 120 ds-sink-mongo --uri "$URI" -d s -c f --mode inc --key user \
	    <feed >out 2>err &
	SINKPID=$!
	exec 7>feed
	{ printf '{"user":"a","b":1}\n'; mk 1; } >&7
	wait_for 30 grep -q '"seq":1,' out
	DS_SERVER_DIR=$SRV "$DS_TOP/test/servers/mongo.sh" stop-ferret 7>&-
	{ printf '{"user":"a","b":10}\n{"user":"b","b":1}\n'; mk 2; } >&7
	wait_for 30 grep -q 'retrying in' err
	! grep -q '"seq":2,' out
	DS_SERVER_DIR=$SRV "$DS_TOP/test/servers/mongo.sh" start-ferret 7>&-
	wait_for 60 grep -q '"seq":2,' out
	{ printf '{"user":"a","b":100}\n'; mk 3; } >&7
	exec 7>&-
	wait "$SINKPID"
	SINKPID=
	[ "$(grep -c '"@ds"' out)" -eq 3 ]
	[ "$(q find s f)" = "$(printf '%s\n' '{"b":111,"user":"a"}' '{"b":1,"user":"b"}')" ]
}

# in_poll PID: the process's main thread waits in poll(2), not in read(2)
in_poll() {
	awk '{ exit !($1 == 7 || $1 == 271) }' "/proc/$1/syscall"
}

@test "ds-sink-mongo: SIGTERM while the server hangs: a prompt exit, the batch not acknowledged" {
	need_mongo
	own_mongo
	mkfifo feed
	ds-sink-mongo --uri "$URI" -d h -c f --mode inc --key user \
	    --acks acks <feed >out 2>err &
	SINKPID=$!
	exec 7>feed
	{ printf '{"user":"a","b":1}\n'; mk 1; } >&7
	wait_for 30 grep -q '"seq":1,' out
	FERRET=$(cat "$SRV/mongo/ferret.pid")
	kill -STOP "$FERRET"
	{ printf '{"user":"a","b":10}\n'; mk 2; } >&7
	wait_for 30 in_poll "$SINKPID"		# in the bulk write
	kill -TERM "$SINKPID"
	run wait_for 10 eval '! kill -0 $SINKPID'
	kill -CONT "$FERRET"
	[ "$status" -eq 0 ]
	run wait "$SINKPID"
	SINKPID=
	exec 7>&-
	[ "$status" -eq 1 ]
	grep -q 'stopped while waiting for the server: batch not acknowledged' err
	[ "$(grep -c '"@ds"' out)" -eq 1 ]
	[ "$(grep -c '"@ds"' acks)" -eq 1 ]
}

@test "ds-sink-mongo: inc: a new stream (seq from 1 again) is applied, its replay is not" {
	need_mongo
	db=$(uniq_name ns)
	# by hand: stream s1 adds 5; stream s2 (a restarted ds-batch: the
	# same seq and time, another stream) adds 7 -> 12; s2 replayed -> 12
	printf '{"user":"a","bytes":5}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[],"stream":"s1"}\n' >s1
	printf '{"user":"a","bytes":7}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[],"stream":"s2"}\n' >s2
	sink -d "$db" -c flux --mode inc --key user <s1 >/dev/null
	sink -d "$db" -c flux --mode inc --key user <s2 >out
	! grep -q replayed out
	[ "$(q find "$db" flux)" = '{"bytes":12,"user":"a"}' ]
	sink -d "$db" -c flux --mode inc --key user <s2 >out
	grep -q '"replayed":true' out
	[ "$(q find "$db" flux)" = '{"bytes":12,"user":"a"}' ]
	# the per-document guard alone (no progress record) also tells
	# the streams apart: forget the progress, replay s2, still 12
	"$DS_TEST_MONGO_PY" -c 'import pymongo,sys; pymongo.MongoClient(sys.argv[1])[sys.argv[2]].ds_progress.delete_many({})' "$DS_TEST_MONGO_URI" "$db"
	sink -d "$db" -c flux --mode inc --key user <s2 >out
	[ "$(q find "$db" flux)" = '{"bytes":12,"user":"a"}' ]
}

@test "ds-sink-mongo: --acks FIFO with no reader: a warning, no hang, the batch is written" {
	need_mongo
	db=$(uniq_name nr)
	mkfifo acks
	run --separate-stderr timeout 60 bash -c 'printf "{\"user\":\"a\",\"n\":1}\n{\"@ds\":\"batch\",\"seq\":1,\"time\":1000,\"interval\":1000,\"count\":1,\"offsets\":[]}\n" |
	    ds-sink-mongo --uri "$1" -d "$2" -c c --mode upsert --key user --acks acks' _ "$DS_TEST_MONGO_URI" "$db"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"acks: no reader"* ]]
	[ "$(q find "$db" c)" = '{"n":1,"user":"a"}' ]
}

# envs FILE: ds-kafka-cat envelopes of the records of FILE (lines
# "PARTITION OFFSET JSON"), from the topic t.x
envs() {
	while read -r p o v; do
		printf '{"topic":"t.x","partition":%d,"offset":%d,"ts":0,"key":null,"headers":{},"value":%s}\n' "$p" "$o" "$v"
	done <"$1"
}

# sinks COLL MODE FILE...: a run of the sink --envelope --key user into
# $db.COLL for each FILE, one after the other
sinks() {
	local f
	for f in "${@:3}"; do
		sink -d "$db" -c "$1" --envelope --mode "$2" --key user "$f" \
		    >/dev/null || return 1
	done
}

@test "ds-sink-mongo --envelope: each message once, whatever the batches; guards per topic and partition; a key's messages of a partition in one write" {
	need_mongo
	db=$(uniq_name env)
	# a's three messages in one batch are one write, from its first
	# offset to its last; partition 1 has a guard of its own
	printf '%s\n' '0 1 {"user":"a","n":1}' '0 2 {"user":"b","n":2}' \
	    '0 3 {"user":"a","n":4}' '0 4 {"user":"a","n":8}' >one
	printf '%s\n' '0 3 {"user":"a","n":4}' '0 4 {"user":"a","n":8}' \
	    '0 5 {"user":"a","n":16}' '1 0 {"user":"a","n":32}' \
	    '1 1 {"user":"b","n":64}' >two
	{ envs one; mk 1; } >e1
	{ envs two; mk 1; } >e2
	run -0 --separate-stderr sink -d "$db" -c c --envelope --mode inc --key user e1
	[[ "$output" == *'"upserted":2,"duplicate":0'* ]]
	# a second run over other batches, half of them applied
	run -0 --separate-stderr sink -d "$db" -c c --envelope --mode inc --key user e2
	[[ "$output" == *'"duplicate":2}'* ]]
	run -0 --separate-stderr sink -d "$db" -c c --envelope --mode inc --key user e2 e1
	[[ "$output" == *'"duplicate":5}'*'"duplicate":4}'* ]]
	q find "$db" c >got
	[ "$(sed -n 1p got)" = '{"_ds_o":{"t_x":{"0":5,"1":0}},"n":61,"user":"a"}' ]
	[ "$(sed -n 2p got)" = '{"_ds_o":{"t_x":{"0":2,"1":1}},"n":66,"user":"b"}' ]
	# merge: a later message wins, an older one never comes back; b's
	# first message in partition 0 is new to that partition's guard
	sinks m merge e2 e1
	[ "$(q find "$db" m | jq -c '[.user, .n]' | tr -d '\n')" = '["a",32]["b",2]' ]
}

@test "ds-sink-mongo --envelope: insert without --key is exactly once by the message's place; upsert keeps the latest" {
	need_mongo
	db=$(uniq_name envi)
	printf '%s\n' '0 7 {"user":"a","n":1}' '0 8 {"_id":"mine","n":2}' \
	    '0 9 {"user":"a","n":3}' >one
	{ envs one; mk 1; } >e1
	run -0 --separate-stderr sink -d "$db" -c i --envelope e1 e1
	[[ "$output" == *'"inserted":3,'*'"inserted":0,'*'"duplicate":3}'* ]]
	[ "$(q ids "$db" i | sort | tr '\n' ' ')" = '"mine" "t.x:0:7" "t.x:0:9" ' ]
	# upsert: the replacement of an older message is refused
	printf '%s\n' '0 7 {"user":"a","n":1}' >old
	printf '%s\n' '0 9 {"user":"a","n":3}' >new
	{ envs old; mk 1; } >e2
	{ envs new; mk 1; } >e3
	sinks u upsert e3 e2
	[ "$(q find "$db" u | jq -c '[.user, .n]')" = '["a",3]' ]
}

@test "ds-sink-mongo --envelope: members that each read again from an older offset, in other batches: every sum exact" {
	need_mongo
	db=$(uniq_name envr)
	python3 - <<'PY' >in
import json, random
random.seed(5)
offs = [0] * 4
for i in range(1200):
    u = random.randrange(30)
    p = u % 4
    print(json.dumps({"topic": "src", "partition": p, "offset": offs[p],
        "value": {"user": "u%02d" % u, "n": random.randrange(1, 100)}},
        separators=(",", ":")))
    offs[p] += 1
PY
	jq -c .value in >values
	expect_docs inc user values >want
	# as after rebalances: each run starts before where the last one
	# got to, and cuts its batches elsewhere
	for run in "1 500 50" "301 800 77" "1 1000 123" "601 1200 31"; do
		set -- $run
		sed -n "$1,$2p" in | ds-batch -n "$3" |
		    sink -d "$db" -c c --envelope --mode inc --key user >"out.$3"
	done
	q find "$db" c | jq -c 'del(._ds_o)' >got
	diff want got
	# what the first runs wrote, the later ones left out
	[ "$(jq -s '[.[].written.duplicate] | add' out.77)" -eq 200 ]
	[ "$(jq -s '[.[].written.duplicate] | add' out.123)" -eq 800 ]
}

@test "ds-sink-mongo --envelope: records that are no envelope, or whose value is no document, are bad records" {
	need_mongo
	db=$(uniq_name envb)
	printf '%s\n' '{"user":"a","n":1}' \
	    '{"topic":"t","partition":0,"offset":1,"value":"text"}' \
	    '{"topic":"t","partition":0,"offset":2}' >in
	run -1 --separate-stderr sink -d "$db" -c c --envelope --mode inc --key user in
	[[ "$stderr" == *"in:1: not a ds-kafka-cat envelope with a value (--envelope)"* ]]
	run -0 --separate-stderr sink -d "$db" -c c --envelope --mode inc --key user --skip-bad in
	[[ "$stderr" == *"in:2: value: "* ]]
	[[ "$stderr" == *"in:3: not a ds-kafka-cat envelope"* ]]
	[ "$(q count "$db" c)" -eq 0 ]
}

@test "ds-sink-mongo: libmongoc's statistics file in /dev/shm is gone once the sink runs, so a killed sink leaves nothing there" {
	need_mongo
	db=$(uniq_name shm)
	fifo_job out ds-sink-mongo --uri "$DS_TEST_MONGO_URI" -d "$db" -c t
	{ echo '{"a":1}'; mk 1; } >&7
	wait_for 60 grep -q '"@ds"' out
	[ ! -e "/dev/shm/mongoc-$pid" ]
	kill -9 "$pid"
	exec 7>&-
	[ ! -e "/dev/shm/mongoc-$pid" ]
}
