#!/usr/bin/env bash
# collect-nginx.sh -- the seeds' log collection: nginx access logs into
# Kafka, parsed, exactly once.  It replaces the Flume agent
#   a1.sources = TAILDIR (positionFile, filegroups = access.log*)
#   a1.channels = memory, a1.sinks = KafkaSink (topic)
# and the parsing that Spark did after it.
#
# Each message is the ds-tail envelope {file, fp, inode, offset, line} with
# the combined log format's fields added (ip, user, time, method, path,
# status, bytes): keep them, they are how a restart tells what it has
# delivered.  A line that is not in that format goes to $STATE/rejects
# with its reason, and the collector goes on.
#
# Kill it at any moment and run it again: before starting it fences the
# last run's transactional producer and reads back what that run
# committed after its last saved positions, so every line reaches the
# topic once for consumers that read committed messages (the default).
#
# usage: collect-nginx.sh
#   BROKERS, LOGS (a glob, quoted: '/var/log/nginx/access.log*'),
#   TOPIC (nginx), TXN (transactional id, ds-collect-TOPIC), STATE
#   (positions, acks, rejects), INTERVAL (1s); AT_END=1 stops once the
#   files are read and acknowledged (ds-tail -e)
. "$(dirname "$0")/common.sh"
: "${BROKERS:?set BROKERS}" "${LOGS:?set LOGS}"
: "${TOPIC:=nginx}" "${TXN:=ds-collect-$TOPIC}" "${INTERVAL:=1s}"
: "${STATE:=${TMPDIR:-/tmp}/ds-collect}"
ack_state
end=
[ "${AT_END:-0}" = 1 ] && end=-e

# fence the last run (its open transaction is aborted, a commit in
# flight completes), then read back what it committed unacknowledged
ds-kafka-cat -P -b "$BROKERS" -t "$TOPIC" --transactional-id "$TXN" \
    </dev/null
since=$(ds-tail -p "$STATE/pos" --resume-time)
: >"$STATE/seen"
if [ "$since" -gt 0 ] && ! ds-kafka-cat -L -b "$BROKERS" -t "$TOPIC" |
    grep -q '"error":"Local: Unknown topic"'; then
	ds-kafka-cat -b "$BROKERS" -t "$TOPIC" -o "s@$since" -e >"$STATE/seen"
fi

ds-tail -p "$STATE/pos" --acks "$STATE/acks" --seen "$STATE/seen" $end \
    "$LOGS" |
	ds-batch -i "$INTERVAL" |
	ds-map --dead-letter "$STATE/rejects" '
	    . + ((.line | capture("^(?<ip>\\S+) \\S+ (?<user>\\S+) \\[(?<time>[^\\]]+)\\] \"(?<method>\\S+) (?<path>\\S+)[^\"]*\" (?<status>\\d+) (?<bytes>\\d+)"))
	         // error("not in the combined log format"))
	    | .status |= tonumber | .bytes |= tonumber' |
	ds-kafka-cat -P -b "$BROKERS" -t "$TOPIC" --transactional-id "$TXN" \
	    >"$STATE/acks"
