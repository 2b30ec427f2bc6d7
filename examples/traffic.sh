#!/usr/bin/env bash
# traffic.sh -- the seeds' real project: HLS traffic per user, per user
# and app, and per user, app and stream, from Kafka into MongoDB with the
# project's compound indexes, exactly once.  It replaces a Spark job of
#   KafkaUtils.createDirectStream -> map(parse) -> reduceByKey per
#   (user, minute, app, stream) -> foreachRDD(bulk $inc into MongoDB)
#   -> store the offsets after the write
# Each record {"user","app","stream","bytes","ts",...} adds its bytes and
# one request to hls_user_flux, hls_user_app_flux and
# hls_user_app_stream_flux, keyed by the minute of its ts.
#
# usage: traffic.sh
#   BROKERS, TOPIC (access), GROUP (flux), MONGO (URI), DB (hls),
#   STATE (directory for the batch log and the ack FIFO), INTERVAL (2s);
#   AT_END=1 stops when the topic is drained (-e), for tests and demos;
#   RATE=N caps records/s per partition (Spark's maxRatePerPartition:
#   the source reads no faster, and no batch holds more than RATE x
#   INTERVAL records of a partition, even when the sink falls behind),
#   so a backlog after downtime is spread over many batches;
#   SOURCE_OPTS adds options to the consumer, e.g.
#   "-X group.instance.id=flux-1" (a static member of the group: run
#   again after a crash, it takes its partitions back at once instead
#   of waiting until the broker gives up on the dead one).
# Kill any stage, run it again: the collections end up as after one run.
. "$(dirname "$0")/common.sh"
: "${BROKERS:?set BROKERS}" "${MONGO:?set MONGO}"
: "${TOPIC:=access}" "${GROUP:=flux}" "${DB:=hls}"
: "${STATE:=${TMPDIR:-/tmp}/ds-traffic}"
ack_state
kafka_end
bound=
[ -n "${RATE:-}" ] && bound="--max-rate-per-partition $RATE"

ds-kafka-cat -b "$BROKERS" -G "$GROUP" -t "$TOPIC" $end \
    --commit acks --acks "$STATE/acks" ${SOURCE_OPTS:-} |
	ds-batch -i "$INTERVAL" $bound --log "$STATE/batches" |
	ds-map '.value | (.ts / 60000 | floor * 60000) as $minute |
	    {coll: "hls_user_flux", user, timestamp: $minute, bytes},
	    {coll: "hls_user_app_flux", user, timestamp: $minute, app, bytes},
	    {coll: "hls_user_app_stream_flux", user, timestamp: $minute, app,
	     stream, bytes}' |
	ds-reduce -k coll,user,timestamp,app,stream -a bytes=sum:bytes \
	    -a requests=count |
	ds-sink-mongo --uri "$MONGO" -d "$DB" --collection-field coll \
	    --key user,timestamp,app,stream --id-format string --mode inc \
	    --index 'user:1,timestamp:-1,app:1,stream:1' \
	    --acks "$STATE/acks"
