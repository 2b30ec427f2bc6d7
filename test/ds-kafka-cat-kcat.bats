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
	# kcat reads the same files to the same values
	[ "$(KCAT_CONFIG=conf kcat -X dump | grep -E '^(client.id|socket.timeout.ms) ')" = 'client.id = fromfile
socket.timeout.ms = 12345' ]
	[ "$(KCAT_CONFIG=conf kcat -F conf2 -X dump | grep '^client.id ')" = 'client.id = other' ]
	# the private key is a secret too, in the dump and on the command line
	printf 'ssl.key.pem=-----BEGIN PRIVATE KEY-----Zm9v\nssl.key.location=/k/key.pem\n' >pk
	run -0 --separate-stderr ds-kafka-cat -X dump -F pk -X ssl.key.pem=cGVt
	[[ "$output" == *"ssl.key.pem = (secret)"* ]]
	[[ "$output" == *"ssl.key.location = (secret)"* ]]
	[[ "$output" != *Zm9v* ]]
	[[ "$output" != *cGVt* ]]
	[[ "$output" != */k/key.pem* ]]
	[[ "$stderr" == *"-X ssl.key.pem: the value shows in ps"* ]]
	[[ "$stderr" != *cGVt* ]]
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

@test "kcat rows: -o N, -o -N, -o s@TS, -c N, -P -p and the -J envelope read what kcat reads" {
	t=$(uniq_name kco)
	# three produce runs to partition 0: their timestamps differ
	for r in a b c; do
		seq -f "$r%g" 1 6 | ds-kafka-cat -P -b "$B" -t "$t" -p 0 --text
	done
	seq -f 'p%g' 1 4 | kcat -b "$B" -P -t "$t" -p 2
	seq -f 'q%g' 1 4 | ds-kafka-cat -P -b "$B" -t "$t" -p 2 --text
	ts=$(dc "$t" -p 0 -f '%T %s\n' | awk '$2 == "b1" { print $1 }')
	[ -n "$ts" ]
	local args
	for args in "-p 0 -o 5" "-p 0 -o -10" "-p 0 -o s@$ts" "-p 0 -c 10" \
	    "-p 2" "-p 2 -o 3 -c 2"; do
		kc "$t" $args -f "$F" >want
		dc "$t" $args -f "$F" >got
		[ -s want ] || { echo "$args: kcat read nothing"; return 1; }
		diff want got || { echo "$args"; return 1; }
	done
	# -P -p 2 put ds-kafka-cat's lines where kcat's went
	[ "$(kc "$t" -p 2 -f '%s\n' | paste -sd' ')" = 'p1 p2 p3 p4 q1 q2 q3 q4' ]
	# s@TS starts at the first of the second run, -c stops after 10
	[ "$(dc "$t" -p 0 -o "s@$ts" -f '%s\n' | head -1)" = b1 ]
	[ "$(dc "$t" -p 0 -c 10 -f '%s\n' | wc -l)" -eq 10 ]
	# the envelope holds what kcat -J holds: topic, partition, offset,
	# key, timestamp, and the payload (text values as strings)
	kc "$t" -J | jq -c '[.topic, .partition, .offset, .key, .ts, .payload]' |
	    sort >want
	dc "$t" | jq -c '[.topic, .partition, .offset, .key, .ts, .value]' |
	    sort >got
	[ "$(wc -l <want)" -eq 26 ]
	diff want got
}

@test "kcat rows: -G G T1 T2 and -G G '^re' read what kcat's balanced consumer reads" {
	t=$(uniq_name kcg)
	u=${t}_u
	seq -f 'a%g' 1 30 | ds-kafka-cat -P -b "$B" -t "$t" --text
	seq -f 'b%g' 1 20 | ds-kafka-cat -P -b "$B" -t "$u" --text
	# each its own new group: both read every partition from the start
	local g1 g2
	g1=$(uniq_name g) g2=$(uniq_name g)
	timeout 60 kcat -b "$B" -G "$g1" -e -q -X auto.offset.reset=earliest \
	    -f "$F" "$t" "$u" | sort >want
	timeout -k 5 60 ds-kafka-cat -b "$B" -G "$g2" -t "$t" -t "$u" -e \
	    -f "$F" | sort >got
	[ "$(wc -l <want)" -eq 50 ]
	diff want got
	g1=$(uniq_name g) g2=$(uniq_name g)
	timeout 60 kcat -b "$B" -G "$g1" -e -q -X auto.offset.reset=earliest \
	    -f "$F" "^$t" | sort >want
	# the plain build on both tiers: under ASan, librdkafka's regex
	# subscription never matches a topic (its main thread waits forever
	# on glibc's regex lock, entered through ASan's regexec interceptor)
	timeout -k 5 60 "$DS_TOP/build/bin/ds-kafka-cat" -b "$B" -G "$g2" \
	    -t "^$t" -e -f "$F" | sort >got
	[ "$(wc -l <want)" -eq 50 ]
	diff want got
}
