#!/usr/bin/env bash
# sqlite-upsert.sh -- foreachRDD into a SQL database, exactly once: each
# batch of access records {"id","user","bytes",...} from Kafka is upserted
# into the SQLite table hits(id PRIMARY KEY, user, bytes) by one sqlite3
# run, one transaction, and the batch's offsets are committed only after
# it (ds-each --sink --acks).  A batch replayed after a crash upserts the
# same rows again, keyed by the record: the table ends up as after one run.
# The same shape works for psql with INSERT ... ON CONFLICT.
#
# usage: sqlite-upsert.sh
#   BROKERS, TOPIC (access), GROUP (hits), DB (SQLite file, hits.db),
#   STATE (directory for the batch log and the ack FIFO), INTERVAL (2s);
#   AT_END=1 stops when the topic is drained; RATE=N caps records/s per
#   partition; SOURCE_OPTS adds consumer options (see traffic.sh).
. "$(dirname "$0")/common.sh"
: "${BROKERS:?set BROKERS}"
: "${TOPIC:=access}" "${GROUP:=hits}" "${DB:=hits.db}"
: "${STATE:=${TMPDIR:-/tmp}/ds-sqlite}"
ack_state
kafka_end

# the batch on stdin, one record a line, read as one JSON array
export DB SQL="
CREATE TABLE IF NOT EXISTS hits (id TEXT PRIMARY KEY, user TEXT,
    bytes INTEGER);
INSERT INTO hits (id, user, bytes)
SELECT json_extract(value, '\$.id'), json_extract(value, '\$.user'),
    json_extract(value, '\$.bytes')
FROM json_each('[' || replace(rtrim(readfile('/dev/stdin'), char(10)),
    char(10), ',') || ']')
WHERE true
ON CONFLICT (id) DO UPDATE SET user = excluded.user, bytes = excluded.bytes;"

ds-kafka-cat -b "$BROKERS" -G "$GROUP" -t "$TOPIC" $end \
    --commit acks --acks "$STATE/acks" ${SOURCE_OPTS:-} |
	ds-batch -i "$INTERVAL" --log "$STATE/batches" |
	ds-map '.value' |
	ds-each --sink --acks "$STATE/acks" \
	    -c 'exec sqlite3 -bail -cmd ".timeout 10000" "$DB" "$SQL"' |
	$DS_OUT
