#!/usr/bin/env bats
# ds-kafka-cat against a real Kafka 3.9 broker (test/servers/kafka.sh,
# DS_TEST_BROKERS): envelopes, offsets, -e/-c, groups, rate limits,
# ack-mode commits and produce round trips.  kcat is the independent
# peer; expected values come from jq/python3 or are written by hand.
# Topics are created on first produce with the broker's num.partitions=3.

load helper
bats_require_minimum_version 1.5.0

setup() {
	kafka_setup
}

teardown() {
	killtree ${pids:-}
}

nlines_ge() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

# distinct values of .value.i in FILE reach N (for wait_for)
distinct_ge() {
	[ "$(cat "$@" | jq -r '.value.i' | sort -u | wc -l)" -ge "${!#}" ] 2>/dev/null
}

# produce gen N FROM to topic T, partition from .p, and check it has 3
fill() {
	gen "$2" "${3:-0}" | timeout 60 ds-kafka-cat -P -b "$B" -t "$1" \
	    --partition-field p
}

G="-X session.timeout.ms=6000"

# offsets_are TOPIC GROUP FILE: the group's committed offsets, as
# [{partition, until}], are those in FILE
offsets_are() {
	ds-kafka-cat --lag -b "$B" -G "$2" -t "$1" | jq -s -c '[.[] |
	    select(.committed >= 0) | {partition, until: .committed}] |
	    sort' | diff "$3" -
}

# committed_is TOPIC N: a committed read of TOPIC gives N messages
committed_is() {
	[ "$(timeout 30 kcat -b "$B" -C -t "$1" -e -q -f '%s\n' | wc -l)" -eq "$2" ]
}

@test "kafka: the topic made by a produce has 3 partitions (-L)" {
	t=$(uniq_name kmeta)
	fill "$t" 3
	run -0 --separate-stderr ds-kafka-cat -L -b "$B" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -c '.topics[0].partitions | map(.partition)')" = "[0,1,2]" ]
	[ "$(printf '%s\n' "$output" | jq '.brokers | length')" -eq 1 ]
}

@test "kafka: envelopes with keys, headers, null values and non-JSON payloads (kcat produced)" {
	t=$(uniq_name kenv)
	printf '{"a": [1, "x"]}' | kcat -b "$B" -P -t "$t" -p 0 -k key1 -H h1=v1 -H h2=v2
	printf 'plain text' | kcat -b "$B" -P -t "$t" -p 0
	# kcat cannot send a null value from a line; -P --value-field can
	echo '{"k":"42","v":null}' | ds-kafka-cat -P -b "$B" -t "$t" -p 0 --key-field k --value-field v
	printf '"quoted"' | kcat -b "$B" -P -t "$t" -p 0 -k '{"k":1}'
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 0 -e
	got=$(printf '%s\n' "$output" | jq -c 'del(.ts)')
	# keys are text; a payload that re-serializing would change carries
	# its text (white space) or says it is JSON text (a string)
	want='{"topic":"'$t'","partition":0,"offset":0,"key":"key1","headers":{"h1":"v1","h2":"v2"},"value":{"a":[1,"x"]},"value_text":"{\"a\": [1, \"x\"]}"}
{"topic":"'$t'","partition":0,"offset":1,"key":null,"headers":{},"value":"plain text"}
{"topic":"'$t'","partition":0,"offset":2,"key":"42","headers":{},"value":null}
{"topic":"'$t'","partition":0,"offset":3,"key":"{\"k\":1}","headers":{},"value":"quoted","value_encoding":"json"}'
	[ "$got" = "$want" ]
	# the envelope text itself is compact and ts is epoch ms
	[ "$(printf '%s\n' "$output" | head -1 | grep -c '"value":{"a":\[1,"x"\]},')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | jq -s 'map(select(.ts < 1600000000000)) | length')" -eq 0 ]
	# --value string and base64 force a string
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 0 -e --value string
	[ "$(printf '%s\n' "$output" | head -1 | jq -r .value)" = '{"a": [1, "x"]}' ]
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 0 -e --value base64
	[ "$(printf '%s\n' "$output" | sed -n 2p | jq -r .value | base64 -d)" = 'plain text' ]
}

