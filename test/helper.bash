# Shared helpers for the bats files.  Load with: load helper
#
# Tests take the tools from PATH (test/run.sh puts the plain or the
# sanitizer build first).  Every test gets its own scratch directory.

: "${DS_TOP:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
[ -n "${DS_TIER:-}" ] || PATH="$DS_TOP/build/bin:$PATH"

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
}

# Drop the wall-clock "created" field of markers, the one part of a
# marker that differs from run to run.
nocreated() {
	sed -E 's/,"created":[0-9]+//'
}

# dsrun STDIN CMD...: run CMD with STDIN (printf %b escapes), stdout in
# $output, stderr in $stderr, exit in $status.
dsrun() {
	local input=$1
	shift
	run --separate-stderr bash -c 'printf "%b" "$0" | "$@"' "$input" "$@"
}

# expect STATUS EXPECTED_STDOUT: compare after dsrun (markers without
# their created field).
expect() {
	local want_status=$1 want=$2 got
	got=$(printf '%s\n' "$output" | nocreated)
	if [ "$status" -ne "$want_status" ] || [ "$got" != "$want" ]; then
		printf 'want status %s, got %s\n--- want\n%s\n--- got\n%s\n--- stderr\n%s\n' \
		    "$want_status" "$status" "$want" "$got" "${stderr:-}" >&2
		return 1
	fi
}

# wait_for SECONDS CMD...: poll CMD until it succeeds; fail on timeout.
wait_for() {
	local limit=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt $((limit * 10)) ]; then
			echo "timed out after ${limit}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# Servers: a test that needs one skips outside CI when it is not there,
# and fails under CI (test/run.sh counts skips as failures there).
need_kafka() {
	[ -n "${DS_TEST_BROKERS:-}" ] || skip "no Kafka broker (DS_TEST_BROKERS)"
}
need_mongo() {
	[ -n "${DS_TEST_MONGO_URI:-}" ] || skip "no MongoDB server (DS_TEST_MONGO_URI)"
}

# A name unique to this test, for topics and collections.
uniq_name() {
	echo "${1:-t}_$$_${BATS_TEST_NUMBER}_$RANDOM"
}

# killtree PID...: SIGKILL each process's children, then the process: a
# "timeout CMD &" job's pid is timeout's, and a SIGKILLed timeout cannot
# pass the signal on, so its child would be left running.
killtree() {
	local p
	for p in "$@"; do
		pkill -9 -P "$p" 2>/dev/null || true
		kill -9 "$p" 2>/dev/null || true
	done
}

# server_setup: setup() of the tests that need both servers; they put
# the process groups they start in $pgids for their teardown
server_setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	need_kafka
	need_mongo
	pgids=
}

# kill_pgids: SIGKILL the process groups in $pgids and what their
# timeout leaders left (teardown of the server tests)
kill_pgids() {
	local g
	for g in $pgids; do
		kill -9 -- "-$g" 2>/dev/null || true
	done
	killtree $pgids
}

# nonempty: how many non-empty batch markers the job has written to out
# (0 before it has written any)
nonempty() {
	local c
	c=$(grep -c '"count":[1-9]' out 2>/dev/null) || true
	echo "${c:-0}"
}

# flowing N: the job has written at least N non-empty batch markers
flowing() {
	[ "$(nonempty)" -ge "$1" ]
}

# drained BROKERS N: the group's ($group) committed offsets are the log
# end of all N partitions of $topic
drained() {
	timeout 20 ds-kafka-cat --lag -b "$1" -G "$group" -t "$topic" \
	    >lag 2>/dev/null &&
	    [ "$(wc -l <lag)" -eq "$2" ] &&
	    jq -s -e 'all(.committed == .end and .lag == 0)' lag
}

# own_mongo: a FerretDB of the test's own (the same script, its own
# DS_SERVER_DIR), for tests that stop it while others run beside them:
# its directory in SRV, its URI in URI.  own_mongo_stop in teardown.
own_mongo() {
	SRV=$(mktemp -d /tmp/ds-mongo-test.XXXXXX)
	chmod 755 "$SRV"
	DS_SERVER_DIR=$SRV timeout 120 "$DS_TOP/test/servers/mongo.sh" start >"$SRV/env" 2>"$SRV/err" ||
		{ cat "$SRV/err"; return 1; }
	URI=$(sed -n 's/^DS_TEST_MONGO_URI=//p' "$SRV/env")
}

own_mongo_stop() {
	if [ -n "${SRV:-}" ]; then
		DS_SERVER_DIR=$SRV "$DS_TOP/test/servers/mongo.sh" stop
		rm -rf "$SRV"
	fi
	return 0
}

# q ARGS...: test/mongo-q.py, the independent reader, on the test MongoDB
q() {
	timeout 60 "$DS_TEST_MONGO_PY" "$DS_TOP/test/mongo-q.py" \
	    "$DS_TEST_MONGO_URI" "$@"
}

