#!/usr/bin/env bash
# online-etl.sh -- the seeds' online ETL from one Kafka topic to another,
# exactly once.  It replaces a Spark job of
#   KafkaUtils.createDirectStream -> map(split(",") -> 15 fields -> strip
#   the <<<!>>> wrappers -> "userid|timestamp|clientIp:port|serverIp:port|
#   url") -> filter(valid) -> foreachRDD(KafkaProducer.send) -> store the
#   offsets (in ZooKeeper or Redis) after the batch
# Each source message is 15 comma-separated fields, each wrapped in
# <<<!>>>: record id, userid, time (yyyyMMddHHmmss), client ip, server
# ip, client port, server port, domain, five empty fields, url, a number.
# The clean message, keyed by userid so that a user's messages stay in
# order, is
#   238|1541942942000|58.223.1.112:59947|202.102.92.18:80|http://...
# with the time in milliseconds since the epoch (read in UTC, or in the
# zone ZONE seconds east of UTC: the seeds' servers ran at ZONE=28800).
#
# Each batch is one Kafka transaction holding its clean messages and the
# group's source offsets: a consumer of TARGET reading committed messages
# (librdkafka's default) sees every message once, whatever is killed
# when.  A malformed message goes to $STATE/rejects with its reason, and
# the job goes on (the seeds' filter dropped it silently).
#
# usage: online-etl.sh
#   BROKERS, SOURCE (source), TARGET (target), GROUP (etl),
#   TXN (transactional id, default ds-etl-GROUP-TARGET; each concurrent
#   instance needs its own), STATE (directory for rejects), INTERVAL (2s),
#   ZONE (0); AT_END=1 stops when the topic is drained (-e);
#   RATE=N caps records/s per partition; SOURCE_OPTS adds options to the
#   consumer (e.g. "-X session.timeout.ms=6000": a killed instance's
#   partitions move sooner).
. "$(dirname "$0")/common.sh"
: "${BROKERS:?set BROKERS}"
: "${SOURCE:=source}" "${TARGET:=target}" "${GROUP:=etl}" "${ZONE:=0}"
: "${TXN:=ds-etl-$GROUP-$TARGET}"
: "${STATE:=${TMPDIR:-/tmp}/ds-etl}"
mkdir -p "$STATE"
kafka_end
# with -e the source waits for the last batch's ack before it leaves the
# group: the producer commits each batch with the member's generation
acks= out=cat
if [ "${AT_END:-0}" = 1 ]; then
	ack_state
	acks="--acks $STATE/acks"
	out="tee $STATE/acks"
fi

# the transaction commits the offsets: the source itself never does
ds-kafka-cat -b "$BROKERS" -G "$GROUP" -t "$SOURCE" --value string \
    --commit none $end $acks ${SOURCE_OPTS:-} |
	ds-batch -i "$INTERVAL" |
	ds-map --dead-letter "$STATE/rejects" --argjson zone "$ZONE" '
	    .value | split(",") |
	    if length != 15 then error("\(length) fields, not 15") end |
	    map(gsub("<<<!>>>"; "")) |
	    (.[2] | strptime("%Y%m%d%H%M%S") | (mktime - $zone) * 1000) as $ts |
	    {key: .[1],
	     value: "\(.[1])|\($ts)|\(.[3]):\(.[5])|\(.[4]):\(.[6])|\(.[13])"}' |
	ds-kafka-cat -P -b "$BROKERS" -t "$TARGET" --key-field key \
	    --value-field value --transactional-id "$TXN" -G "$GROUP" |
	$out | $DS_OUT
