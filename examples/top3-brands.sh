#!/usr/bin/env bash
# top3-brands.sh -- replaces the seeds' Spark SQL + Streaming top 3:
#   updateStateByKey over (category_brand, 1), then per batch
#   row_number() over (partition by category order by sales desc) < 4
#   over lines "id brand category"
#
# usage: top3-brands.sh [HOST:PORT | -] [CHECKPOINT_DIR]
. "$(dirname "$0")/common.sh"
ckpt=${2:-${TMPDIR:-/tmp}/ds-top3-state}

source_text "${1:-}" |
	ds-map -R '[splits("\\s+")] | select(length == 3) |
	    {brand: .[1], category: .[2]}' |
	ds-batch -i "$INTERVAL" |
	ds-state -k category,brand -a sales=count --emit all --checkpoint "$ckpt" |
	ds-reduce -k category --top 3:sales |
	$DS_OUT
