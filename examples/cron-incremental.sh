#!/usr/bin/env bash
# cron-incremental.sh -- an incremental job for cron: consume what is new
# in a topic since the last run, add each user's bytes and requests, add
# them to the totals in MongoDB exactly once, and exit.  It replaces a
# Spark batch job started by a scheduler that keeps its offsets itself.
#
# crontab (every five minutes; one run at a time):
#   */5 * * * * BROKERS=kafka:9092 MONGO=mongodb://db/ STATE=/var/lib/ds/flux
#       /opt/ds/examples/cron-incremental.sh >>/var/log/ds-flux.log 2>&1
#
# Exit status, for the scheduler:
#   0  done: every record there was is in MongoDB and its offsets are
#      committed; or skipped: the previous run still holds the lock (a
#      message says so), and the next run takes over its work
#   1  a data or runtime error (a bad record, Kafka or MongoDB down):
#      nothing is committed past the last batch that was written; the
#      next run starts there, and the batches it replays are not added
#      twice
#   2  usage: a required variable is missing
#
# How it is exactly once: the consumer commits only what the sink
# acknowledged (--acks); ds-batch --log cuts a replay at the same
# boundaries, and ds-sink-mongo skips batches it has recorded.
#
# usage: cron-incremental.sh
#   BROKERS, MONGO, TOPIC (access), GROUP (flux-cron), DB (hls),
#   COLL (user_totals), STATE (directory: lock, batch log, acks),
#   BATCH (records per batch, 1000)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v ds-batch >/dev/null 2>&1 || PATH="$here/../build/bin:$PATH"
usage() {
	echo "cron-incremental: $*" >&2
	echo "usage: BROKERS=host:port MONGO=uri STATE=dir $0" >&2
	exit 2
}
[ $# -eq 0 ] || usage "takes no arguments"
[ -n "${BROKERS:-}" ] || usage "BROKERS is not set"
[ -n "${MONGO:-}" ] || usage "MONGO is not set"
[ -n "${STATE:-}" ] || usage "STATE is not set"
: "${TOPIC:=access}" "${GROUP:=flux-cron}" "${DB:=hls}"
: "${COLL:=user_totals}" "${BATCH:=1000}"
mkdir -p "$STATE" || exit 1

# one run at a time: a run that finds the lock held leaves the work to
# the run holding it
exec 9>"$STATE/lock" || exit 1
if ! flock -n 9; then
	echo "cron-incremental: $(date -u +%FT%TZ) a run is still going" \
	    "(lock $STATE/lock): skipped" >&2
	exit 0
fi
[ -p "$STATE/acks" ] || mkfifo "$STATE/acks" || exit 1

# the last stage's output is the acknowledged markers: a summary line
# for the log, from ds-kafka-cat's --stats at the end
ds-kafka-cat -b "$BROKERS" -G "$GROUP" -t "$TOPIC" -e --stats \
    --acks "$STATE/acks" ${SOURCE_OPTS:-} 9>&- |
	ds-batch -n "$BATCH" --log "$STATE/batches" 9>&- |
	ds-map '.value | {user, bytes}' 9>&- |
	ds-reduce -k user -a bytes=sum:bytes -a requests=count 9>&- |
	ds-sink-mongo --uri "$MONGO" -d "$DB" -c "$COLL" --key user \
	    --mode inc --acks "$STATE/acks" 9>&- >/dev/null
st=("${PIPESTATUS[@]}")
for s in "${st[@]}"; do
	if [ "$s" -ne 0 ]; then
		echo "cron-incremental: $(date -u +%FT%TZ) failed (exit" \
		    "statuses ${st[*]}); the next run resumes at the last" \
		    "committed batch" >&2
		exit 1
	fi
done
echo "cron-incremental: $(date -u +%FT%TZ) done" >&2
exit 0
