#!/usr/bin/env bats
# ds-top: Spark's Streaming-tab figures from a stream's markers.

load helper
bats_require_minimum_version 1.5.0

# mark SEQ TIME CREATED INTERVAL COUNT: a batch marker (CREATED "" for none)
mark() {
	local c=
	[ -n "$3" ] && c=",\"created\":$3"
	printf '{"@ds":"batch","seq":%s,"time":%s,"interval":%s,"count":%s,"offsets":[]%s}\n' \
	    "$1" "$2" "$4" "$5" "$c"
}

@test "ds-top -h prints the usage to stdout and exits 0" {
	run --separate-stderr ds-top -h
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: ds-top [-n ROWS]"* ]]
}

@test "ds-top -V and usage errors" {
	run ds-top -V
	[[ "$output" == "ds-top "[0-9]* ]]
	for a in "-n 0" "-n x" "--bogus"; do
		run --separate-stderr ds-top $a </dev/null
		[ "$status" -eq 2 ] || { echo "$a: $status"; return 1; }
	done
}

@test "ds-top: delays from time, created and the receive clock" {
	now=$(date +%s%3N)
	{
		echo '{"a":1}'
		mark 1 $((now - 5000)) $((now - 4900)) 1000 50
		echo '{"@ds":"hello"}'
		mark 2 $((now - 10)) $((now)) 60000 120
	} >in
	run --separate-stderr ds-top in
	[ "$status" -eq 0 ]
	l1=$(sed -n 1p <<<"$output")
	l2=$(sed -n 2p <<<"$output")
	# batch 1: 50 records in 1 s, scheduled 100 ms late, processed >= 4.9 s
	[[ "$l1" == "batch 1 time $((now - 5000)): 50 records, 50.0 records/s, scheduling delay 100 ms, processing "* ]]
	[[ "$l1" =~ processing\ ([0-9]+)\ ms\ of\ 1000\ ms,\ total\ delay\ ([0-9]+)\ ms ]]
	p=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]}
	[ "$p" -ge 4900 ] && [ "$p" -lt 30000 ] && [ "$t" -eq $((p + 100)) ]
	[[ "$l1" == *"WARNING: processing time exceeds the batch interval" ]]
	# batch 2: 120 records in 60 s, no warning
	[[ "$l2" == "batch 2 time $((now - 10)): 120 records, 2.0 records/s, scheduling delay 10 ms,"* ]]
	[[ "$l2" != *WARNING* ]]
	[[ "$(sed -n 3p <<<"$output")" == "total: 2 batches, 170 records,"*", 1 slower than the interval" ]]
	[ "$(wc -l <<<"$output")" = 3 ]
}

@test "ds-top: markers without created (event time) show no delays" {
	dsrun "$(mark 1 2000 "" 2000 7)\n" ds-top
	[ "$status" -eq 0 ]
	[ "$output" = "batch 1 time 2000: 7 records, 3.5 records/s, scheduling delay -, processing - of 2000 ms, total delay -" ]
}

@test "ds-top: a batch closed early is not scheduled late, bad records shown" {
	now=$(date +%s%3N)
	dsrun "$(mark 1 $((now + 500)) $now 1000 3 | sed 's/}$/,"bad":2}/')\n" ds-top
	[[ "$output" == *"scheduling delay 0 ms"*", 2 bad"* ]]
}

@test "ds-top: a live pipeline, one line per batch" {
	run --separate-stderr bash -c '(echo "{\"a\":1}"; sleep 1.3) | ds-batch -i 500ms | ds-top'
	[ "$status" -eq 0 ]
	n=$(grep -c '^batch ' <<<"$output")
	[ "$n" -ge 2 ]
	[[ "$(head -1 <<<"$output")" == "batch 1 time "*": 1 records, 2.0 records/s, "* ]]
}

@test "ds-top: on a terminal the screen is redrawn with a table" {
	now=$(date +%s%3N)
	{ mark 1 $((now - 3000)) $((now - 2990)) 1000 5; mark 2 $((now - 100)) $((now - 99)) 1000 9; } >in
	run script -qec "ds-top -n 5 in" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\033[H\033[2J'* ]]
	[[ "$output" == *"ds-top: 2 batches, 14 records"* ]]
	[[ "$output" == *"WARNING: 1 batch took longer to process than the batch interval"* ]]
	[[ "$output" =~ batch\ +time\ +records ]]
}

@test "ds-top: a malformed control record is a bad record" {
	dsrun '{"@ds":nope}\n' ds-top
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ds-top: <stdin>:1: malformed control record" ]]
}
