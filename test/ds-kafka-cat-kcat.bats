#!/usr/bin/env bats
# ds-kafka-cat's kcat rows (the "kcat users" table of ds-kafka-cat(1))
# against kcat itself on the real broker: each row's ds-kafka-cat
# command must give what kcat gives, byte for byte.

load helper
bats_require_minimum_version 1.5.0

setup() {
	kafka_setup
}

F='%K:%k|%h|%S:%s|%t|%p|%o\n'

# kc TOPIC ARGS...: kcat's consume of TOPIC to its end
kc() {
	local t=$1
	shift
	timeout 30 kcat -b "$B" -C -t "$t" -e -q "$@"
}

# dc TOPIC ARGS...: ds-kafka-cat's
dc() {
	local t=$1
	shift
	timeout 30 ds-kafka-cat -b "$B" -t "$t" -e "$@"
}

# textlines: keyed text lines, one without a key, an empty one
textlines() {
	printf 'k1:v1\nk2:v:2\nnokey\n:\n\nk3:{"a": 1}\n'
}

@test "kcat rows: -P -K: -H -l, -P FILE, -P -Z produce what kcat produces" {
	a=$(uniq_name kca) d=$(uniq_name kcd)
	textlines >in
	printf 'whole\nfile\n' >whole
	kcat -b "$B" -P -t "$a" -p 0 -K: -H h=1 -H h=2 -H n -l in
	ds-kafka-cat -P -b "$B" -t "$d" -p 0 -K: -H h=1 -H h=2 -H n -l in
	kcat -b "$B" -P -t "$a" -p 0 whole
	ds-kafka-cat -P -b "$B" -t "$d" -p 0 --text whole
	textlines | kcat -b "$B" -P -t "$a" -p 0 -Z -K:
	textlines | ds-kafka-cat -P -b "$B" -t "$d" -p 0 -Z -K:
	textlines | kcat -b "$B" -P -t "$a" -p 0
	textlines | ds-kafka-cat -P -b "$B" -t "$d" -p 0 --text
	kc "$a" -f "$F" >want
	kc "$d" -f "$F" | sed "s/|$d|/|$a|/" >got
	[ "$(wc -l <want)" -ge 17 ]
	diff want got
}

@test "kcat rows: -f, -K, -D and -Z consume output is kcat's" {
	t=$(uniq_name kcf)
	textlines >in
	kcat -b "$B" -P -t "$t" -p 0 -K: -H h=1 -H n -l in
	textlines | kcat -b "$B" -P -t "$t" -p 0 -Z -K:
	for args in "-f $F" "-f %s\n" "-f %k\t%T\t%h\n" "-K:" "-K => -D #" \
	    "-D \n--\n" "-Z -f $F" "-Z -K:"; do
		kc "$t" $args >want
		dc "$t" $args >got
		diff want got
	done
	# value-only output is the payload text, not a JSON string
	[ "$(dc "$t" -f '%s\n' | sed -n 2p)" = 'v:2' ]
}

@test "kcat rows: -L is kcat-like text on a terminal, JSON when piped or with -J" {
	t=$(uniq_name kcl)
	echo 1 | kcat -b "$B" -P -t "$t" -p 0
	run -0 script -qec "ds-kafka-cat -L -b $B -t $t" /dev/null
	[[ "$output" == *" 1 brokers:"* ]]
	[[ "$output" == *"topic \"$t\" with 3 partitions:"* ]]
	[[ "$output" == *"partition 0, leader "*", replicas: "*", isrs: "* ]]
	run -0 script -qec "ds-kafka-cat -L -J -b $B -t $t" /dev/null
	printf '%s\n' "$output" | tr -d '\r' | jq -e --arg t "$t" '.topics[0].topic == $t'
	run -0 --separate-stderr ds-kafka-cat -L -b "$B" -t "$t"
	printf '%s\n' "$output" | jq -e '.topics[0].partitions | length == 3'
	# kcat agrees on the partitions and leaders
	want=$(timeout 30 kcat -b "$B" -L -J -t "$t" | jq -c '[.topics[0].partitions[] | [.partition, .leader]]')
	got=$(printf '%s\n' "$output" | jq -c '[.topics[0].partitions[] | [.partition, .leader]]')
	[ "$got" = "$want" ]
}

