#!/usr/bin/env bash
# make test: install what is missing, build (plain and ASan+UBSan), start
# the servers, run every bats file on both builds, stop the servers, and
# end with "N passed, N failed[, N skipped]".  Under CI=true a skipped
# test counts as failed: nothing may silently not run there.
#
# TESTS="test/ds-batch.bats ..." narrows the run; TIERS="plain" skips the
# sanitizer pass (for quick local runs only); JOBS=N runs N bats files at
# once in each tier (default 3).
set -u
cd "$(dirname "$0")/.."
top=$PWD
out=$top/build/test
rm -rf "$out"
mkdir -p "$out"

test/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
# tests that cannot fail ([ a ] && [ b ], sleep then assert an absence)
test/lint-bats.sh || { echo "0 passed, 1 failed"; exit 1; }
# libmongoc's statistics files of processes gone (ds-sink-mongo before
# it unlinked its own at start, killed -9): a new process that gets one
# of those pids warns on stderr before main
for f in /dev/shm/mongoc-*; do
	[ -e "$f" ] || continue
	kill -0 "${f##*-}" 2>/dev/null || rm -f "$f"
done
# the slowest files first, so that the parallel jobs end together
if [ -z "${TESTS:-}" ]; then
	TESTS=$(printf 'test/%s.bats\n' e2e ds-sink-mongo ds-kafka-cat \
	    ds-kafka-cat-mock ds-state examples scale)
	TESTS="$TESTS $(ls test/*.bats | grep -vxF "$TESTS")"
fi
# bats files run side by side within a tier (bats --jobs, GNU parallel),
# each file's tests in order: a test that stops a server starts its own
: "${JOBS:=3}"
: "${TIERS:=plain asan}"

# the builds; lint (-Werror, mandoc, cppcheck: seconds), so a warning
# fails CI; the fuzz harnesses (test/fuzz.bats replays their corpora),
# the cc build, and the libFuzzer build with clang for the asan tier
libfuzzers=
case " $TIERS " in *" asan "*) libfuzzers=libfuzzers ;; esac
for target in all asan lint fuzzers $libfuzzers; do
	make -s "$target" >>"$out/build.log" 2>&1 || {
		cat "$out/build.log"
		echo "0 passed, 1 failed"
		exit 1
	}
done

# servers: each test/servers/NAME.sh start prints VAR=value lines.  Each
# tier has servers of its own (DS_SERVER_DIR), so that a test stopping
# MongoDB on purpose never disturbs the other tier running beside it.
pass=0 fail=0 skip=0
stop_servers() {
	local tier s
	for tier in $TIERS; do
		for s in test/servers/*.sh; do
			[ -x "$s" ] && DS_SERVER_DIR=$top/build/servers/$tier \
			    "$s" stop >/dev/null 2>&1
		done
	done
}
trap stop_servers EXIT
cache=${DS_CACHE:-$HOME/.cache/ds}
[ -x "$cache/go/bin/ferretdb" ] || echo "servers: building FerretDB 1.24 into" \
    "$cache (first run only: 3 to 10 minutes)"
[ -d "$cache/kafka-3.9.1/libs" ] || echo "servers: fetching Kafka 3.9 jars" \
    "from Maven Central into $cache (first run only: a minute or two)"
# every tier's servers start at once (the scripts lock what they fetch)
for tier in $TIERS; do
	for s in test/servers/*.sh; do
		[ -x "$s" ] || continue
		name=$(basename "$s" .sh)
		( DS_SERVER_DIR=$top/build/servers/$tier "$s" start \
		    >"$out/server-$tier-$name.env" \
		    2>"$out/server-$tier-$name.log"
		echo $? >"$out/server-$tier-$name.rc" ) &
	done
done
wait
for tier in $TIERS; do
	env=$out/servers-$tier.env
	echo "DS_SERVER_DIR=$top/build/servers/$tier" >"$env"
	for s in test/servers/*.sh; do
		[ -x "$s" ] || continue
		name=$(basename "$s" .sh)
		if [ "$(cat "$out/server-$tier-$name.rc")" = 0 ]; then
			cat "$out/server-$tier-$name.env" >>"$env"
			echo "server $name ($tier): started"
		else
			echo "server $name ($tier): FAILED to start (see below)"
			tail -20 "$out/server-$tier-$name.log"
			fail=$((fail + 1))
		fi
	done
done

# run_tier TIER: every bats file on one build; the tally goes to
# $out/TIER.sum as "passed failed skipped", the report to $out/TIER.report
run_tier() {
	local tier=$1 bin log san p s f nsan
	case $tier in
	plain) bin=$top/build/bin ;;
	asan) bin=$top/build/asan/bin ;;
	esac
	san=$out/san-$tier
	mkdir -p "$san"
	set -a
	. "$out/servers-$tier.env"
	set +a
	log=$out/$tier.tap
	if [ "$tier" = asan ]; then
		export ASAN_OPTIONS="log_path=$san/asan:exitcode=86:detect_leaks=1"
		export UBSAN_OPTIONS="log_path=$san/ubsan:print_stacktrace=1:halt_on_error=1"
		export LSAN_OPTIONS="suppressions=$top/test/lsan.supp:print_suppressions=0"
	fi
	# a test that hangs fails after 5 minutes instead of stalling the run
	PATH="$bin:$PATH" DS_TOP=$top DS_TIER=$tier BATS_TEST_TIMEOUT=300 \
	    bats --tap --timing --jobs "$JOBS" --no-parallelize-within-files \
	    $TESTS >"$log" 2>&1
	p=$(grep -c '^ok ' "$log" | tr -d ' ')
	s=$(grep -c '^ok .* # skip' "$log" | tr -d ' ')
	f=$(grep -c '^not ok ' "$log" | tr -d ' ')
	p=$((p - s))
	{
		grep -A30 '^not ok ' "$log" | grep -v '^ok ' | head -200
		if [ "$s" -gt 0 ]; then
			grep '^ok .* # skip' "$log"
			if [ "${CI:-}" = true ]; then
				echo "CI: $s skipped test(s) count as failed"
				f=$((f + s))
				s=0
			fi
		fi
		# LeakSanitizer's tracer writes this alone when the process it
		# checks at exit is killed (kill -9 by a crash test) meanwhile:
		# no finding, so not a report
		for r in "$san"/*; do
			[ -e "$r" ] || continue
			grep -vqE '^==[0-9]+==Unable to get registers from thread [0-9]+\.$' "$r" ||
			    rm -f "$r"
		done
		nsan=$(ls "$san" | wc -l)
		if [ "$nsan" -gt 0 ]; then
			echo "$tier: $nsan sanitizer report(s):"
			head -40 "$san"/*
			f=$((f + nsan))
		fi
		echo "tier $tier: slowest tests:"
		sed -n 's/^ok [0-9]* \(.*\) in \([0-9]*\)ms.*/\2 \1/p' "$log" |
		    sort -rn | head -5 | awk '{ printf "  %6.1f s", $1 / 1000;
		    $1 = ""; print }'
		echo "tier $tier: $p passed, $f failed, $s skipped"
	} >"$out/$tier.report"
	echo "$p $f $s" >"$out/$tier.sum"
}

# The tiers run side by side: most of a test's time is spent waiting on
# the servers, so two at once nearly halve the run on two cores.
for tier in $TIERS; do
	run_tier "$tier" &
done
wait
for tier in $TIERS; do
	cat "$out/$tier.report"
	read -r p f s <"$out/$tier.sum" || { p=0 f=1 s=0; }
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
