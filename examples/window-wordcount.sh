#!/usr/bin/env bash
# window-wordcount.sh -- replaces the seeds' windowed word count:
#   pairs.reduceByKeyAndWindow(_ + _, _ - _, Seconds(6), Seconds(4))
#   "every 4 seconds, the counts of the last 6 seconds", 2 s batches
#
# usage: window-wordcount.sh [HOST:PORT | -]
. "$(dirname "$0")/common.sh"

source_text "${1:-}" |
	ds-map -R '[splits("\\s+")][] | select(length > 0) | {word: .}' |
	ds-batch -i 2s |
	ds-window -w 6s -s 4s -k word -a count |
	$DS_OUT
