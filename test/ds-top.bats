#!/usr/bin/env bats
# ds-top: Spark's Streaming-tab figures from a stream's markers.

load helper
bats_require_minimum_version 1.5.0

# On a terminal: onterm COLS ROWS CMD runs CMD in a tmux pane of that
# size, with TZ=UTC (tmx in helper.bash).  CMD's exit status is then
# printed after its last screen, without a new line (no scrolling): its
# text on the pane proves that all of CMD's output has been read by tmux.
onterm() {
	tmx new-session -d -x "$1" -y "$2" \
	    "cd '$T' && TZ=UTC $3; printf 'exit %d' \$?; exec sleep 600"
}
teardown() {
	tmx_stop
}
# onscreen ERE: the pane shows a line matching ERE
onscreen() {
	tmx capture-pane -p | grep -Eq "$1"
}
# shot: wait until the pane's command ended; then its last screen in
# $output and ${lines[@]}, its exit status in $st
shot() {
	wait_for 30 onscreen '^exit [0-9]+$'
	output=$(tmx capture-pane -p)
	st=${output##*exit }
	output=${output%exit *}
	output=${output%$'\n'}
	mapfile -t lines <<<"$output"
	printf '%s\n' "$output" >&2
}
# row NAME: the screen line starting with NAME
row() {
	grep -m1 "^$1" <<<"$output"
}
hms() {
	TZ=UTC date -d "@$(($1 / 1000))" +%H:%M:%S
}

# mark SEQ TIME CREATED INTERVAL COUNT: a batch marker (CREATED "" for none)
mark() {
	local c=
	[ -n "$3" ] && c=",\"created\":$3"
	printf '{"@ds":"batch","seq":%s,"time":%s,"interval":%s,"count":%s,"offsets":[]%s}\n' \
	    "$1" "$2" "$4" "$5" "$c"
}

@test "ds-top -h prints the usage to stdout and exits 0" {
	shows_usage ds-top "[-n ROWS]"
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
	[ "$p" -ge 4900 ]
	[ "$p" -lt 30000 ]
	[ "$t" -eq $((p + 100)) ]
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

# Three 1 min batches of 300, 600 and 1200 records, scheduled 10 ms
# late; the first takes 2 min 50 s to process, over the interval, the
# other two 200 and 100 ms, plus the time ds-top takes to start: well
# under the 7.5 s of one eighth of a band on a 4 min scale, so that
# every figure falls in the same eighth however long that takes.  Rates
# 5, 10, 20 per second.
threebatches() {
	now=$(date +%s%3N)
	t1=$((now - 170010)) t2=$((now - 210)) t3=$((now - 110))
	{
		mark 1 $t1 $((t1 + 10)) 60000 300
		mark 2 $t2 $((t2 + 10)) 60000 600
		mark 3 $t3 $((t3 + 10)) 60000 1200
	} >in
}

@test "ds-top on a terminal: timelines and histograms in block characters" {
	threebatches
	onterm 100 40 "LC_ALL=C.UTF-8 ds-top in"
	shot
	[ "$st" -eq 0 ]
	[ "${lines[0]}" = "ds-top: 3 batches, 2100 records" ]
	[ "${lines[1]}" = "running batches of 1 min for 3.8 min since $(TZ=UTC date -d "@$((t1 / 1000))" '+%Y/%m/%d %H:%M:%S')" ]
	[ "${lines[2]}" = "WARNING: 1 batch took longer to process than the batch interval" ]
	[[ "${lines[4]}" == *"timeline, last 3 batches"*"histogram, batches" ]]
	# the input rate: 5, 10, 20 records/s on four bands of 5/s, one
	# batch in each of three of them
	[[ "$(row 'Input Rate')" == "Input Rate          █ "*" 20/s    │████████████ 1" ]]
	[[ "$(row 'avg 12/s')" == "avg 12/s            █ "*" 15/s    │" ]]
	[[ "$(row 'max 20/s')" == "max 20/s           ██ "*" 10/s    │████████████ 1" ]]
	[[ "${lines[8]}" == "                  ███ "*" 5.0/s   │████████████ 1" ]]
	# the delays share one scale of four 1 min bands, reaching past the
	# slowest batch; a scheduling delay of 10 ms is one eighth
	[[ "$(row 'Scheduling Delay')" == "Scheduling Delay      "*" 4 min   │" ]]
	[[ "$(row 'avg 10 ms')" == "avg 10 ms             "*" 3 min   │" ]]
	[[ "${lines[12]}" == "                  ▁▁▁ "*" 1 min   │████████████ 3" ]]
	# processing time: the first batch is over the interval, drawn as
	# the line between the lowest band and the rest
	[[ "$(row 'Processing Time')" == "Processing Time       "*" 4 min   │" ]]
	[[ "${lines[14]}" =~ ^avg\ [0-9.]+\ (s|min)\ +▇\ +3\ min\ +│██████\ 1$ ]]
	[[ "${lines[15]}" =~ ^max\ 2\.[89]\ min\ +█\ +2\ min\ +│$ ]]
	[[ "$(row 'batch interval')" == "batch interval    █┄┄┄"*"┄ 1 min   │" ]]
	[[ "${lines[17]}" == "                  █▁▁ "*" 1 min   │████████████ 2" ]]
	[[ "$(row 'Total Delay')" == "Total Delay           "*" 4 min   │" ]]
	# the time axis: the first and the last batch's time
	[[ "${lines[22]}" == "                  $(hms $t1) "*" $(hms $t3)" ]]
	# the table of the last batches, times and delays for people
	[[ "${lines[24]}" =~ ^\ +batch\ +time\ +records\ +records/s\ +scheduling\ +processing\ +total$ ]]
	[[ "${lines[25]}" =~ ^\ +1\ +$(hms $t1)\ +300\ +5\.0\ +10\ ms\ +2\.[89]\ min\ +2\.[89]\ min$ ]]
	[[ "${lines[27]}" =~ ^\ +3\ +$(hms $t3)\ +1200\ +20\.0\ +10\ ms\ +[0-9.]+\ m?s\ +[0-9.]+\ m?s$ ]]
}

@test "ds-top on a wide terminal that is not UTF-8: ASCII, the warning's advice" {
	threebatches
	onterm 140 40 "LC_ALL=C ds-top in"
	shot
	[ "$st" -eq 0 ]
	[ "${lines[2]}" = "WARNING: 1 batch took longer to process than the batch interval: batches queue up; use a longer interval or faster stages" ]
	[[ "$(row 'Input Rate')" == "Input Rate          # "*" 20/s    |############ 1" ]]
	[[ "$(row 'batch interval')" == "batch interval    #--"*"- 1 min   |" ]]
	[[ "$output" != *"█"* ]]
}

@test "ds-top on a terminal: batch times to the millisecond under 1 s" {
	now=$(date +%s%3N)
	{ mark 1 $((now - 700)) $((now - 690)) 250 5; mark 2 $((now - 450)) $((now - 440)) 250 5; } >in
	onterm 100 40 "ds-top in"
	shot
	[ "$st" -eq 0 ]
	[[ "${lines[1]}" == "running batches of 250 ms for 500 ms since "*"."$(printf %03d $(((now - 700) % 1000))) ]]
	[[ "$output" =~ \ 2\ +$(hms $((now - 450)))\.$(printf %03d $(((now - 450) % 1000)))\ +5\ +20\.0\  ]]
}

@test "ds-top on a terminal: redrawn in place at each batch" {
	mkfifo f
	onterm 100 40 "ds-top <f"
	exec 7>f
	now=$(date +%s%3N)
	mark 1 $now $now 60000 10 >&7
	wait_for 30 onscreen '^ds-top: 1 batches, 10 records$'
	mark 2 $((now + 60000)) $((now + 60000)) 60000 30 >&7
	exec 7>&-
	shot
	[ "$st" -eq 0 ]
	[ "${lines[0]}" = "ds-top: 2 batches, 40 records" ]
	[ "$(grep -c 'ds-top:' <<<"$output")" -eq 1 ]
	[ "$(grep -c '^Input Rate' <<<"$output")" -eq 1 ]
	[[ "$output" == *"timeline, last 2 batches"* ]]
}

@test "ds-top on an 80x24 terminal: the whole screen fits" {
	now=$(date +%s%3N)
	for i in $(seq 1 60); do
		mark $i $((now - 61000 + i * 1000)) $((now - 61000 + i * 1000)) 1000 $i
	done >in
	onterm 80 24 "LC_ALL=C.UTF-8 ds-top in"
	shot
	[ "$st" -eq 0 ]
	[ "${lines[0]}" = "ds-top: 60 batches, 1830 records" ]
	[[ "$output" == *"timeline, last 34 batches"* ]]
	[[ "$(row 'Total Delay')" == "Total Delay"* ]]
	[[ "$output" =~ \ +batch\ +time\ +records ]]
	[[ "$output" =~ \ +60\ +$(hms $((now - 1000)))\ +60\  ]]
	[ "${#lines[@]}" -le 24 ]
	for l in "${lines[@]}"; do
		[ "$(printf %s "$l" | LC_ALL=C.UTF-8 wc -m)" -le 80 ] || { echo "too wide: $l"; false; }
	done
}