@test "kafka: --value json makes a non-JSON payload a bad record named topic/partition:offset" {
	t=$(uniq_name kbad)
	printf '{"ok":1}' | kcat -b "$B" -P -t "$t" -p 1
	printf 'not json' | kcat -b "$B" -P -t "$t" -p 1
	printf '{"ok":2}' | kcat -b "$B" -P -t "$t" -p 1
	run -1 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 1 -e --value json
	[ "$(printf '%s\n' "$output" | jq -c .value)" = '{"ok":1}' ]
	[[ "$stderr" == *"ds-kafka-cat: $t/1:1: invalid JSON"* ]]
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 1 -e --value json --skip-bad
	[ "$(printf '%s\n' "$output" | jq -c .value | tr -d '\n')" = '{"ok":1}{"ok":2}' ]
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 1 -e --value json --dead-letter dl
	[ "$(jq -c '[.source,.line,.raw]' dl)" = "[\"$t/1\",1,\"not json\"]" ]
}

@test "kafka: -o beginning, end, absolute, relative, stored and s@timestamp" {
	t=$(uniq_name koff) g=$(uniq_name g)
	seq 0 9 | jq -c '{i: .}' | ds-kafka-cat -P -b "$B" -t "$t" -p 0
	ts=$(date +%s%3N)
	# a produce after ts: its broker timestamps are >= ts
	until [ "$(date +%s%3N)" -gt "$ts" ]; do :; done
	seq 10 19 | jq -c '{i: .}' | ds-kafka-cat -P -b "$B" -t "$t" -p 0
	c() {
		timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 0 -e "$@" |
		    jq -c .value.i | tr '\n' ' '
	}
	[ "$(c -o beginning)" = "$(seq -s ' ' 0 19) " ]
	[ "$(c)" = "$(seq -s ' ' 0 19) " ]
	[ "$(c -o end)" = "" ]
	[ "$(c -o 15)" = "15 16 17 18 19 " ]
	[ "$(c -o -3)" = "17 18 19 " ]
	[ "$(c -o "s@$ts")" = "$(seq -s ' ' 10 19) " ]
	[ "$(c -c 4)" = "0 1 2 3 " ]
	# stored: a group commits 5 records, -o stored starts after them
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -G "$g" -t "$t" -c 5 $G
	[ "$(c -o stored -X group.id="$g")" = "$(seq -s ' ' 5 19) " ]
}

@test "kafka: -e exits at the end of every partition, -c after N records" {
	t=$(uniq_name keof)
	fill "$t" 300
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -e
	[ "${#lines[@]}" -eq 300 ]
	[ "$(printf '%s\n' "$output" | jq -r .value.i | sort -n | uniq | wc -l)" -eq 300 ]
	run -0 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -c 7
	[ "${#lines[@]}" -eq 7 ]
	run -1 --separate-stderr timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 7 -e
	[[ "$stderr" == *"$t/7: "* ]]
}

@test "kafka: a group resumes with no loss and no duplicate; --lag agrees" {
	t=$(uniq_name kgrp) g=$(uniq_name g)
	fill "$t" 900
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" -c 400 $G
	printf '%s\n' "$output" >first
	[ "$(wc -l <first)" -eq 400 ]
	run -0 --separate-stderr ds-kafka-cat --lag -b "$B" -G "$g" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -s 'map(.committed) | add')" -eq 400 ]
	[ "$(printf '%s\n' "$output" | jq -s 'map(.lag) | add')" -eq 500 ]
	fill "$t" 100 900
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" -e $G
	printf '%s\n' "$output" >second
	[ "$(wc -l <second)" -eq 600 ]
	[ "$(cat first second | jq -r .value.i | sort -n | uniq | wc -l)" -eq 1000 ]
}

