#!/usr/bin/env bats
# The seed scenarios in examples/ run end to end on generated input; the
# expected results are computed here with python3, independently.

load helper
bats_require_minimum_version 1.5.0

EX=$DS_TOP/examples
export DS_OUT=cat

# words N: N lines of random words from a small vocabulary (seeded)
words() {
	python3 -c '
import random, sys
random.seed(int(sys.argv[2]))
voc = ["spark", "stream", "kafka", "mongo", "batch", "window", "state", "ds"]
for i in range(int(sys.argv[1])):
    print("  ".join(random.choice(voc) for _ in range(random.randint(0, 6))))
' "$1" "${2:-1}"
}

# counts FILE: {"word":w,"count":n} sorted by word, from python
counts() {
	python3 -c '
import collections, json, re, sys
c = collections.Counter(w for l in open(sys.argv[1]) for w in re.split(r"\s+", l.strip()) if w)
for w in sorted(c):
    print(json.dumps({"word": w, "count": c[w]}, separators=(",", ":")))
' "$1"
}

@test "examples: network word count (NetworkWordCount) sums to the text's counts" {
	words 2000 >text
	counts text >want
	"$EX/network-wordcount.sh" - <text >out
	# batches may split the input: add the per-batch counts up
	jq -c 'select(has("@ds") | not)' out |
	    jq -s -c 'group_by(.word)[] | {word: .[0].word, count: (map(.count) | add)}' >got
	diff want got
	# and every batch is closed by a marker
	[ "$(tail -1 out | jq -r '."@ds"')" = batch ]
}

@test "examples: stateful word count (updateStateByKey) keeps totals across restarts" {
	words 1000 1 >a
	words 1000 2 >b
	cat a b >all
	counts all >want
	"$EX/stateful-wordcount.sh" - "$T/ck" <a >/dev/null
	"$EX/stateful-wordcount.sh" - "$T/ck" <b >out
	# --emit all: the last batch holds every word's running total
	awk '/^\{"@ds"/ { n++ } { print n + 0 "\t" $0 }' out |
	    awk -F'\t' -v last="$(grep -c '^{"@ds"' out)" '$1 == last - 1 { print $2 }' |
	    jq -c 'select(has("@ds") | not)' | jq -s -c 'sort_by(.word)[]' >got
	diff want got
}

@test "examples: windowed word count (reduceByKeyAndWindow) covers a finite input" {
	words 500 >text
	counts text >want
	"$EX/window-wordcount.sh" - <text >out
	# the input arrives within one 6 s window: the last window has it all
	awk '/^\{"@ds"/ { n++; next } { print n + 0 "\t" $0 }' out >tagged
	last=$(cut -f1 tagged | sort -n | tail -1)
	awk -F'\t' -v l="$last" '$1 == l { print $2 }' tagged |
	    jq -s -c 'sort_by(.word)[]' >got
	diff want got
	tail -1 out | jq -e '.window.end - .window.start == 6000 and .window.end % 4000 == 0'
}

@test "examples: blacklist filter (transform + leftOuterJoin) drops blacklisted ips" {
	python3 -c '
import random
random.seed(7)
ips = ["27.19.74.143", "110.52.250.126", "10.0.0.%d"]
for i in range(3000):
    ip = random.choice(ips)
    if "%" in ip:
        ip = ip % random.randrange(20)
    print("%s##2016-05-30 17:38:%02d##GET /p%d HTTP/1.1##200##%d" % (ip, i % 60, i, 100 + i))
print("garbage line without separators")
' >log
	printf '{"ip":"27.19.74.143"}\n{"ip":"110.52.250.126"}\n' >blacklist.ndjson
	python3 -c '
import json, sys
bl = {"27.19.74.143", "110.52.250.126"}
for l in open("log"):
    f = l.rstrip("\n").split("##")
    if len(f) != 5 or f[0] in bl:
        continue
    print(json.dumps({"ip": f[0], "time": f[1], "request": f[2],
        "status": int(f[3]), "bytes": int(f[4])}, separators=(",", ":")))
' >want
	"$EX/blacklist-filter.sh" blacklist.ndjson - <log >out
	grep -v '^{"@ds"' out >got
	diff want got
}

