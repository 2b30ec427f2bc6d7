#!/usr/bin/env bash
# stateful-wordcount.sh -- replaces the seeds' updateStateByKey word count:
#   pairs.updateStateByKey((seq, old) => Option(seq.sum + old.getOrElse(0)))
#   with ssc.checkpoint(dir) so the totals survive a restart
#
# usage: stateful-wordcount.sh [HOST:PORT | -] [CHECKPOINT_DIR]
. "$(dirname "$0")/common.sh"
ckpt=${2:-${TMPDIR:-/tmp}/ds-wordcount-state}

source_text "${1:-}" |
	ds-map -R '[splits("\\s+")][] | select(length > 0) | {word: .}' |
	ds-batch -i "$INTERVAL" |
	ds-state -k word -a count --emit all --checkpoint "$ckpt" |
	$DS_OUT