@test "kafka: two consumers in a group split the partitions; one takes over when the other is killed" {
	t=$(uniq_name ktwo) g=$(uniq_name g)
	fill "$t" 900
	timeout 120 ds-kafka-cat -b "$B" -G "$g" -t "$t" --max-rate-per-partition 30 $G >a 2>a.err &
	apid=$!
	pids=$apid
	wait_for 30 nlines_ge a 5
	timeout 120 ds-kafka-cat -b "$B" -G "$g" -t "$t" --max-rate-per-partition 30 $G >b 2>b.err &
	bpid=$!
	pids="$apid $bpid"
	wait_for 30 nlines_ge b 5
	# both own partitions now: the last records of each come from
	# disjoint partition sets
	wait_for 20 sh -c "[ \$(tail -3 b | jq -r .partition | sort -u | wc -l) -ge 1 ]"
	na=$(wc -l <a)
	wait_for 20 nlines_ge a $((na + 10))
	pa=$(tail -5 a | jq -r .partition | sort -u)
	pb=$(tail -5 b | jq -r .partition | sort -u)
	[ -z "$(comm -12 <(echo "$pa") <(echo "$pb"))" ]
	killtree "$apid"
	# b takes over a's partitions and reads everything to the end
	wait_for 90 distinct_ge a b 900
	kill -TERM "$bpid"
	wait "$bpid" || true
	[ "$(cat a b | jq -r '[.partition,.offset]|tostring' | sort -u | wc -l)" -eq 900 ]
}

@test "kafka: --max-rate-per-partition holds each partition to its rate" {
	t=$(uniq_name krate)
	fill "$t" 600
	start=$(date +%s%N)
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -t "$t" -e --max-rate-per-partition 100
	end=$(date +%s%N)
	[ "$(printf '%s\n' "$output" | jq -r .value.i | sort -n | uniq | wc -l)" -eq 600 ]
	rate=$(( 200 * 1000000000 / (end - start) ))
	echo "rate $rate records/s/partition" >&3
	# the limit is the upper bound; the lower one only rules out a
	# stall (a loaded machine is slower, never faster, than the limit)
	[ "$rate" -ge 10 ]
	[ "$rate" -le 140 ]
	# within one partition, the first and last of 200 are ~2 s apart
	# (timestamps of the output lines, taken by a reader as they come)
}

@test "kafka: ack mode commits only acked offsets; a restart resumes right after them" {
	t=$(uniq_name kack) g=$(uniq_name g)
	fill "$t" 300
	mkfifo acks
	timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" --acks acks $G >out 2>err &
	pids=$!
	wait_for 30 nlines_ge out 300
	run -0 --separate-stderr ds-kafka-cat --lag -b "$B" -G "$g" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -s 'map(select(.committed != null)) | length')" -eq 0 ]
	echo '{"@ds":"batch","seq":1,"time":1,"interval":1,"count":1,"offsets":[{"topic":"'"$t"'","partition":0,"from":0,"until":60},{"topic":"'"$t"'","partition":1,"from":0,"until":70},{"topic":"'"$t"'","partition":2,"from":0,"until":80}]}' >acks
	wait_for 20 sh -c "ds-kafka-cat --lag -b '$B' -G '$g' -t '$t' | jq -s -e 'any(.partition == 2 and .committed == 80)'"
	kill -TERM "$pids"
	st=0
	wait "$pids" || st=$?
	[ "$st" -eq 0 ]
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" -e --commit none $G
	got=$(printf '%s\n' "$output" | grep -v '^{"@ds"' | jq -c '[.partition,.offset]' | jq -s -c 'group_by(.[0]) | map([.[0][0], (map(.[1]) | min), length])')
	[ "$got" = "[[0,60,40],[1,70,30],[2,80,20]]" ]
	# in ack mode it first says where each partition starts
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" -e --acks acks.file $G
	[[ "${lines[0]}" == '{"@ds":"assign","offsets":['* ]]
	[ "$(jq -c '.offsets | sort_by(.partition) | map([.topic == "'"$t"'", .partition, .from])' <<<"${lines[0]}")" = "[[true,0,60],[true,1,70],[true,2,80]]" ]
	[ "$(printf '%s\n' "$output" | grep -c '^{"@ds"')" -eq 1 ]
}

