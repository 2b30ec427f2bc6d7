#!/usr/bin/env bash
# bench/run.sh -- make bench: ds against its peers, in one run, one table.
#
#	N=1000000 bench/run.sh		(make bench; BUILD=dir picks the tools)
#
# Generates the data itself (bench/gen.c, seeded: the same N gives the
# same bytes), runs every workload (W1 to W9, below) for ds and for
# its peers, and prints one Markdown table -- workload, tool, records/s,
# MB/s, peak RSS, ratio ds/peer -- also written to bench/results.md.  It
# installs the peers a user would pick itself, once, under BUILD/bench/
# peers (gojq with go install, jaq with cargo install, the DuckDB CLI
# with pip in a venv, gawk with apt-get as root) and builds the JVM Spark
# peer (bench/spark, Maven, ~/.m2 the cache; offline once built).  A row
# whose tool is missing says "n/a: <why>" and the run goes on; the script
# exits 0 unless it cannot build its generator.
#
# Environment:
#   N		records (and text lines) per workload, default 1000000
#   BUILD	build directory holding bin/ds-* (default build)
#   FILE_N	records of W3F, the keyed aggregation of one file (default
#		2000000, ~280 MB), ds-reduce on the file and on a pipe
#		against DuckDB with 1 and 2 threads
#   SPARK_N	records fed to the Spark rows (default min(N, 300000)): the
#		rate is per batch and does not depend on the stream's
#		length.  SPARK=0 skips Spark.
#   E2E_MS	batch interval of W7E, Kafka to reduceByKey end to end, in
#		ms (default 1000), the same for ds-batch -i and Spark
#   E2E_RATE	W7E's bound, records/s per partition (default 100000; 0
#		for none): ds-batch --max-rate-per-partition and Spark's
#		spark.streaming.kafka.maxRatePerPartition
#   MONGO_N	records for W8 (default min(N, 500)) with MONGO_KEYS keys
#		(default MONGO_N/10); LOOP_N records for the one-request-
#		per-record loop (default min(MONGO_N, 200)).  FerretDB 1.24
#		(the test server) scans the collection for every update and
#		here stopped answering after ~1000 upserts (10000 records,
#		1000 keys), so W8 cannot run at 1M records and 100k keys
#   ONLY	workloads to run, e.g. ONLY="W3 W7" (default all)
#   KAFKA=0, MONGO=0 skip W7 and W7E, W8 (they start the test servers)
#   W9=0	skips W9 (its 10*N-record file is 1.4 GB at N=1M)
#   SLOW_N	records for W3's jq, gojq and jaq reduce and mlr stats1
#		(default min(N, 100000)): they run at 5-50k records/s
#		here, a rate that does not depend on the input's length
#   CHECK_N	records of the Spark = ds sanity check (default 40000: four
#		batches, so the window subtracts one)
#
# Records/s is N / wall seconds of the whole pipeline, MB/s the input's
# bytes / the same seconds; peak RSS of a pipeline is the sum of each
# stage's peak RSS (/usr/bin/time %M), so it is an upper bound of what the
# pipeline held at once.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
case $BUILD in
/*)	build=$BUILD ;;
*)	build=$top/$BUILD ;;
esac
bin=$build/bin
N=${N:-1000000}
min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }
SPARK_N=${SPARK_N:-$(min "$N" 300000)}
FILE_N=${FILE_N:-2000000}
E2E_MS=${E2E_MS:-1000}
E2E_RATE=${E2E_RATE:-100000}
MONGO_N=${MONGO_N:-$(min "$N" 500)}
MONGO_KEYS=${MONGO_KEYS:-$(( (MONGO_N + 9) / 10 ))}
LOOP_N=${LOOP_N:-$(min "$MONGO_N" 200)}
CHECK_N=${CHECK_N:-40000}
SLOW_N=${SLOW_N:-$(min "$N" 100000)}
data=$build/bench
peers=$data/peers
venv=$peers/venv
results=$top/bench/results.md
servers=$data/servers
export SPARK_LOCAL_IP=127.0.0.1	# Spark on loopback only

case $N in
''|*[!0-9]*) echo "bench/run.sh: N=$N: not a number" >&2; exit 2 ;;
esac
mkdir -p "$data" || exit 1
tmp=$(mktemp -d /tmp/ds-bench.XXXXXX) || exit 1
kafka_up=0
mongo_up=0

cleanup() {
	if [ "$kafka_up" = 1 ]; then
		DS_SERVER_DIR=$servers test/servers/kafka.sh stop >/dev/null 2>&1
	fi
	if [ "$mongo_up" = 1 ]; then
		DS_SERVER_DIR=$servers test/servers/mongo.sh stop >/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# want W: is workload W selected (ONLY="W3 W7" runs just those)?
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
say() { printf 'bench: %s\n' "$*" >&2; }
note() { printf -- '- %s\n' "$*" >> "$tmp/notes"; }
: > "$tmp/rows"
: > "$tmp/notes"

# ---- data -------------------------------------------------------------

gen=$data/gen
if [ ! -x "$gen" ] || [ bench/gen.c -nt "$gen" ]; then
	${CC:-cc} -O2 -o "$gen" bench/gen.c || {
		echo "bench/run.sh: cannot build the generator" >&2; exit 1; }
fi

# datafile KIND N [KEYS [cover]]: the path of a cached generated file
datafile() {
	local f=$data/$1-$2${3:+-k$3}${4:+-$4}.nd
	if [ ! -s "$f" ]; then
		say "generating $f"
		"$gen" "$@" > "$f.tmp" && mv "$f.tmp" "$f" || {
			rm -f "$f.tmp"; echo "bench/run.sh: generator failed" >&2
			exit 1; }
	fi
	echo "$f"
}

log=$(datafile log "$N")
text=$(datafile text "$N")

# ---- measuring ---------------------------------------------------------

# run_pipe IN OUT RECORDS STAGE...: run the stages as one pipeline from
# IN to OUT, each under /usr/bin/time.  Sets R_RATE (records/s), R_MBS
# (MB/s of the input: IN, or the file R_SRC names), R_SECS, R_RSS (MB,
# sum of the stages), R_RSSV (each stage's MB), or R_NA (why it could not
# run) and returns 1.
run_pipe() {
	local in=$1 out=$2 records=$3 cmd="" i=0 s w t0 t1 rc bytes
	shift 3
	R_NA="" R_RATE="" R_MBS="" R_SECS="" R_RSS="" R_RSSV=""
	for s in "$@"; do
		w=${s%% *}
		[ -n "${PEER_NA[$w]:-}" ] && { R_NA=${PEER_NA[$w]}; return 1; }
		case $w in
		ds-*)	[ -x "$bin/$w" ] || { R_NA="n/a: $w not built"; return 1; } ;;
		/*)	[ -x "$w" ] || { R_NA="n/a: $w missing"; return 1; } ;;
		*)	command -v "$w" >/dev/null ||
			    { R_NA="n/a: $w not installed"; return 1; } ;;
		esac
		cmd+="${cmd:+ | }/usr/bin/time -f '%e %M' -o $tmp/st.$i $s"
		i=$((i + 1))
	done
	rm -f "$tmp"/st.*
	t0=$(date +%s%N)
	PATH=$bin:$PATH timeout "${R_TIMEOUT:-900}" bash -o pipefail -c "$cmd" \
	    < "$in" > "$out" 2> "$tmp/err"
	rc=$?
	t1=$(date +%s%N)
	if [ $rc -ne 0 ]; then
		[ $rc = 124 ] && { R_NA="n/a: timed out after \
${R_TIMEOUT:-900} s"; return 1; }
		R_NA="n/a: failed (exit $rc: $(grep -v '^Command exited' \
		    "$tmp/err" | head -1 | cut -c1-100))"
		return 1
	fi
	R_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	R_RATE=$(awk -v n="$records" -v s="$R_SECS" \
	    'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
	bytes=$(stat -L -c %s "${R_SRC:-$in}" 2>/dev/null)
	[ "${bytes:-0}" -gt 0 ] && R_MBS=$(awk -v b="$bytes" -v s="$R_SECS" \
	    'BEGIN { printf "%.0f", (s > 0 ? b / 1e6 / s : 0) }')
	R_RSSV=$(for ((j = 0; j < i; j++)); do
		tail -1 "$tmp/st.$j" | awk '{ printf "%.1f ", $2 / 1024 }'
	done)
	R_RSS=$(echo "$R_RSSV" | awk '{ for (j = 1; j <= NF; j++) t += $j
	    printf "%.1f", t }')
	return 0
}

declare -A RATE		# ds rates by row id, for the ratios

# fmt_rate R: 1234567 -> 1.23M, 45678 -> 45.7k
fmt_rate() {
	awk -v r="$1" 'BEGIN {
		if (r >= 1e6) printf "%.2fM", r / 1e6
		else if (r >= 1e3) printf "%.1fk", r / 1e3
		else printf "%d", r }'
}

# row WORKLOAD TOOL RATE RSS RATIO [MB/S]: one table row
row() {
	local a=("${@:1:5}")
	a=("${a[@]//|/\\|}")
	printf '| %s | %s | %s | %s | %s | %s |\n' "${a[0]}" "${a[1]}" \
	    "${a[2]}" "${6:-}" "${a[3]}" "${a[4]}" >> "$tmp/rows"
}

# ds_row W ID LABEL IN RECORDS STAGE...: time a ds pipeline, keep its
# rate under ID for the peers' ratios, write the row; its output goes to
# R_OUT (default /dev/null).  Returns 1 when the row did not run.
ds_row() {
	local w=$1 id=$2 label=$3 in=$4 records=$5
	want "$1" || return 1
	shift 5
	say "$w $label"
	if run_pipe "$in" "${R_OUT:-/dev/null}" "$records" "$@"; then
		RATE[$id]=$R_RATE
		row "$w" "$label" "$(fmt_rate "$R_RATE")" "$R_RSS" "" "$R_MBS"
	else
		row "$w" "$label" "$R_NA" "" ""
		return 1
	fi
}

# ratio ID PEER_RATE: "12.3× ds-x" or ""
ratio() {
	local d=${RATE[$1]:-}
	[ -n "$d" ] && [ -n "$2" ] && [ "$2" -gt 0 ] || return 0
	awk -v d="$d" -v p="$2" -v id="$1" \
	    'BEGIN { printf "%.1f× (%s)", d / p, id }'
}

# peer_row W VS LABEL IN RECORDS STAGE...: time a peer, ratio to ds row
# VS; R_OUT and the status as ds_row's
peer_row() {
	local w=$1 vs=$2 label=$3 in=$4 records=$5
	want "$1" || return 1
	shift 5
	say "$w $label"
	if run_pipe "$in" "${R_OUT:-/dev/null}" "$records" "$@"; then
		row "$w" "$label" "$(fmt_rate "$R_RATE")" "$R_RSS" \
		    "$(ratio "$vs" "$R_RATE")" "$R_MBS"
	else
		row "$w" "$label" "$R_NA" "" ""
		return 1
	fi
}

# agree W LABEL DS_OUT PEER_OUT SEP: note whether a peer's output has the
# same groups and values as ds's.  PEER_OUT is NDJSON (SEP json) or
# lines of a key and its values split at SEP.
agree() {
	local peer=$4
	if [ "$5" != json ]; then
		peer=$4.tsv
		awk -F "$5" '{ printf "0"; for (i = 1; i <= NF; i++)
		    printf "\t%s", $i; print "" }' "$4" > "$peer"
	else
		python3 bench/check.py --tsv "$4" > "$4.tsv" && peer=$4.tsv
	fi
	note "$1: $2 = ds: $(python3 bench/check.py "$3" "$peer" 2>&1)"
}

# ---- the peers: installed once under $peers ------------------------------

declare -A PEER_NA	# why a peer cannot run, by command name
mkdir -p "$peers/bin" || exit 1
export PATH=$peers/bin:$peers/cargo/bin:$PATH

# peer_install NAME CMD...: run an install step, or note why NAME is n/a
peer_install() {
	local name=$1 log=$tmp/install-$1.log
	shift
	say "installing $name (once)"
	if ! nice timeout 1800 "$@" > "$log" 2>&1; then
		PEER_NA[$name]="n/a: install failed: $(grep -v '^\s*$' "$log" |
		    tail -1 | cut -c1-80)"
		return 1
	fi
}

peers_install() {
	if [ ! -x "$peers/bin/gojq" ]; then
		if command -v go >/dev/null; then
			GOBIN=$peers/bin peer_install gojq go install \
			    github.com/itchyny/gojq/cmd/gojq@v0.12.17
		else
			PEER_NA[gojq]="n/a: go not installed"
		fi
	fi
	# cargo builds jaq from source: minutes the first time, then cached
	if [ ! -x "$peers/cargo/bin/jaq" ]; then
		if command -v cargo >/dev/null; then
			peer_install jaq cargo install jaq --locked --root "$peers/cargo"
		else
			PEER_NA[jaq]="n/a: cargo not installed"
		fi
	fi
	if [ ! -x "$venv/bin/duckdb" ] ||
	    ! "$venv/bin/python" -c 'import pymongo' 2>/dev/null; then
		peer_install duckdb sh -c "python3 -m venv '$venv' &&
		    '$venv/bin/pip' install -q duckdb-cli pymongo"
	fi
	[ -x "$venv/bin/duckdb" ] && ln -sf "$venv/bin/duckdb" "$peers/bin/duckdb"
	if ! command -v gawk >/dev/null; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			peer_install gawk sh -c 'apt-get install -y -qq gawk ||
			    { apt-get update -qq && apt-get install -y -qq gawk; }'
		else
			PEER_NA[gawk]="n/a: gawk not installed (apt-get install gawk)"
		fi
	fi
}
peers_install

# ---- Spark Streaming (JVM, bench/spark) ------------------------------------

# what Spark's launcher passes to a JVM 17 for Spark 4 (java -cp has none)
jvm_opts="-XX:+IgnoreUnrecognizedVMOptions
-Djdk.reflect.useDirectMethodHandle=false
-Dio.netty.tryReflectionSetAccessible=true"
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net \
    java.nio java.util java.util.concurrent java.util.concurrent.atomic \
    jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action \
    sun.util.calendar; do
	jvm_opts+=" --add-opens=java.base/$p=ALL-UNNAMED"
done
sparkout=$data/spark

SPARK_NA=""
# spark_ready: build the Java peer with Maven once (again when its
# sources change); offline first, so a warm ~/.m2 needs no network
spark_ready() {
	local m="mvn -q -B -f bench/spark/pom.xml -Dds.out=$sparkout compile
	    dependency:build-classpath -Dmdep.outputFile=$sparkout/cp.txt"
	[ "${SPARK:-1}" = 0 ] && { SPARK_NA="n/a: SPARK=0"; return 1; }
	[ -n "$SPARK_NA" ] && return 1
	command -v java >/dev/null ||
	    { SPARK_NA="n/a: java not installed"; return 1; }
	[ -s "$sparkout/cp.txt" ] && [ -z "$(find bench/spark/pom.xml \
	    bench/spark/src -newer "$sparkout/cp.txt" 2>/dev/null)" ] &&
		return 0
	command -v mvn >/dev/null ||
	    { SPARK_NA="n/a: mvn not installed"; return 1; }
	say "building the Spark peer (Maven; the first time fetches Spark)"
	rm -f "$sparkout/cp.txt"
	if ! nice timeout 1800 $m -o > "$tmp/mvn.log" 2>&1 &&
	    ! nice timeout 1800 $m > "$tmp/mvn.log" 2>&1; then
		SPARK_NA="n/a: mvn build failed: $(grep -m1 ERROR \
		    "$tmp/mvn.log" | cut -c1-80)"
		return 1
	fi
}

# spark ARGS...: run the Java peer, its JSON lines on $tmp/spark.out
spark() {
	SPARK_LOCAL_IP=127.0.0.1 timeout 900 java $jvm_opts -Xmx4g \
	    -cp "$sparkout/classes:$(cat "$sparkout/cp.txt")" ds.bench.Stream \
	    "$@" > "$tmp/spark.out" 2> "$tmp/spark.err"
}

# spark_why: the first error line of a failed run
spark_why() {
	echo "n/a: failed: $(grep -m1 -E 'Error|Exception' "$tmp/spark.err" |
	    cut -c1-80)"
}

# spark_row W VS DATA WORKLOAD: Spark's rate measured inside the driver
spark_row() {
	local w=$1 vs=$2 in=$3 wl=$4 label="Spark $5 local[2]" j
	want "$1" || return 0
	say "$w $label"
	if ! spark_ready; then
		row "$w" "$label" "$SPARK_NA" "" ""
		return
	fi
	if ! spark "$in" "$wl"; then
		row "$w" "$label" "$(spark_why)" "" ""
		return
	fi
	j=$(tail -1 "$tmp/spark.out")
	R_RATE=$(echo "$j" | jq -r '(.records / .seconds) | floor')
	R_MBS=$(echo "$j" | jq -r --arg b "$(stat -c %s "$in")" \
	    '($b | tonumber) / 1e6 / .seconds | round')
	R_RSS=$(echo "$j" | jq -r .rss_mb)
	row "$w" "$label" "$(fmt_rate "$R_RATE")" "$R_RSS" \
	    "$(ratio "$vs" "$R_RATE")" "$R_MBS"
}

if [ "$SPARK_N" -lt "$N" ]; then
	spark_log=$(datafile log "$SPARK_N")
	spark_text=$(datafile text "$SPARK_N")
else
	spark_log=$log
	spark_text=$text
fi

# ---- the workloads -------------------------------------------------------

say "N=$N records; tools from $bin"

# W1 pass-through
ds_row W1 ds-map "ds-map ." "$log" "$N" "ds-map ."
ds_row W1 ds-batch "ds-batch -n 100000" "$log" "$N" "ds-batch -n 100000"
peer_row W1 ds-map "jq -c ." "$log" "$N" "jq -c ."
peer_row W1 ds-map "gojq -c ." "$log" "$N" "gojq -c ."
peer_row W1 ds-map "jaq -c ." "$log" "$N" "jaq -c ."
peer_row W1 ds-map "cat (the ceiling)" "$log" "$N" "cat"

# W2 filter + project
w2='select(.app=="live") | {user,bytes}'
ds_row W2 ds-map "ds-map '$w2'" "$log" "$N" "ds-map '$w2'"
for q in jq gojq jaq; do
	peer_row W2 ds-map "$q -c '$w2'" "$log" "$N" "$q -c '$w2'"
done

# W3 per-batch keyed sum; ds-reduce alone on the plain file is the same
# work as the jq and mlr group-bys (one group-by over all records)
batch="ds-batch -T ts -i 2s"
reduce="ds-reduce -k user -a sum:bytes -a count"
ds_row W3 ds-pipe "$batch | $reduce" "$log" "$N" "$batch" "$reduce"
ds_row W3 ds-reduce "$reduce (alone, plain input)" "$log" "$N" "$reduce"
w3jq='reduce inputs as $r ({}; .[$r.user] |= {sum_bytes: ((.sum_bytes // 0) + $r.bytes), count: ((.count // 0) + 1)}) | to_entries[] | {user: .key} + .value'
# jq reduce and mlr run at 5-20k records/s: a prefix of SLOW_N records
slowlog=$log
[ "$SLOW_N" -lt "$N" ] && slowlog=$(datafile log "$SLOW_N")
for q in jq gojq jaq; do
	peer_row W3 ds-reduce "$q -n reduce per user" "$slowlog" "$SLOW_N" \
	    "$q -n -c '$w3jq'"
done
peer_row W3 ds-reduce "mlr stats1 -a sum,count" "$slowlog" "$SLOW_N" \
    "mlr --ijson --ojson stats1 -a sum,count -f bytes -g user"
spark_row W3 ds-pipe "$spark_log" w3 reduceByKey

# the batched stream, for the single-tool rows of W4
batched=$data/batched-$N.nd
if [ ! -s "$batched" ] && [ -x "$bin/ds-batch" ]; then
	"$bin/ds-batch" -T ts -i 2s < "$log" > "$batched.tmp" &&
	    mv "$batched.tmp" "$batched"
fi

# W4 sliding window
window="ds-window -w 6s -s 2s -k user -a sum:bytes"
ds_row W4 ds-pipe4 "$batch | $window" "$log" "$N" "$batch" "$window"
if [ -s "$batched" ]; then
	ds_row W4 ds-window "$window (alone, batched input)" "$batched" "$N" \
	    "$window"
fi
spark_row W4 ds-pipe4 "$spark_log" w4 "reduceByKeyAndWindow(inv)"

# W5 running state (--emit all: updateStateByKey emits every key)
state="ds-state -k user -a sum:sum_bytes --emit all"
ds_row W5 ds-pipe5 "$batch | $reduce | $state" "$log" "$N" \
    "$batch" "$reduce" "$state"
spark_row W5 ds-pipe5 "$spark_log" w5 updateStateByKey

# W6 word count on text lines (records/s are lines/s)
w6map="ds-map -R 'split(\" \")[] | {word: .}'"
w6red="ds-reduce -k word -a count"
R_OUT=$tmp/w6.ds ds_row W6 ds-pipe6 "$w6map | $w6red" "$text" "$N" \
    "$w6map" "$w6red"
for a in mawk gawk; do
	R_OUT=$tmp/w6.awk peer_row W6 ds-pipe6 "$a word count" "$text" "$N" \
	    "$a '{ for (i = 1; i <= NF; i++) c[\$i]++ }
		END { for (w in c) print w, c[w] }'" &&
	    agree W6 "$a" "$tmp/w6.ds" "$tmp/w6.awk" " "
done
spark_row W6 ds-pipe6 "$spark_text" w6 NetworkWordCount

# W3F keyed aggregation of one big file, on the file and through a pipe:
# the query DuckDB answers in SQL, its output checked against ds's
w3f() {
	local f t vs sql ds=$tmp/w3f.ds dsp=$tmp/w3f.dsp
	local red="ds-reduce -k user -a sum:bytes -a count"
	want W3F || return 0
	f=$(datafile log "$FILE_N")
	sql="SELECT user, sum(bytes), count(*) FROM read_ndjson_auto"
	R_SRC=$f R_OUT=$ds ds_row W3F ds-file "$red FILE" /dev/null \
	    "$FILE_N" "$red $f"
	vs=ds-file
	if "$bin/ds-reduce" -h 2>&1 | grep -q -- '-j'; then
		R_SRC=$f R_OUT=$tmp/w3f.out ds_row W3F ds-file-j2 \
		    "ds-reduce -j 2 ... FILE" /dev/null "$FILE_N" \
		    "ds-reduce -j 2 -k user -a sum:bytes -a count $f" &&
		    agree W3F "ds-reduce -j 2" "$ds" "$tmp/w3f.out" json
		[ -n "${RATE[ds-file-j2]:-}" ] && vs=ds-file-j2
	else
		row W3F "ds-reduce -j 2 FILE" "n/a: this ds-reduce has no -j" "" ""
	fi
	for t in 1 2; do
		R_SRC=$f R_OUT=$tmp/w3f.out peer_row W3F \
		    "$([ $t = 1 ] && echo ds-file || echo $vs)" \
		    "duckdb threads=$t FILE" /dev/null "$FILE_N" \
		    "duckdb -csv -noheader -c \"SET threads=$t;
		    $sql('$f') GROUP BY user\"" &&
		    agree W3F "duckdb threads=$t" "$ds" "$tmp/w3f.out" ,
	done
	R_OUT=$dsp ds_row W3F ds-stdin "cat FILE | $red" "$f" "$FILE_N" \
	    cat "$red" && agree W3F "ds-reduce on a pipe" "$ds" "$dsp" json
	for t in 1 2; do
		R_OUT=$tmp/w3f.out peer_row W3F ds-stdin \
		    "cat FILE | duckdb threads=$t" "$f" "$FILE_N" cat \
		    "duckdb -csv -noheader -c \"SET threads=$t;
		    $sql('/dev/stdin') GROUP BY user\"" &&
		    agree W3F "duckdb threads=$t on a pipe" "$ds" "$tmp/w3f.out" ,
	done
	R_SRC=$f peer_row W3F ds-file "wc -l FILE (the ceiling)" /dev/null \
	    "$FILE_N" "wc -l $f" &&
	    note "W3F: the ceiling, wc -l, reads the $(( $(stat -c %s "$f") \
/ 1000000 )) MB file at $R_MBS MB/s; $FILE_N records (FILE_N)"
}
w3f

# W7 Kafka consume from the real broker (test/servers/kafka.sh)
w7() {
	local out brokers topic=ds-bench-$N-$$ got
	want W7 || want W7E || return 0
	if [ "${KAFKA:-1}" = 0 ]; then
		row W7 "ds-kafka-cat -e" "n/a: KAFKA=0" "" ""
		return
	fi
	if [ ! -x test/servers/kafka.sh ]; then
		row W7 "ds-kafka-cat -e" "n/a: no test/servers/kafka.sh" "" ""
		return
	fi
	command -v kcat >/dev/null ||
	    { row W7 "kcat -C -e -J" "n/a: kcat not installed" "" ""; return; }
	say "W7 starting the Kafka broker"
	if ! out=$(DS_SERVER_DIR=$servers timeout 600 test/servers/kafka.sh \
	    start 2> "$tmp/kafka.err"); then
		row W7 "ds-kafka-cat -e" "n/a: broker did not start: $(tail -1 \
		    "$tmp/kafka.err" | cut -c1-80)" "" ""
		return
	fi
	kafka_up=1
	brokers=$(echo "$out" | sed -n 's/^DS_TEST_BROKERS=//p' | tail -1)
	say "W7 producing $N messages to $topic"
	if ! timeout 600 kcat -P -b "$brokers" -t "$topic" \
	    -X queue.buffering.max.messages=1000000 -X linger.ms=50 \
	    < "$log" 2> "$tmp/kcat.err"; then
		row W7 "ds-kafka-cat -e" "n/a: kcat -P failed: $(head -1 \
		    "$tmp/kcat.err" | cut -c1-80)" "" ""
		return
	fi
	if want W7; then
		# each consumer counts what it got (wc -l, the same for both)
		say "W7 ds-kafka-cat"
		if R_SRC=$log run_pipe /dev/null "$tmp/w7.count" "$N" \
		    "ds-kafka-cat -b $brokers -t $topic -o beginning -e" "wc -l"; then
			RATE[ds-kafka-cat]=$R_RATE
			row W7 "ds-kafka-cat -e" "$(fmt_rate "$R_RATE")" "$R_RSS" "" \
			    "$R_MBS"
			got=$(cat "$tmp/w7.count")
			[ "$got" = "$N" ] ||
			    note "W7: ds-kafka-cat consumed $got records, not $N"
		else
			row W7 "ds-kafka-cat -e" "$R_NA" "" ""
		fi
		say "W7 kcat"
		if R_SRC=$log run_pipe /dev/null "$tmp/w7.count" "$N" \
		    "kcat -C -b $brokers -t $topic -o beginning -e -J -q" "wc -l"; then
			row W7 "kcat -C -e -J" "$(fmt_rate "$R_RATE")" "$R_RSS" \
			    "$(ratio ds-kafka-cat "$R_RATE")" "$R_MBS"
			got=$(cat "$tmp/w7.count")
			[ "$got" = "$N" ] || note "W7: kcat consumed $got records, not $N"
		else
			row W7 "kcat -C -e -J" "$R_NA" "" ""
		fi
	fi
	w7e "$brokers" "$topic"
	DS_SERVER_DIR=$servers test/servers/kafka.sh stop >/dev/null 2>&1
	kafka_up=0
}

# W7E Kafka end to end, on W7's topic: ds-kafka-cat | ds-batch -i | 
# ds-reduce against Spark's direct stream and reduceByKey, the same batch
# interval; throughput, latency per batch (end of batch to end of its
# output) and peak RSS
w7e() {
	local brokers=$1 topic=$2 dsl spl="Spark direct stream + reduceByKey"
	local j r=ds-reduce bound=""
	want W7E || return 0
	[ "$E2E_RATE" -gt 0 ] && bound=" --max-rate-per-partition $E2E_RATE"
	dsl="ds-kafka-cat -e | ds-batch -i ${E2E_MS}ms$bound | ds-reduce"
	say "W7E $dsl"
	if R_SRC=$log run_pipe /dev/null "$tmp/e2e.ds" "$N" \
	    "ds-kafka-cat -b $brokers -t $topic -o beginning -e" \
	    "ds-batch -i ${E2E_MS}ms$bound" \
	    "$r -k value.user -a sum_bytes=sum:value.bytes -a count" \
	    "python3 bench/lat.py $tmp/e2e.lat"; then
		RATE[ds-e2e]=$R_RATE
		j=$(cat "$tmp/e2e.lat")
		row W7E "$dsl; latency/batch mean $(echo "$j" | jq .lat_ms_mean) \
ms, max $(echo "$j" | jq .lat_ms_max) ms, $(echo "$j" | jq .batches) batches" \
		    "$(fmt_rate "$R_RATE")" "$(echo "$R_RSSV" |
		    awk '{ printf "%.1f", $1 + $2 + $3 }')" "" "$R_MBS"
	else
		row W7E "$dsl" "$R_NA" "" ""
	fi
	say "W7E $spl"
	if ! spark_ready; then
		row W7E "$spl" "$SPARK_NA" "" ""
		return
	fi
	if ! spark kafka "$brokers" "$topic" "$N" "$E2E_MS" "$E2E_RATE" \
	    "$tmp/e2e.spark"; then
		row W7E "$spl" "$(spark_why)" "" ""
		return
	fi
	j=$(tail -1 "$tmp/spark.out")
	R_RATE=$(echo "$j" | jq -r '(.records / .seconds) | floor')
	R_MBS=$(echo "$j" | jq -r --arg b "$(stat -c %s "$log")" \
	    '($b | tonumber) / 1e6 / .seconds | round')
	row W7E "$spl local[2]; latency/batch mean $(echo "$j" |
	    jq .lat_ms_mean) ms, max $(echo "$j" | jq .lat_ms_max) ms, $(echo \
	    "$j" | jq .batches) batches" "$(fmt_rate "$R_RATE")" \
	    "$(echo "$j" | jq -r .rss_mb)" "$(ratio ds-e2e "$R_RATE")" "$R_MBS"
	[ -s "$tmp/e2e.ds" ] && note "W7E: Spark = ds, sums over all batches: \
$(python3 bench/check.py --sum "$tmp/e2e.ds" "$tmp/e2e.spark" 2>&1)"
	note "W7E: both read W7's topic ($(kcat -L -b "$brokers" -t "$topic" \
2>/dev/null | grep -c 'partition [0-9]') partitions) from the start, \
batches of $E2E_MS ms (E2E_MS) of at most $E2E_RATE records/s a \
partition (E2E_RATE; 0: no bound, and Spark's first batch takes the whole \
topic): a tool that keeps up runs at that rate, one that does not falls \
behind and its latency grows. \
Latency is batch end to end of its output (Spark's total delay); \
Spark's seconds run from ssc.start(), ds's over the whole pipeline; \
ds's RSS is its three stages'"
}

# W8 Mongo sink: one bulk write per batch against one request per record
w8() {
	local out uri py f db=dsbench coll=w8_$$ got keys
	want W8 || return 0
	if [ "${MONGO:-1}" = 0 ]; then
		row W8 "ds-sink-mongo --mode merge" "n/a: MONGO=0" "" ""
		return
	fi
	if [ ! -x test/servers/mongo.sh ]; then
		row W8 "ds-sink-mongo --mode merge" \
		    "n/a: no test/servers/mongo.sh" "" ""
		return
	fi
	say "W8 starting the MongoDB-compatible server"
	# a fresh database every run: what an earlier run left costs time
	DS_SERVER_DIR=$servers test/servers/mongo.sh stop >/dev/null 2>&1
	rm -rf "$servers/mongo"
	if ! out=$(DS_SERVER_DIR=$servers timeout 900 test/servers/mongo.sh \
	    start 2> "$tmp/mongo.err"); then
		row W8 "ds-sink-mongo --mode merge" "n/a: server did not start: \
$(tail -1 "$tmp/mongo.err" | cut -c1-80)" "" ""
		return
	fi
	mongo_up=1
	uri=$(echo "$out" | sed -n 's/^DS_TEST_MONGO_URI=//p' | tail -1)
	py=$(echo "$out" | sed -n 's/^DS_TEST_MONGO_PY=//p' | tail -1)
	[ -n "$py" ] || py=$venv/bin/python
	keys=$(min "$MONGO_N" "$MONGO_KEYS")
	f=$(datafile log "$MONGO_N" "$MONGO_KEYS" cover)
	timeout 60 "$py" bench/mongo_loop.py "$uri" $db $coll drop >/dev/null 2>&1
	local R_TIMEOUT=60
	ds_row W8 ds-sink-mongo "ds-batch -n 1000 | ds-sink-mongo --mode merge" \
	    "$f" "$MONGO_N" "ds-batch -n 1000" \
	    "ds-sink-mongo --uri $uri -d $db -c $coll --mode merge --key user"
	got=$(timeout 60 "$py" bench/mongo_loop.py "$uri" $db $coll count 2>&1)
	[ -z "${RATE[ds-sink-mongo]:-}" ] || [ "$got" = "$keys" ] ||
	    note "W8: the sink left $got documents, expected $keys"
	if [ -z "${RATE[ds-sink-mongo]:-}" ]; then
		# a server that stopped answering stays wedged: do not wait again
		row W8 "pymongo update_one per record" "n/a: skipped, the \
server stopped answering during the ds row" "" ""
		note "W8: FerretDB 1.24 (postgresql) here stops answering after \
about 1000 upserts into one collection (its PostgreSQL connections all \
idle in ClientRead): not a ds result"
		DS_SERVER_DIR=$servers test/servers/mongo.sh stop >/dev/null 2>&1
		mongo_up=0
		return
	fi
	timeout 60 "$py" bench/mongo_loop.py "$uri" $db $coll drop >/dev/null 2>&1
	peer_row W8 ds-sink-mongo "pymongo update_one per record" "$f" \
	    "$LOOP_N" "$py bench/mongo_loop.py $uri $db $coll load $LOOP_N"
	timeout 60 "$py" bench/mongo_loop.py "$uri" $db $coll drop >/dev/null 2>&1
	note "W8: $MONGO_N records with $keys keys ($(
	    [ "$MONGO_N" -lt "$N" ] && echo "MONGO_N, ")FerretDB on \
$(cat "$servers/mongo/handler" 2>/dev/null)); the per-record loop ran on the first $LOOP_N (one upsert \
update_one each, one client), its rate is per record; FerretDB scans the collection on \
every update, so both sides are bound by the server at this size"
	DS_SERVER_DIR=$servers test/servers/mongo.sh stop >/dev/null 2>&1
	mongo_up=0
}

# W9 memory: W5 with 10x the records and the same N keys
w9() {
	local f1 f10 n10=$((10 * N)) s1 s10 st="ds-state -k user -a sum:sum_bytes"
	want W9 || return 0
	if [ "${W9:-1}" = 0 ]; then
		row W9 "memory" "n/a: W9=0" "" ""
		return
	fi
	f1=$(datafile log "$N" "$N" cover)
	f10=$(datafile log "$n10" "$N" cover)
	for f in "$f1" "$f10"; do
		local n=$N
		[ "$f" = "$f10" ] && n=$n10
		say "W9 $n records, $N keys"
		if run_pipe "$f" /dev/null "$n" "$batch" "$reduce" "$st"; then
			local srss
			srss=$(echo "$R_RSSV" | awk '{ print $3 }')
			if [ "$n" = "$N" ]; then
				s1=$srss
				row W9 "W5 pipeline, $n records, $N keys" \
				    "$(fmt_rate "$R_RATE")" \
				    "ds-state $srss (all $R_RSS)" ""
			else
				row W9 "W5 pipeline, $n records, $N keys" \
				    "$(fmt_rate "$R_RATE")" \
				    "ds-state $srss (all $R_RSS)" \
				    "$(awk -v a="${s1:-0}" -v b="$srss" 'BEGIN {
				    if (a > 0) printf "RSS %.2f× the %s-record row", b / a, "'"$N"'" }')"
			fi
		else
			row W9 "W5 pipeline, $n records, $N keys" "$R_NA" "" ""
		fi
	done
	note "W9: users drawn in a fixed stride so both files hold the same \
$N keys; ds-state emits the changed keys (mapWithState style), since \
emitting every key each batch would write keys x batches records"
}

w7
w8
w9

# ---- Spark = ds on a small N (the comparison is of equal work) ----------

spark_check() {
	local clog ctext d=$tmp/chk res all=""
	[ -z "${ONLY:-}" ] || return 0
	spark_ready || return 0
	for t in ds-batch ds-reduce ds-window ds-state ds-map; do
		[ -x "$bin/$t" ] || { note "Spark check: skipped, $t not built"
			return 0; }
	done
	mkdir -p "$d"
	clog=$(datafile log "$CHECK_N")
	ctext=$(datafile text "$CHECK_N")
	say "checking Spark's results against ds's on $CHECK_N records"
	if ! spark --check "$d" "$clog" w3 w4 w5 ||
	    ! spark --check "$d" "$ctext" w6; then
		note "Spark check: Spark $(spark_why)"
		return 0
	fi
	run_pipe "$clog" "$d/ds-w3" 0 "$batch" "$reduce" &&
	run_pipe "$clog" "$d/ds-w4" 0 "$batch" "$window" &&
	run_pipe "$clog" "$d/ds-w5" 0 "$batch" "$reduce" "$state" &&
	run_pipe "$ctext" "$d/ds-w6" 0 "$w6map" "$w6red" ||
	    { note "Spark check: a ds pipeline failed: $R_NA"; return 0; }
	for w in w3 w4 w5 w6; do
		res=$(python3 bench/check.py "$d/ds-$w" "$d/$w.tsv" 2>&1)
		all+="${all:+; }${w^^} $res"
	done
	note "Spark = ds on $CHECK_N records: $all"
}
spark_check

# ---- the table -------------------------------------------------------------

{
	echo "# ds bench: N=$N records, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "$(nproc) cores, load average at the end: $(cut -d' ' -f1-3 \
	    /proc/loadavg); tools from $bin"
	echo
	echo "| workload | tool | records/s | MB/s | peak RSS (MB) | ratio ds/peer |"
	echo "|---|---|---|---|---|---|"
	cat "$tmp/rows"
	echo
	echo "Notes:"
	echo "- records/s = records / wall seconds of the whole pipeline," \
	    "MB/s = input bytes / the same seconds;" \
	    "peak RSS of a pipeline = the sum of its stages' peaks" \
	    "(/usr/bin/time %M); the ratio names the ds row it divides."
	echo "- Spark rows: JVM Spark Streaming $(sed -n \
	    's/.*<spark.version>\(.*\)<.*/\1/p' bench/spark/pom.xml) (Java API, \
bench/spark), local[2], queueStream of the same 2 s event-time batches \
(10000 lines a batch for W6), timed inside the driver from ssc.start() to \
the last batch's output, after an untimed warm-up run of the same \
workload on the first 5 batches (the JIT's); JVM start-up excluded; RSS is \
the JVM's peak. Fed the first $SPARK_N records (SPARK_N). W7E has no \
warm-up: its first batches are what a newly started job gives."
	[ "$SLOW_N" -lt "$N" ] && echo "- W3's jq, gojq, jaq reduce and mlr" \
	    "ran on the first $SLOW_N records (SLOW_N): their rates do not depend on" \
	    "the length."
	echo "- W3's jq-like and mlr rows group the whole input, as ds-reduce alone" \
	    "on plain input does; W6 rates are text lines/s (~7 words a" \
	    "line), ds on one batch, Spark on 10000-line batches."
	cat "$tmp/notes"
} > "$tmp/table"
cp "$tmp/table" "$results"
cat "$tmp/table"
exit 0
