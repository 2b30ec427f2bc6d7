#!/usr/bin/env bash
# blacklist-filter.sh -- replaces the seeds' online blacklist filter:
#   lines.map(l => (ip, rest)).transform(rdd => rdd.leftOuterJoin(blacklist)
#      .filter { case (_, (_, hit)) => hit.isEmpty })
#   over nginx-style lines "ip##time##request##status##bytes"
#
# usage: blacklist-filter.sh BLACKLIST.ndjson [HOST:PORT | -]
#   BLACKLIST.ndjson holds one {"ip":"..."} per line; it is re-read when
#   it changes, so the blacklist can be updated while the job runs.
. "$(dirname "$0")/common.sh"
blacklist=${1:?usage: blacklist-filter.sh BLACKLIST.ndjson [HOST:PORT | -]}

source_text "${2:-}" |
	ds-map -R 'split("##") | select(length == 5) |
	    {ip: .[0], time: .[1], request: .[2],
	     status: (.[3] | tonumber), bytes: (.[4] | tonumber)}' |
	ds-batch -i "$INTERVAL" |
	ds-join --with "$blacklist" -k ip --anti --reload |
	$DS_OUT