@test "kafka: -e in ack mode waits for the last batch's ack, so a finished run leaves nothing uncommitted" {
	t=$(uniq_name kackend) g=$(uniq_name g)
	fill "$t" 300
	mkfifo acks
	# the last stage acks each marker: here grep, as a sink would
	timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" --acks acks -e $G |
	    ds-batch -n 70 | grep --line-buffered '^{"@ds"' >acks
	run -0 --separate-stderr ds-kafka-cat --lag -b "$B" -G "$g" -t "$t"
	[ "$(printf '%s\n' "$output" | jq -s -c 'map(.lag)')" = "[0,0,0]" ]
	# with no stage acking at all it does not wait
	t2=$(uniq_name kackend) g2=$(uniq_name g)
	fill "$t2" 30
	mkfifo acks2
	SECONDS=0
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g2" \
	    -t "$t2" --acks acks2 -e $G
	[ "$(printf '%s\n' "$output" | grep -vc '^{"@ds"')" -eq 30 ]
	[ "$SECONDS" -lt 30 ]
	# the assign record comes first: nothing committed, so no "from"
	[[ "${lines[0]}" == '{"@ds":"assign","offsets":['* ]]
	[ "$(jq -c '.offsets | sort_by(.partition) | map([.topic == "'"$t2"'", .partition, .from])' <<<"${lines[0]}")" = "[[true,0,null],[true,1,null],[true,2,null]]" ]
}

@test "kafka: a rebalance re-reads what was not acked; ds-batch drops the records delivered again" {
	t=$(uniq_name kredo) g=$(uniq_name g)
	fill "$t" 300
	mkfifo acks pipe
	# nothing acks: every offset stays uncommitted
	timeout 120 ds-kafka-cat -b "$B" -G "$g" -t "$t" --acks acks $G >pipe 2>a.err &
	apid=$!
	tee raw <pipe | ds-batch -i 200ms >out 2>b.err &
	bpid=$!
	pids="$apid $bpid"
	wait_for 30 nlines_ge raw 300
	# a second member joins and leaves: the first loses partitions and
	# gets them back, and reads them again from the (absent) commit
	timeout 60 ds-kafka-cat -b "$B" -G "$g" -t "$t" --commit none $G >c 2>c.err &
	cpid=$!
	pids="$pids $cpid"
	wait_for 30 nlines_ge c 1
	kill -TERM "$cpid"
	wait "$cpid" || true
	wait_for 60 nlines_ge raw 600
	kill -TERM "$apid"
	wait "$apid" || true
	wait "$bpid"
	# the source did deliver records twice ...
	[ -n "$(grep -v '^{"@ds"' raw | jq -r '[.partition,.offset]|tostring' | sort | uniq -d | head -1)" ]
	# each assignment was announced (ds-batch takes the records in)
	[ "$(grep -c '^{"@ds":"assign"' raw)" -ge 3 ]
	# ... and the batches hold each one once
	[ "$(grep -v '^{"@ds"' out | jq -r '[.partition,.offset]|tostring' | sort | uniq -d)" = "" ]
	[ "$(grep -v '^{"@ds"' out | jq -r '[.partition,.offset]|tostring' | sort -u | wc -l)" -eq 300 ]
	[ "$(grep '^{"@ds"' out | jq -s 'map(.count) | add')" -eq 300 ]
	grep -q 'delivered again' b.err
}

@test "kafka: -P round trip checked with kcat: keys, partitions, headers, values" {
	t=$(uniq_name kprod)
	gen 60 | jq -c '. + {h: {src: "gen", n: (.i | tostring)}}' |
	    ds-kafka-cat -P -b "$B" -t "$t" --key-field k --partition-field p --header-field h
	got=$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%p %k %h\n' | sort)
	want=$(gen 60 | jq -r '"\(.p) \(.k) src=gen,n=\(.i)"' | sort)
	[ "$got" = "$want" ]
	got=$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%s\n' | jq -c .i | sort -n | tr '\n' ' ')
	[ "$got" = "$(seq -s ' ' 0 59) " ]
	# --value-field: a string value is produced as its text
	echo '{"v":"hello","k":null}' | ds-kafka-cat -P -b "$B" -t "${t}_v" -p 0 --value-field v --key-field k
	[ "$(timeout 30 kcat -b "$B" -C -t "${t}_v" -e -q -Z -f '%k|%s\n')" = "NULL|hello" ]
}

