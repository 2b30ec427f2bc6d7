#!/usr/bin/env bash
# Test broker: Apache Kafka 3.9 in KRaft combined mode, from Maven Central
# jars, on free loopback ports.  (Not 4.x: librdkafka 2.0.2's consumer
# groups need protocol versions that 4.0 removed.)
#
#   kafka.sh start   fetch the jars if missing, start one broker, wait
#                    until it answers, print DS_TEST_BROKERS=HOST:PORT
#   kafka.sh stop    stop it by pid (TERM, then KILL after 30 s)
#   kafka.sh topic NAME PARTITIONS [CONFIG=VALUE ...]
#                    create a topic (cleanup.policy=compact: a changelog)
#
# State lives in ${DS_SERVER_DIR:-<repo>/build/servers}/kafka, the jars in
# ${DS_CACHE:-$HOME/.cache/ds}/kafka-$KAFKA_VERSION.  Runs with no
# terminal, as root, and twice at once with different DS_SERVER_DIR.
set -u
KAFKA_VERSION=3.9.1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=${DS_SERVER_DIR:-$top/build/servers}/kafka
cache=${DS_CACHE:-$HOME/.cache/ds}/kafka-$KAFKA_VERSION
pidfile=$dir/kafka.pid

die() {
	echo "kafka.sh: $*" >&2
	exit 1
}

# fetch: the broker's jars into $cache/libs, once (a lock keeps two
# concurrent starts from fetching into the same directory).
fetch() {
	[ -f "$cache/complete" ] && return 0
	command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
	command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
	mkdir -p "$cache" || die "cannot create $cache"
	exec 9>"$cache/lock"
	flock -w 900 9 || die "timed out waiting for another fetch into $cache"
	if [ ! -f "$cache/complete" ]; then
		local tmp
		tmp=$(mktemp -d) || die "mktemp failed"
		cp "$here/kafka-pom.xml" "$tmp/pom.xml"
		echo "kafka.sh: fetching Kafka $KAFKA_VERSION jars into $cache" >&2
		if ! (cd "$tmp" && timeout 900 mvn -q -B \
		    -Dkafka.version="$KAFKA_VERSION" \
		    dependency:copy-dependencies -DincludeScope=runtime \
		    -DoutputDirectory="$cache/libs") >"$tmp/mvn.log" 2>&1; then
			tail -30 "$tmp/mvn.log" >&2
			rm -rf "$tmp"
			die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
		fi
		rm -rf "$tmp"
		touch "$cache/complete"
	fi
	exec 9>&-
}

freeport() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

alive() {
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
	timeout 10 kcat -b "127.0.0.1:$1" -L -m 3 >/dev/null 2>&1
}

start() {
	if alive && [ -f "$dir/port" ] && answers "$(cat "$dir/port")"; then
		echo "DS_TEST_BROKERS=127.0.0.1:$(cat "$dir/port")"
		return 0
	fi
	fetch
	command -v kcat >/dev/null || die "kcat not found (apt-get install kcat)"
	rm -rf "$dir"
	mkdir -p "$dir/data" || die "cannot create $dir"
	local port cport cp id i
	port=$(freeport) && cport=$(freeport) || die "no free port"
	[ "$port" != "$cport" ] || cport=$(freeport)
	cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=1
EOF
	cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
	cp="$cache/libs/*"
	export KAFKA_HEAP_OPTS= JAVA_TOOL_OPTIONS=
	local jvm="-Xmx512m -Xms128m -XX:+UseSerialGC -Djava.awt.headless=true
	    -Dlog4j.configuration=file:$dir/log4j.properties"
	# a cluster id that does not start with "-", which the tool's
	# argument parser would take for an option (1 in 64 ids)
	id=$(python3 -c 'import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if s[0] != "-":
        print(s)
        break')
	# shellcheck disable=SC2086
	if ! java $jvm -cp "$cp" kafka.tools.StorageTool format -t "$id" \
	    -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
		cat "$dir/format.log" >&2
		die "kafka.tools.StorageTool format failed"
	fi
	echo "$port" >"$dir/port"
	# shellcheck disable=SC2086
	setsid java $jvm -cp "$cp" kafka.Kafka "$dir/server.properties" \
	    </dev/null >"$dir/kafka.log" 2>&1 &
	echo $! >"$pidfile"
	for i in $(seq 1 120); do
		if ! alive; then
			tail -30 "$dir/kafka.log" >&2
			die "broker exited during start (log: $dir/kafka.log)"
		fi
		if answers "$port"; then
			echo "DS_TEST_BROKERS=127.0.0.1:$port"
			return 0
		fi
		sleep 0.5
	done
	tail -30 "$dir/kafka.log" >&2
	stop
	die "broker did not answer on 127.0.0.1:$port within 60 s"
}

stop() {
	local pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$pidfile"
	return 0
}

# topic NAME PARTITIONS: create a topic on the running broker with the
# admin client of the broker's jars (auto-created topics get
# num.partitions=3)
topic() {
	[ -f "$dir/port" ] || die "no broker running in $dir"
	JAVA_TOOL_OPTIONS= java -Xmx256m -XX:+UseSerialGC \
	    -Dlog4j.configuration="file:$dir/log4j.properties" \
	    -cp "$cache/libs/*" "$here/CreateTopic.java" \
	    "127.0.0.1:$(cat "$dir/port")" "$@" >/dev/null ||
		die "cannot create topic $1"
}

case ${1:-} in
start) start ;;
stop) stop ;;
topic) [ $# -ge 3 ] || { echo "usage: kafka.sh topic NAME PARTITIONS [CONFIG=VALUE ...]" >&2; exit 2; }
	shift
	topic "$@" ;;
*) echo "usage: kafka.sh start|stop|topic NAME PARTITIONS [CONFIG=VALUE ...]" >&2; exit 2 ;;
esac