# within SECS CMD...: poll CMD until it succeeds, for at most SECS
# seconds of wall time (wait_for counts polls, and a poll that asks a
# server can itself take a while)
within() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.2
	done
}

# tmx ARGS: tmux on a server of this test's own.  The default server is
# shared by every test running at once, and it exits when its last
# session ends, so one test's kill-session races another's new-session
# ("server exited unexpectedly").  tmx_stop in teardown.
tmx() {
	env -u TMUX tmux -L "ds-$$-$BATS_TEST_NUMBER" -f /dev/null "$@"
}
# tmx_shows TARGET TEXT: the pane of TARGET shows TEXT.  A command's
# output reaches the pane only once tmux has read it from the terminal:
# wait for a line the command prints last, not for a file it touches.
tmx_shows() {
	tmx capture-pane -p -t "$1" | grep -qF -- "$2"
}
tmx_stop() {
	tmx kill-server 2>/dev/null || true
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/ds-$$-$BATS_TEST_NUMBER"
}

# reap PID SECS: wait for a job to end, SIGKILL its process group after
# SECS
reap() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 -- "-$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# kill_mid_batch START SECS STAGE...: run START (a function that starts
# a job in a process group of its own, its pid in $job), wait until it
# has written one more non-empty batch, then within SECS seconds, at a
# random moment, SIGKILL a STAGE drawn at random (name one twice to draw
# it twice as often) in that group.  The name in $victim, empty when no
# such process was left to kill.
kill_mid_batch() {
	local start=$1 secs=$2 n
	shift 2
	local stages=("$@")
	n=$(nonempty)
	"$start"
	within 60 flowing $((n + 1))
	sleep "$(python3 -c "import random; print(random.uniform(0, $secs))")"
	victim=${stages[RANDOM % ${#stages[@]}]}
	pkill -9 -g "$job" -x "$victim" || victim=
}

# fifo_job OUT CMD...: start CMD in the background reading the FIFO
# in.fifo, which the test writes on fd 7 (exec 7>&- ends the input),
# its stdout to OUT; its pid in $pid
fifo_job() {
	local out=$1
	shift
	mkfifo in.fifo
	"$@" <in.fifo >"$out" &
	pid=$!
	exec 7>in.fifo
}

# shows_usage TOOL WORDS: TOOL -h prints its usage, "usage: TOOL WORDS"
# and more, to stdout and exits 0
shows_usage() {
	run --separate-stderr "$1" -h
	if [ "$status" -ne 0 ] || [[ "$output" != "usage: $1 $2"* ]]; then
		printf 'status %s, stdout:\n%s\n' "$status" "$output" >&2
		return 1
	fi
}

# brand_sales SEED [TIES]: the lines "N brandB catC" of a sales log in a
# random order, brand b of category c (b+1)*(c+2) times, and TIES more
# of brand9 in cat0; then one malformed line
brand_sales() {
	python3 - "$1" "${2:-0}" <<'PY'
import random, sys
random.seed(int(sys.argv[1]))
lines = []
for c in range(3):
    for b in range(5):
        lines += ["%d brand%d cat%d" % (i, b, c) for i in range((b + 1) * (c + 2))]
lines += ["t%d brand9 cat0" % i for i in range(int(sys.argv[2]))]
random.shuffle(lines)
print("\n".join(lines))
print("malformed")
PY
}

# brand_top3 FILE: the 3 best-selling brands of each category in a
# brand_sales log, {"category","brand","sales"} a line, by category,
# then sales down, then brand
brand_top3() {
	python3 - "$1" <<'PY'
import collections, json, sys
n = collections.Counter()
for l in open(sys.argv[1]):
    f = l.split()
    if len(f) == 3:
        n[(f[2], f[1])] += 1
for c in sorted({c for c, _ in n}):
    top = sorted((-s, b) for (cc, b), s in n.items() if cc == c)[:3]
    for s, b in top:
        print(json.dumps({"category": c, "brand": b, "sales": -s},
                         separators=(",", ":")))
PY
}

# dsok STDIN CMD...: dsrun, and fail unless CMD exits 0
dsok() {
	dsrun "$@"
	if [ "$status" -ne 0 ]; then
		printf 'exit %s, stderr:\n%s\n' "$status" "$stderr" >&2
		return 1
	fi
}

# kafka_setup: setup() of the tests that need the broker alone: into
# the test's directory, the broker in B
kafka_setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	need_kafka
	B=$DS_TEST_BROKERS
}

# gen N [FROM]: records {"p":i%3,"i":i,"k":"k<i>"} for i in FROM..FROM+N-1
gen() {
	python3 - "$1" "${2:-0}" <<'EOF'
import json, sys
n, start = int(sys.argv[1]), int(sys.argv[2])
for i in range(start, start + n):
    print(json.dumps({"p": i % 3, "i": i, "k": "k%d" % i}))
EOF
}