@test "examples: top 3 brands per category since the start (updateStateByKey + row_number)" {
	# brand b of category c appears (b+1)*(c+2) times: no ties
	brand_sales 3 >sales
	brand_top3 sales | jq -c -s 'group_by(.category)[] |
	    {category: .[0].category, top: [.[] | [.brand, .sales]]}' >want
	"$EX/top3-brands.sh" - "$T/ck" <sales >out
	grep -v '^{"@ds"' out |
	    jq -c '{category, top: [.top_sales[] | [.brand, .sales]]}' | sort >got
	diff want got
}

# etl_source N SEED: N messages in the seeds' ETL format (15 fields
# wrapped in <<<!>>>), about 4% malformed (14 fields, or a bad time)
etl_source() {
	python3 - "$1" "$2" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
random.seed(seed)
for i in range(n):
    t = "2018%02d%02d%02d%02d%02d" % (random.randint(1, 12),
        random.randint(1, 28), random.randint(0, 23),
        random.randint(0, 59), random.randint(0, 59))
    f = [str(3000 + i), str(random.randint(1, 40)), t,
         "58.223.1.%d" % random.randint(1, 254), "202.102.92.18",
         str(random.randint(1024, 65535)), "80", "www.sumecjob.com",
         "", "", "", "", "", "http://www.sumecjob.com/p%d.aspx" %
         random.randint(1, 99), str(random.randint(1, 2**32))]
    r = random.random()
    if r < 0.02:
        f = f[:14]
    elif r < 0.04:
        f[2] = "2018-11-%02d" % random.randint(1, 28)
    print(",".join("<<<!>>>%s<<<!>>>" % x for x in f))
PY
}

# etl_want FILE ZONE: "key<TAB>value" of each clean message, sorted; and
# the number of malformed lines in want.bad
etl_want() {
	python3 - "$1" "$2" <<'PY'
import calendar, sys, time
bad, out = 0, []
for l in open(sys.argv[1]):
    f = [x.replace("<<<!>>>", "") for x in l.rstrip("\n").split(",")]
    try:
        assert len(f) == 15
        ts = (calendar.timegm(time.strptime(f[2], "%Y%m%d%H%M%S")) -
              int(sys.argv[2])) * 1000
    except (AssertionError, ValueError):
        bad += 1
        continue
    out.append("%s\t%s|%d|%s:%s|%s:%s|%s" % (f[1], f[1], ts, f[3], f[5],
        f[4], f[6], f[13]))
print("\n".join(sorted(out)))
open("want.bad", "w").write("%d\n" % bad)
PY
}

# etl_got TOPIC: what a committed-read consumer sees, as etl_want prints
etl_got() {
	timeout 60 ds-kafka-cat -b "$DS_TEST_BROKERS" -t "$1" -e |
	    jq -r '"\(.key)\t\(.value)"' | sort
}

# etl_settled TOPIC: etl_got into got, and got has as many lines as want
# (Kafka writes a transaction's commit markers a moment after the commit
# returns; until then a committed read stops before that transaction:
# poll it with within, and diff got whatever came)
etl_settled() {
	etl_got "$1" >got
	[ "$(wc -l <got)" -ge "$(wc -l <want)" ]
}

# lag0 TOPIC: the group's committed offsets are at the end of TOPIC
lag0() {
	ds-kafka-cat --lag -b "$DS_TEST_BROKERS" -G "$group" -t "$1" |
	    jq -e -s 'length > 0 and all(.lag == 0)'
}

# etl: the ETL job in its own process group, pid in $job
etl() {
	setsid env BROKERS="$DS_TEST_BROKERS" SOURCE="$src" TARGET="$dst" \
	    GROUP="$group" STATE="$T/state" INTERVAL=300ms AT_END=${AT_END:-1} \
	    ZONE=${ZONE:-0} ${RATE:+RATE=$RATE} \
	    SOURCE_OPTS="${SOURCE_OPTS:--X session.timeout.ms=6000 -X heartbeat.interval.ms=500}" \
	    timeout 120 "$EX/online-etl.sh" >>out 2>>err &
	job=$!
}

