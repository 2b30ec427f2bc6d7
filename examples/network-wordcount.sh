#!/usr/bin/env bash
# network-wordcount.sh -- replaces Spark's NetworkWordCount:
#   ssc.socketTextStream(host, port).flatMap(_.split("\\s+")).map((_, 1))
#      .reduceByKey(_ + _).print()          with Seconds(2) batches
#
# usage: network-wordcount.sh [HOST:PORT | -]
. "$(dirname "$0")/common.sh"

source_text "${1:-}" |
	ds-map -R '[splits("\\s+")][] | select(length > 0) | {word: .}' |
	ds-batch -i "$INTERVAL" |
	ds-reduce -k word -a count |
	$DS_OUT