@test "kcat rows: -X list, -X dump and the default config file (DS_KAFKA_CONFIG)" {
	run -0 ds-kafka-cat -X list
	[[ "$output" == *"bootstrap.servers"* ]]
	kcat -X list >want 2>&1
	[ "$(grep -c '^[a-z]' want)" -eq "$(printf '%s\n' "$output" | grep -c '^[a-z]')" ]
	printf 'client.id=fromfile\n# a comment\nsocket.timeout.ms=12345\n' >conf
	run -0 env DS_KAFKA_CONFIG=conf ds-kafka-cat -X dump
	[[ "$output" == *"client.id = fromfile"* ]]
	[[ "$output" == *"socket.timeout.ms = 12345"* ]]
	# the command line wins over the file; -F replaces it
	run -0 env DS_KAFKA_CONFIG=conf ds-kafka-cat -X dump -X client.id=cli -X sasl.password=hush
	[[ "$output" == *"client.id = cli"* ]]
	[[ "$output" == *"sasl.password = (secret)"* ]]
	[[ "$output" != *hush* ]]
	printf 'client.id=other\n' >conf2
	run -0 env DS_KAFKA_CONFIG=conf ds-kafka-cat -X dump -F conf2
	[[ "$output" == *"client.id = other"* ]]
	[[ "$output" != *12345* ]]
	# the default file is read from HOME too, and errors name its line
	mkdir -p home/.config/ds
	printf 'bootstrap.servers=%s\nno.such=1\n' "$B" >home/.config/ds/kafka.conf
	run -2 --separate-stderr env HOME="$PWD/home" ds-kafka-cat -L
	[[ "$stderr" == *"home/.config/ds/kafka.conf:2: no.such: "* ]]
	printf 'bootstrap.servers=%s\n' "$B" >home/.config/ds/kafka.conf
	run -0 --separate-stderr env HOME="$PWD/home" ds-kafka-cat -L
	printf '%s\n' "$output" | jq -e '.brokers | length == 1'
}

@test "kcat rows: -Q finds the offsets kcat finds, -o e@ts stops where kcat stops" {
	t=$(uniq_name kcq)
	# three produce runs: their timestamps differ
	for r in a b c; do
		printf '%s1\n%s2\n' $r $r | ds-kafka-cat -P -b "$B" -t "$t" -p 0 --text
	done
	ts=$(dc "$t" | jq 'select(.value == "b1") | .ts')
	[ -n "$ts" ]
	want=$(timeout 30 kcat -b "$B" -Q -t "$t:0:$ts")
	got=$(ds-kafka-cat -b "$B" -Q -t "$t:0:$ts" | jq -r '"\(.topic) [\(.partition)] offset \(.offset)"')
	[ "$got" = "$want" ]
	[ "$got" != "$t [0] offset -1" ]
	# on a terminal -Q prints kcat's line
	run -0 script -qec "ds-kafka-cat -b $B -Q -t $t:0:$ts" /dev/null
	[ "$(printf '%s' "$output" | tr -d '\r')" = "$want" ]
	kc "$t" -p 0 -o "e@$ts" >want
	timeout 30 ds-kafka-cat -b "$B" -t "$t" -p 0 -o "e@$ts" -f '%s\n' >got
	diff want got
	[ "$(cat got)" = "a1
a2" ]
	run -2 ds-kafka-cat -b "$B" -t "$t" -o e@x
	run -2 ds-kafka-cat -b "$B" -Q -t "$t"
}