@test "examples: online ETL Kafka -> Kafka (the seeds' <<<!>>> format) cleans every message once" {
	need_kafka
	src=$(uniq_name src) dst=$(uniq_name dst) group=g$src
	etl_source 600 1 >lines
	ZONE=28800 etl_want lines 28800 >want
	jq -R -c '{value: .}' lines |
	    ds-kafka-cat -P -b "$DS_TEST_BROKERS" -t "$src" --value-field value
	ZONE=28800 etl
	wait "$job"
	within 60 etl_settled "$dst" || true
	diff want got
	# the malformed ones are in the rejects, each with its reason
	[ "$(wc -l <state/rejects)" -eq "$(cat want.bad)" ]
	jq -r .error state/rejects | sort -u >reasons
	grep -q '^14 fields, not 15$' reasons
	grep -q '^date "2018-11-.." does not match format "%Y%m%d%H%M%S"$' reasons
	# the transactions committed the group's offsets to the end
	within 30 lag0 "$src"
	# the example's output is the batches, each once it is in Kafka
	grep -q '^{"@ds":"batch"' out
}

@test "examples: online ETL killed -9 at random stages and moments: every message exactly once" {
	need_kafka
	src=$(uniq_name src) dst=$(uniq_name dst) group=g$src
	etl_source 1500 2 >lines
	etl_want lines 0 >want
	jq -R -c '{value: .}' lines |
	    ds-kafka-cat -P -b "$DS_TEST_BROKERS" -t "$src" --value-field value
	# a static member: run again, it has its partitions back at once (a
	# new dynamic member would wait for the dead one's session to end,
	# and be killed before it read anything)
	export SOURCE_OPTS="-X group.instance.id=$group-1 -X session.timeout.ms=6000"
	# ds-kafka-cat two times in three: its producer half too, which
	# holds the transaction
	stages=(ds-kafka-cat ds-kafka-cat ds-kafka-cat ds-kafka-cat ds-batch ds-map)
	kills=0
	for round in $(seq 6); do
		# 20 records/s a partition: every round finds records; each
		# kill comes once the round has committed a batch, at a
		# random moment of a later one
		RATE=20 kill_mid_batch etl 1.5 "${stages[@]}"
		[ -z "$victim" ] || kills=$((kills + 1))
		reap "$job" 120
	done
	# once more, undisturbed, until the transactions have committed the
	# whole topic; then stop it.  (Not -e: a member killed in the last
	# round can still hold partitions in the new member's first
	# assignment, and -e ends at the end of the partitions it owns.)
	AT_END=0 etl
	within 120 lag0 "$src"
	pkill -TERM -g "$job" -x ds-kafka-cat
	wait "$job" || true
	[ "$kills" -ge 3 ]
	within 60 etl_settled "$dst" || true
	diff want got
}

@test "examples: make demo's job, small: every record in ds-top's summary, the collection read back, the servers stopped" {
	run -0 --separate-stderr env N=3000 WORK="$T/demo" timeout 280 "$EX/demo.sh"
	# the sink's markers, timed by ds-top, count every record produced
	[[ "$output" == *"total: "*" batches, 3000 records, avg "* ]]
	# the top 10 user/app pairs, read back from the server
	[[ "$output" == *"user   app            bytes  requests"* ]]
	[ "$(printf '%s\n' "$output" | grep -cE '^u0[0-9] +(live|vod|hls|rtmp) +[0-9]+ +[0-9]+$')" -eq 10 ]
	# FerretDB's pid file goes once it is stopped
	[ -s demo/mongo.env ]
	[ ! -e demo/mongo/ferret.pid ]
	# a WORK that is not empty is refused before anything starts
	run -2 --separate-stderr env WORK="$T/demo" "$EX/demo.sh"
	[[ "$stderr" == *"is not empty"* ]]
}
