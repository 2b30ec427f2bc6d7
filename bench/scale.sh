#!/usr/bin/env bash
# bench/scale.sh -- scale-out with state (examples/scale-out.sh totals):
# one member against two over the same backlog, and what the changelog
# costs per batch.
#
#	SCALE_N=300000 bench/scale.sh
#
# Starts the test broker (test/servers/kafka.sh, its state under
# BUILD/bench/servers), produces SCALE_N records of 1000 users keyed by
# user into a topic of 8 partitions, and times, from start to the last
# member's exit (-e: each ends at the end of its partitions):
#   1 member    the whole backlog on one member
#   2 members   the same backlog split between two (on this machine:
#               both share its cores)
#   checkpoint  one member whose ds-state keeps a local checkpoint
#               instead (the single-machine default): the difference is
#               the changelog's cost
# Prints a Markdown table, also written to bench/scale.md.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
export PATH=$top/$BUILD/bin:$PATH
N=${SCALE_N:-300000}
srv=$top/$BUILD/bench/servers
mkdir -p "$srv"
export DS_SERVER_DIR=$srv
B=$(test/servers/kafka.sh start | sed -n 's/^DS_TEST_BROKERS=//p') || exit 1
[ -n "$B" ] || { echo "bench/scale.sh: no broker" >&2; exit 1; }
trap 'test/servers/kafka.sh stop >/dev/null 2>&1' EXIT
tmp=$(mktemp -d)
trap 'test/servers/kafka.sh stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT

python3 - "$N" >"$tmp/data" <<'EOF'
import json, random, sys
random.seed(1)
for i in range(int(sys.argv[1])):
    print(json.dumps({"user": "u%04d" % random.randrange(1000),
        "bytes": random.randrange(1, 100000)}, separators=(",", ":")))
EOF
src=scale-src-$$
test/servers/kafka.sh topic "$src" 8 2>/dev/null
ds-kafka-cat -P -b "$B" -t "$src" --key-field user <"$tmp/data" || exit 1

# lag RUN: the records of $src the group of RUN has not committed
lag() {
	ds-kafka-cat --lag -b "$B" -G "g-$1" -t "$src" 2>/dev/null |
	    jq -s 'map(.lag) | add // 1'
}

# member NAME RUN [ds-state options]: one member of run RUN to the end
# of its partitions (dynamic: a member at the end leaves the group at
# once; its source waits for the last batch's ack first), run again
# until the group has committed everything (a rebalance fences a
# member's open batch: it exits 1 and runs again); its non-empty
# batches counted in $tmp/RUN.NAME.batches
member() {
	local name=$1 run=$2 try acks=$tmp/$2.$1.acks
	shift 2
	mkfifo "$acks"
	for try in 1 2 3 4 5; do
		ds-kafka-cat -b "$B" -G "g-$run" -t "$src" --commit none -e \
		    --acks "$acks" -o beginning |
		    ds-batch -i 1s -n 10000 |
		    ds-map '.value + {partition}' |
		    ds-reduce -k partition,user -a sum:bytes -a count |
		    ds-state -k user -a sum:sum_bytes -a sum:count "$@" |
		    ds-kafka-cat -P -b "$B" -t "out-$run" --key-field user \
		        --transactional-id "$run-$name" -G "g-$run" |
		    tee "$acks" |
		    grep -c '"count":[1-9]' >>"$tmp/$run.$name.batches"
		[ "$(lag "$run")" -eq 0 ] && break
	done
}

# run RUN MEMBERS changelog|checkpoint: seconds for MEMBERS members
run() {
	local run=$1-$$ n=$2 st=() t0 i
	test/servers/kafka.sh topic "out-$run" 8 2>/dev/null
	if [ "$3" = changelog ]; then
		test/servers/kafka.sh topic "cl-$run" 8 cleanup.policy=compact \
		    2>/dev/null
		st=(--changelog "cl-$run" -b "$B")
	fi
	t0=$(date +%s.%N)
	for i in $(seq "$n"); do
		[ "$3" = checkpoint ] && st=(--checkpoint "$tmp/ck-$run-$i")
		member "m$i" "$run" "${st[@]}" &
	done
	wait
	echo "$(date +%s.%N) - $t0" | bc
}

t1=$(run one 1 changelog)
b1=$(cat "$tmp"/one-$$.*.batches | paste -sd+ | bc)
t2=$(run two 2 changelog)
t0=$(run plain 1 checkpoint)
b0=$(cat "$tmp"/plain-$$.*.batches | paste -sd+ | bc)
{
	echo "| run | seconds | records/s | non-empty batches |"
	echo "| --- | --- | --- | --- |"
	printf '| 1 member | %.2f | %.0f | %s |\n' "$t1" "$(echo "$N / $t1" | bc -l)" "$b1"
	printf '| 2 members | %.2f | %.0f | |\n' "$t2" "$(echo "$N / $t2" | bc -l)"
	printf '| 1 member, local checkpoint | %.2f | %.0f | %s |\n' "$t0" "$(echo "$N / $t0" | bc -l)" "$b0"
	[ "${b1:-0}" -gt 0 ] &&
	    printf '\nchangelog: %.1f ms per batch (1 member)\n' \
	    "$(echo "($t1 - $t0) * 1000 / $b1" | bc -l)"
} | tee bench/scale.md
