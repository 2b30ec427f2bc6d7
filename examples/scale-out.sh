#!/usr/bin/env bash
# scale-out.sh -- the seeds' traffic totals (bytes and requests per user
# since the start) on as many machines as there are members of one
# consumer group, exactly once through crashes and rebalances.  Run one
# member of a stage per machine, under a supervisor that starts it again
# when it ends (systemd's Restart=always, or a `while :` loop):
#
#   scale-out.sh repartition  re-keys SOURCE (access records in whatever
#                             partitions) by user into BYUSER: Kafka
#                             Streams' repartition topic, Spark's shuffle
#   scale-out.sh totals       keeps each user's running totals, per
#                             partition of BYUSER, in the compacted topic
#                             CHANGELOG, and writes them to TOTALS keyed
#                             by user
#   scale-out.sh windows      each user's bytes and requests over the
#                             last WINDOW, sliding every batch, the
#                             window kept per partition of BYUSER in
#                             WINCHANGELOG, written to WINDOWS
#   scale-out.sh increments   each batch's bytes and requests per user,
#                             summed from SOURCE in whatever partitions,
#                             one message per user into INCREMENTS
#   scale-out.sh mongo        adds INCREMENTS into MongoDB (--mode inc,
#                             collection MONGO_DB.MONGO_COLL), each
#                             message once: the document keeps the offset
#                             of the last message applied per partition
#
# Both stages make each batch one Kafka transaction with the group's
# source offsets (and, for totals, the batch's state changes), committed
# with the generation of the group that read it: a batch read before a
# rebalance is fenced and read again by the partitions' new owner, and
# the member exits 1 to be started again.  Nothing is kept on local
# disk, so a member can come back on another machine.  BYUSER and
# CHANGELOG need as many partitions as each other; CHANGELOG is created
# with cleanup.policy=compact.  A sink of TOTALS (ds-sink-mongo --mode
# upsert) writes absolute values, exactly once too.  The mongo stage
# commits its offsets when the sink acknowledges a batch, through the
# FIFO $STATE/acks (STATE: /tmp/scale-out-NAME); its writes are guarded
# by each message's offset, so a zombie member or a batch written twice
# adds nothing twice.
#
# usage: scale-out.sh repartition|totals|windows|increments|mongo
#   BROKERS, SOURCE (access), BYUSER (access-by-user), CHANGELOG
#   (user-totals-state), TOTALS (user-totals), WINDOW (1m), WINCHANGELOG
#   (user-windows-state), WINDOWS (user-windows), GROUP (traffic; the
#   other stages' groups are GROUP-rp and GROUP-win), NAME (this member,
#   unique in the group and stable across restarts: the host name),
#   INTERVAL (2s); SOURCE_OPTS adds options to the consumer; INCREMENTS
#   (user-increments), DS_MONGO_URI, MONGO_DB (traffic), MONGO_COLL
#   (user_totals); the increments and mongo stages' groups are GROUP-inc
#   and GROUP-mongo.
. "$(dirname "$0")/common.sh"
: "${BROKERS:?set BROKERS}"
: "${SOURCE:=access}" "${BYUSER:=access-by-user}" "${GROUP:=traffic}"
: "${CHANGELOG:=user-totals-state}" "${TOTALS:=user-totals}"
: "${NAME:=$(hostname)}" "${WINDOW:=1m}"
: "${WINCHANGELOG:=user-windows-state}" "${WINDOWS:=user-windows}"
: "${INCREMENTS:=user-increments}" "${MONGO_DB:=traffic}"
: "${MONGO_COLL:=user_totals}" "${STATE:=${TMPDIR:-/tmp}/scale-out-$NAME}"

# source TOPIC GROUP: the stage's consumer, a static member of GROUP
source() {
	ds-kafka-cat -b "$BROKERS" -G "$2" -t "$1" --commit none \
	    -o beginning -X group.instance.id="$NAME" ${SOURCE_OPTS:-}
}

# sink TOPIC GROUP: the batch's transaction, keyed by user
sink() {
	ds-kafka-cat -P -b "$BROKERS" -t "$1" --key-field user \
	    --transactional-id "$2-$NAME" -G "$2"
}

case ${1:-} in
repartition)
	source "$SOURCE" "$GROUP-rp" |
		ds-batch -i "$INTERVAL" |
		ds-map .value |
		sink "$BYUSER" "$GROUP-rp" >/dev/null
	;;
totals)
	source "$BYUSER" "$GROUP" |
		ds-batch -i "$INTERVAL" |
		ds-map '.value + {partition}' |
		ds-reduce -k partition,user -a sum:bytes -a count |
		ds-state -k user -a bytes=sum:sum_bytes -a requests=sum:count \
		    --changelog "$CHANGELOG" -b "$BROKERS" |
		sink "$TOTALS" "$GROUP" | $DS_OUT
	;;
windows)
	source "$BYUSER" "$GROUP-win" |
		ds-batch -i "$INTERVAL" |
		ds-map '.value + {partition}' |
		ds-window -w "$WINDOW" -k user -a bytes=sum:bytes \
		    -a requests=count --changelog "$WINCHANGELOG" -b "$BROKERS" |
		sink "$WINDOWS" "$GROUP-win" | $DS_OUT
	;;
increments)
	source "$SOURCE" "$GROUP-inc" |
		ds-batch -i "$INTERVAL" |
		ds-map .value |
		ds-reduce -k user -a bytes=sum:bytes -a requests=count |
		sink "$INCREMENTS" "$GROUP-inc" | $DS_OUT
	;;
mongo)
	ack_state
	ds-kafka-cat -b "$BROKERS" -G "$GROUP-mongo" -t "$INCREMENTS" \
	    -o beginning -X group.instance.id="$NAME" --commit acks \
	    --acks "$STATE/acks" ${SOURCE_OPTS:-} |
		ds-batch -i "$INTERVAL" |
		ds-sink-mongo -d "$MONGO_DB" -c "$MONGO_COLL" --envelope \
		    --mode inc --key user --acks "$STATE/acks" | $DS_OUT
	;;
*)
	echo "usage: scale-out.sh repartition|totals|windows|increments|mongo" >&2
	exit 2
	;;
esac