@test "kafka: envelopes re-produce as they are (key, value, headers, partition)" {
	t=$(uniq_name ksrc)
	gen 30 | jq -c '. + {h: {x: .k}}' |
	    ds-kafka-cat -P -b "$B" -t "$t" --key-field k --partition-field p --header-field h
	timeout 30 ds-kafka-cat -b "$B" -t "$t" -e | ds-kafka-cat -P -b "$B" -t "${t}_copy"
	a=$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%p %o %k %h %s\n' | sort)
	b=$(timeout 30 kcat -b "$B" -C -t "${t}_copy" -e -q -f '%p %o %k %h %s\n' | sort)
	[ -n "$a" ]
	[ "$a" = "$b" ]
}

@test "kafka: -P forwards markers once their batch is delivered; failures exit 1 naming the record" {
	t=$(uniq_name kmark)
	printf '{"i":1}\n{"@ds":"batch","seq":1,"time":1,"interval":1,"count":1,"offsets":[]}\n' >in
	run -0 --separate-stderr ds-kafka-cat -P -b "$B" -t "$t" in
	[ "$output" = '{"@ds":"batch","seq":1,"time":1,"interval":1,"count":1,"offsets":[]}' ]
	[ "$(timeout 30 kcat -b "$B" -C -t "$t" -e -q -f '%s\n')" = '{"i":1}' ]
	# partition 9 of a 3-partition topic cannot take the record on line 2
	printf '{"p":0}\n{"p":9}\n' >in2
	run -1 --separate-stderr timeout 60 ds-kafka-cat -P -b "$B" -t "$t" --partition-field p in2
	[[ "$stderr" == *"ds-kafka-cat: in2:2: "*"partition"* ]]
}

@test "kafka: -P --transactional-id commits each batch with its offsets; a batch cut short is aborted" {
	src=$(uniq_name ktsrc) dst=$(uniq_name ktdst) g=$(uniq_name g)
	fill "$src" 30
	# three batches of 10 records, as a pipeline would give them
	run -0 --separate-stderr timeout 60 ds-kafka-cat -b "$B" -G "$g" \
	    -t "$src" --commit none -e $G
	# (without the assign and revoke records: the batches alone)
	printf '%s\n' "$output" | grep -v '^{"@ds"' | ds-batch -n 10 |
	    ds-map .value >batches
	[ "$(grep -c '^{"@ds":"batch"' batches)" -eq 3 ]
	# two whole batches (the second marker, then five records of the
	# third) and no third marker
	awk '/^\{"@ds"/ { n++ } n < 2 || (n == 2 && c++ < 6)' batches >in
	run -0 --separate-stderr timeout 60 ds-kafka-cat -P -b "$B" -t "$dst" \
	    --transactional-id "tx$g" -G "$g" in
	[ "$(printf '%s\n' "$output" | grep -c '"@ds":"batch"')" -eq 2 ]
	# a committed read sees the two batches, an uncommitted one all 25
	# (once Kafka has written the commit markers, a moment after)
	grep -v '^{"@ds"' in | head -20 | jq -r .i | sort -n >want
	wait_for 30 committed_is "$dst" 20
	timeout 30 kcat -b "$B" -C -t "$dst" -e -q -f '%s\n' |
	    jq -r .i | sort -n >got
	diff want got
	n=$(timeout 30 kcat -b "$B" -C -t "$dst" -e -q -X \
	    isolation.level=read_uncommitted -f '%s\n' | wc -l)
	[ "$n" -eq 25 ]
	# the group's offsets are the first two markers', committed with them
	grep '^{"@ds"' batches | head -2 | jq -s -c '[.[].offsets[]] |
	    group_by(.partition) | map({partition: .[0].partition,
	    until: (map(.until) | max)})' >wantoff
	wait_for 30 offsets_are "$src" "$g" wantoff
	# input with no marker at all is one transaction, committed at EOF
	run -0 --separate-stderr timeout 60 ds-kafka-cat -P -b "$B" -t "$dst" \
	    --transactional-id "tx$g" <(printf '{"i":100}\n{"i":101}\n')
	wait_for 30 committed_is "$dst" 22
}

