#!/usr/bin/env bash
# test/fuzz/run.sh: the fuzz harnesses of test/fuzz.
#
#   run.sh replay plain|asan [NAME ...]
#	every input of each harness's corpus once: plain runs the cc
#	build (build/fuzz, main.c as driver), asan the libFuzzer build
#	with ASan+UBSan (build/libfuzzer/fuzz).  With REPLAY_FUZZ=N the
#	asan replay then fuzzes N seconds from the corpus, keeping
#	nothing it finds but a crash (make test does not: a test must
#	not fail by chance).
#   run.sh fuzz SECONDS [NAME ...]
#	each harness under libFuzzer for SECONDS, nice'd; new inputs go to
#	build/fuzz-corpus/NAME, crashes to build/fuzz-crash/NAME; prints
#	executions/s, edge coverage and CPU time per harness.
#
# Exit status 1 when a harness crashed, hung or an oracle disagreed.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
mode=${1:?usage: run.sh replay plain|asan|fuzz SECONDS [NAME ...]}
arg=${2:?usage: run.sh replay plain|asan|fuzz SECONDS [NAME ...]}
shift 2
names=${*:-$(cd test/fuzz && ls fz-*.c | sed 's/\.c$//')}

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$top/test/lsan.supp:print_suppressions=0"

# flags NAME: libFuzzer flags of a harness, with its dictionary NAME.dict
# and the flags in NAME.options when there are
flags() {
	local f="-timeout=10 -rss_limit_mb=2048 -max_len=4096"
	[ -f "test/fuzz/$1.dict" ] && f="$f -dict=test/fuzz/$1.dict"
	[ -f "test/fuzz/$1.options" ] && f="$f $(cat "test/fuzz/$1.options")"
	echo "$f"
}

# a harness whose tool exits on purpose leaks what exit(3) would free:
# NAME.options says -detect_leaks=0, for the final leak check too
leaks() {
	if grep -q 'detect_leaks=0' "test/fuzz/$1.options" 2>/dev/null; then
		echo "${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	else
		echo "${ASAN_OPTIONS:-}"
	fi
}

rc=0
case $mode in
replay)
	for n in $names; do
		corpus=test/fuzz/corpus/$n
		if [ "$arg" = plain ]; then
			build/fuzz/$n "$corpus" || { echo "$n: FAILED"; rc=1; }
			continue
		fi
		scratch=$(mktemp -d)
		# shellcheck disable=SC2046
		ASAN_OPTIONS=$(leaks "$n") \
		    build/libfuzzer/fuzz/$n $(flags "$n") -runs=0 \
		    -artifact_prefix="$scratch/" "$corpus" \
		    >"$scratch/log" 2>&1 && { [ "${REPLAY_FUZZ:-0}" -eq 0 ] ||
		    ASAN_OPTIONS=$(leaks "$n") nice \
		    build/libfuzzer/fuzz/$n $(flags "$n") \
		    -max_total_time="$REPLAY_FUZZ" \
		    -artifact_prefix="$scratch/" "$scratch" "$corpus" \
		    >>"$scratch/log" 2>&1; } || {
			echo "$n: FAILED"
			grep -A30 'ERROR\|oracle\|==[0-9]*==' "$scratch/log" |
			    head -60
			ls "$scratch"/crash-* "$scratch"/timeout-* \
			    "$scratch"/leak-* 2>/dev/null
			rc=1
		}
		echo "$n: $(grep -o '#[0-9]*.*DONE.*' "$scratch/log" | tail -1)"
		rm -rf "$scratch"
	done
	;;
fuzz)
	for n in $names; do
		mkdir -p "build/fuzz-corpus/$n" "build/fuzz-crash/$n"
		log=build/fuzz-crash/$n/log
		# shellcheck disable=SC2046
		( time ASAN_OPTIONS=$(leaks "$n") nice \
		    build/libfuzzer/fuzz/$n $(flags "$n") \
		    -max_total_time="$arg" -print_final_stats=1 \
		    -artifact_prefix="build/fuzz-crash/$n/" \
		    "build/fuzz-corpus/$n" "test/fuzz/corpus/$n" ) \
		    >"$log" 2>&1 || rc=1
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$log" | tail -1)
		eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" |
		    tail -1)
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		cpu=$(awk '/^(user|sys)/ { split($2, t, "m")
		    s += t[1] * 60 + t[2] } END { printf "%.1f", s }' "$log")
		printf '%-12s %10s execs %7s/s %-10s %6s s CPU%s\n' "$n" \
		    "${execs:-?}" "${eps:-?}" "${cov:-cov: ?}" "$cpu" \
		    "$(ls build/fuzz-crash/$n | grep -v '^log$' |
		    sed 's/^/  FOUND /' | tr '\n' ' ')"
	done
	;;
*)
	echo "usage: run.sh replay plain|asan [NAME ...] | fuzz SECONDS [NAME ...]" >&2
	exit 2
	;;
esac
exit $rc
