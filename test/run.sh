#!/usr/bin/env bash
# make test: install what is missing, build (plain and ASan+UBSan), start
# the servers, run every bats file on both builds, stop the servers, and
# end with "N passed, N failed[, N skipped]".  Under CI=true a skipped
# test counts as failed: nothing may silently not run there.
#
# TESTS="test/ds-batch.bats ..." narrows the run; TIERS="plain" skips the
# sanitizer pass (for quick local runs only).
set -u
cd "$(dirname "$0")/.."
top=$PWD
out=$top/build/test
rm -rf "$out"
mkdir -p "$out"

test/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
make -s all >"$out/build.log" 2>&1 && make -s asan >>"$out/build.log" 2>&1 || {
	cat "$out/build.log"
	echo "0 passed, 1 failed"
	exit 1
}

: "${TESTS:=$(ls test/*.bats)}"
: "${TIERS:=plain asan}"

# servers: each test/servers/NAME.sh start prints VAR=value lines
pass=0 fail=0 skip=0
: >"$out/servers.env"
stop_servers() {
	for s in test/servers/*.sh; do
		[ -x "$s" ] && "$s" stop >/dev/null 2>&1
	done
}
trap stop_servers EXIT
for s in test/servers/*.sh; do
	[ -x "$s" ] || continue
	name=$(basename "$s" .sh)
	if "$s" start >"$out/server-$name.env" 2>"$out/server-$name.log"; then
		cat "$out/server-$name.env" >>"$out/servers.env"
		echo "server $name: started"
	else
		echo "server $name: FAILED to start (see below)"
		tail -20 "$out/server-$name.log"
		fail=$((fail + 1))
	fi
done
set -a
. "$out/servers.env"
set +a

for tier in $TIERS; do
	case $tier in
	plain) bin=$top/build/bin ;;
	asan) bin=$top/build/asan/bin ;;
	esac
	rm -rf "$out/san" && mkdir -p "$out/san"
	export ASAN_OPTIONS="log_path=$out/san/asan:exitcode=86:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$out/san/ubsan:print_stacktrace=1:halt_on_error=1"
	export LSAN_OPTIONS="suppressions=$top/test/lsan.supp:print_suppressions=0"
	[ "$tier" = plain ] && unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
	log=$out/$tier.tap
	PATH="$bin:$PATH" DS_TOP=$top DS_TIER=$tier \
	    bats --tap $TESTS >"$log" 2>&1
	p=$(grep -c '^ok ' "$log" | tr -d ' ')
	s=$(grep -c '^ok .* # skip' "$log" | tr -d ' ')
	f=$(grep -c '^not ok ' "$log" | tr -d ' ')
	p=$((p - s))
	grep -A30 '^not ok ' "$log" | grep -v '^ok ' | head -200
	if [ "$s" -gt 0 ]; then
		grep '^ok .* # skip' "$log"
		if [ "${CI:-}" = true ]; then
			echo "CI: $s skipped test(s) count as failed"
			f=$((f + s))
			s=0
		fi
	fi
	nsan=$(ls "$out/san" | wc -l)
	if [ "$nsan" -gt 0 ]; then
		echo "$tier: $nsan sanitizer report(s):"
		head -40 "$out"/san/*
		f=$((f + nsan))
	fi
	echo "tier $tier: $p passed, $f failed, $s skipped"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