@test "kafka: -X passes settings through and never prints secret values" {
	run -2 --separate-stderr ds-kafka-cat -b "$B" -t x -X sasl.kerberos.min.time.before.relogin=hunter2 -e
	[[ "$stderr" == *"sasl.kerberos.min.time.before.relogin"* ]]
	[[ "$stderr" != *hunter2* ]]
	run -2 --separate-stderr ds-kafka-cat -b "$B" -t x -X no.such.prop=1 -e
	[[ "$stderr" == *"no.such.prop"* ]]
	printf '# settings\nfetch.wait.max.ms=10\n' >props
	t=$(uniq_name kx)
	fill "$t" 3
	run -0 --separate-stderr timeout 30 ds-kafka-cat -F props -b "$B" -t "$t" -e
	[ "${#lines[@]}" -eq 3 ]
}

# awkward NAME: fill topic NAME, partition 0, with the payloads, keys
# and headers a copy must keep: binary, null, empty, the text null,
# quoted, white space, large integers, tabs, duplicate and null headers
awkward() {
	local P="kcat -b $B -P -t $1 -p 0 -l"
	printf '\000\377\376' >f1
	$P -k k1 f1
	printf 'null' >f2
	$P f2
	printf '"quoted"' >f3
	$P -k '"q"' f3
	printf ' {"a": 1, "s": "x  y"}\t' >f4
	$P -k 1796126184878123457 -H a=1 -H b=2 -H a=3 f4
	printf '1796126184878123457' >f5
	$P -H h f5
	printf '{"n":123456789012345678901234567890}' >f6
	$P -k "$(printf '\377\001')" -H "bin=$(printf '\377')" f6
	printf 'plain\ttext' >f7
	$P -k null f7
	printf '"\\u0041"' >f8
	$P f8
	printf '{"k":"","v":""}\n{"k":null,"v":null}\n{"k":" ","v":" "}\n' |
	    ds-kafka-cat -P -b "$B" -t "$1" -p 0 --key-field k --value-field v
}

# dump TOPIC: every message's key, headers and value, length-prefixed
dump() {
	timeout 30 kcat -b "$B" -C -t "$1" -e -q -Z -f '%K:%k|%h|%S:%s\n'
}

@test "kafka: a topic copied through ds-kafka-cat | ds-kafka-cat -P is byte-identical (kcat)" {
	src=$(uniq_name ksrc) dst=$(uniq_name kdst)
	awkward "$src"
	dump "$src" >want
	[ "$(grep -c . want)" -eq 11 ]
	timeout 30 ds-kafka-cat -b "$B" -t "$src" -e >env
	timeout 30 ds-kafka-cat -P -b "$B" -t "$dst" env
	dump "$dst" >got
	cmp want got
	# what the pipe sees: keys are strings, JSON payloads parsed
	[ "$(jq -c '[.key, .value]' env | sed -n '3p;4p;7p')" = '["\"q\"","quoted"]
["1796126184878123457",{"a":1,"s":"x  y"}]
["null","plain\ttext"]' ]
	# large integers as written (jq would round them)
	sed -n 5p env | grep -q '"key":null,"headers":{"h":null},"value":1796126184878123457}$'
	# duplicate headers: the object keeps the last, the list all in order
	[ "$(sed -n 4p env | jq -c '[.headers, .header_list]')" = '[{"b":"2","a":"3"},[["a","1"],["b","2"],["a","3"]]]' ]
	# the key selects as text, large as it is
	[ "$(jq -c 'select(.key == "1796126184878123457") | .offset' env)" = 3 ]
	# --key json parses keys and stays lossless; --value base64 as well
	timeout 30 ds-kafka-cat -b "$B" -t "$src" -e --key json --value base64 |
	    timeout 30 ds-kafka-cat -P -b "$B" -t "${dst}_2"
	dump "${dst}_2" >got2
	cmp want got2
}

@test "kafka: a value changed on the way wins over the stale value_text" {
	t=$(uniq_name kstale)
	printf '{"app": "a", "n": 1}' | kcat -b "$B" -P -t "$t" -p 0
	printf '"s"' | kcat -b "$B" -P -t "$t" -p 0
	timeout 30 ds-kafka-cat -b "$B" -t "$t" -e |
	    ds-map 'if .offset == 0 then .value.n = 2 else .value = "t" end' |
	    timeout 30 ds-kafka-cat -P -b "$B" -t "${t}_out"
	run -0 timeout 30 kcat -b "$B" -C -t "${t}_out" -e -q -f '%s\n'
	[ "$output" = '{"app":"a","n":2}
"t"' ]
}
