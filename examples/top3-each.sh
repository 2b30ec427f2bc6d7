#!/usr/bin/env bash
# top3-each.sh -- the seeds' top 3 brands per category, per batch, with
# nothing but sort and awk: Spark's
#   transform(rdd => rdd.map((category_brand, 1)).reduceByKey(_ + _))
#   then row_number() over (partition by category order by sales desc) < 4
# done by ds-each handing each batch to a shell pipeline.  Input lines are
# "id brand category" (words); output per batch, categories in order:
#   {"category":"c","brand":"b","sales":n}  (ties: brand order)
#
# usage: top3-each.sh [HOST:PORT | -]
. "$(dirname "$0")/common.sh"

# the records are {"category":"C","brand":"B"}, compact: split at the
# quotes, C is field 4 and B field 8
top3=$(cat <<'SH'
export LC_ALL=C
awk -F'"' '{ print $4, $8 }' | sort | uniq -c | sort -k2,2 -k1,1nr -k3,3 |
    awk '++n[$2] <= 3 {
	printf "{\"category\":\"%s\",\"brand\":\"%s\",\"sales\":%d}\n", $2, $3, $1 }'
SH
)

source_text "${1:-}" |
	ds-map -R '[splits("\\s+")] | select(length == 3) |
	    {category: .[2], brand: .[1]}' |
	ds-batch -i "$INTERVAL" |
	ds-each -c "$top3" |
	$DS_OUT
