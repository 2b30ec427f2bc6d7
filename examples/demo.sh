#!/usr/bin/env bash
# demo.sh -- "make demo": the main job from start to end on this machine.
# Starts an embedded Kafka (ds-kafka-cat -M, librdkafka's mock cluster)
# and a local MongoDB-compatible server (the FerretDB the tests use),
# feeds generated access-log traffic, runs the flagship traffic pipeline
# (examples/traffic.sh) until the topic is drained, prints the resulting
# per-user/app flux and a per-batch summary (ds-top), and stops what it
# started.  N=records (default 30000), RATE=records/s per partition of
# the 3 (default 400: 1200 records/s), WORK=its directory (default
# build/demo, emptied first; one given must be new or empty).  The tools
# come from PATH (make demo puts build/bin first), else from build/bin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
command -v ds-batch >/dev/null 2>&1 || export PATH="$top/build/bin:$PATH"
N=${N:-30000}
RATE=${RATE:-400}
if [ -n "${WORK:-}" ]; then
	work=$WORK
	[ -z "$(ls -A "$work" 2>/dev/null)" ] ||
		{ echo "demo.sh: WORK=$work is not empty" >&2; exit 2; }
else
	work=$top/build/demo
	rm -rf "$work"
fi
mkdir -p "$work"
cd "$work"

pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	DS_SERVER_DIR=$work "$top/test/servers/mongo.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }

say "starting an embedded Kafka cluster (ds-kafka-cat -M 1)"
mkfifo kafka.cmd
ds-kafka-cat -M 1 <kafka.cmd >kafka.out 2>kafka.err &
pids="$pids $!"
exec 3>kafka.cmd		# hold the command pipe open
for i in $(seq 300); do
	[ -s kafka.out ] && break
	sleep 0.1
done
BROKERS=$(head -1 kafka.out)
[ -n "$BROKERS" ] || { cat kafka.err; exit 1; }
echo "topic access 3" >&3
echo "brokers: $BROKERS"

cache=${DS_CACHE:-$HOME/.cache/ds}
if [ -x "$cache/go/bin/ferretdb" ]; then
	say "starting MongoDB-compatible FerretDB"
else
	say "building FerretDB 1.24 into $cache (first run only: 3 to 10 minutes)"
	echo "(go build from the Go module proxy, and pymongo for the checker;"
	echo " the output goes to $work/mongo.err)"
fi
t0=$(date +%s)
DS_SERVER_DIR=$work "$top/test/servers/mongo.sh" start >mongo.env 2>mongo.err ||
	{ tail -30 mongo.err; exit 1; }
[ $(($(date +%s) - t0)) -gt 20 ] && echo "ready after $(($(date +%s) - t0)) s"
. ./mongo.env
MONGO=$DS_TEST_MONGO_URI
echo "mongodb: $MONGO"

say "producing $N access-log records to topic 'access', keyed by user"
python3 - "$N" <<'PY' | ds-kafka-cat -P -b "$BROKERS" -t access --key-field user
import json, random, sys
random.seed(42)
n = int(sys.argv[1])
t0 = 1732255200000
for i in range(n):
    print(json.dumps({"user": "u%02d" % random.randrange(10),
        "app": random.choice(["live", "vod", "hls", "rtmp"]),
        "stream": "s%d" % random.randrange(3),
        "bytes": random.randrange(1000, 2000000),
        "ip": "10.0.%d.%d" % (random.randrange(256), random.randrange(256)),
        "ts": t0 + i * 120000 // n}, separators=(",", ":")))
PY

say "running the traffic job: Kafka -> ds-batch 1s -> ds-map -> ds-reduce -> ds-sink-mongo"
# ds-top reads the sink's markers as they come: its clock times them.
# On a terminal it draws Spark's Streaming tab live; otherwise the
# summary's last lines are printed at the end.
job() {
	BROKERS=$BROKERS MONGO=$MONGO STATE=$work/state AT_END=1 INTERVAL=1s \
	    RATE=$RATE timeout 240 "$here/traffic.sh" | tee markers.ndjson
}
if [ -t 1 ]; then
	job | ds-top
	echo "done: $(wc -l <markers.ndjson) batches written"
else
	job | ds-top >summary.txt
	echo "done: $(wc -l <markers.ndjson) batches written"
	say "per-batch summary (ds-top, timing the sink's markers as they came)"
	tail -n 12 summary.txt
fi

say "hls_user_app_flux: the top 10 user/app pairs by bytes (of $("$DS_TEST_MONGO_PY" "$top/test/mongo-q.py" "$MONGO" count hls hls_user_app_flux) documents)"
"$DS_TEST_MONGO_PY" "$top/test/mongo-q.py" "$MONGO" find hls hls_user_app_flux |
	ds-reduce -k user,app -a bytes=sum:bytes -a requests=sum:requests |
	python3 -c '
import json, sys
rows = sorted((json.loads(l) for l in sys.stdin), key=lambda r: -r["bytes"])
print("%-6s %-5s %14s %9s" % ("user", "app", "bytes", "requests"))
for r in rows[:10]:
    print("%-6s %-5s %14d %9d" % (r["user"], r["app"], r["bytes"], r["requests"]))'
echo
echo "stopping the servers; the state is in $work"
