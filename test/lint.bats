#!/usr/bin/env bats
# test/lint-bats.sh: the checker of the assertions that cannot fail.

load helper

# lint FILE...: run the checker; the files planted here say @TEST for
# @test, which bats would take for tests of this file
lint() {
	sed -i 's/^@TEST /@test /' "$@"
	run "$DS_TOP/test/lint-bats.sh" "$@"
}

@test "lint-bats: [ a ] && [ b ] chains of [, [[ and test, named by file and line" {
	cat >bad.bats <<'B'
@TEST "x" {
	run true
	[ "$status" -eq 0 ] && [ -z "$output" ]
	[[ -n "$output" ]] && [[ "$output" = x ]]
	test -n "$output" && test "$output" = x
	[ -e a ]&&[ -e b ]
	cat <<-E >f
		[ -e a ] && [ -e b ]
	E
	[ -e a ] && [ -e b ]
}
B
	lint bad.bats
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 5 ]
	[ "${lines[0]}" = "bad.bats:3: [ a ] && [ b ] passes when a is false: one assertion per line" ]
	[[ "${lines[1]}" == "bad.bats:4: "* ]]
	[[ "${lines[2]}" == "bad.bats:5: "* ]]
	[[ "${lines[3]}" == "bad.bats:6: "* ]]
	[[ "${lines[4]}" == "bad.bats:10: "* ]]
}

@test "lint-bats: an absence asserted after a sleep" {
	cat >bad.bats <<'B'
@TEST "x" {
	touch a
	sleep 0.2
	[ ! -e b ]
	sleep 1
	# nothing yet
	! grep -q x a
	sleep 1
	[ -z "$(ls b* 2>/dev/null)" ]
	kill "$pid"; sleep 0.5
	[ "$(grep -c x a)" -eq 0 ]
}
B
	lint bad.bats
	[ "$status" -eq 1 ]
	[ "$output" = "bad.bats:4: an absence asserted after the sleep of line 3: wait for a condition that proves it
bad.bats:7: an absence asserted after the sleep of line 5: wait for a condition that proves it
bad.bats:9: an absence asserted after the sleep of line 8: wait for a condition that proves it
bad.bats:11: an absence asserted after the sleep of line 10: wait for a condition that proves it" ]
}

@test "lint-bats: a bare wait (it waits for bats' timeout watchdog too)" {
	cat >bad.bats <<'B'
@TEST "x" {
	sleep 1 &
	pid=$!
	wait
	wait 2>/dev/null
	wait; echo done
	wait "$pid"
	wait $pid
}
B
	lint bad.bats
	[ "$status" -eq 1 ]
	[ "$output" = "bad.bats:4: a bare wait also waits for the BATS_TEST_TIMEOUT watchdog: wait for a pid
bad.bats:5: a bare wait also waits for the BATS_TEST_TIMEOUT watchdog: wait for a pid
bad.bats:6: a bare wait also waits for the BATS_TEST_TIMEOUT watchdog: wait for a pid" ]
}

@test "lint-bats: chains that decide something and waits that end in a positive check pass" {
	cat >good.bats <<'B'
ready() { [ -s a ] && [ -s b ]; }
@TEST "x" {
	if [ -e a ] && [ -e b ]; then
		:
	fi
	while [ -e a ] && [ ! -e b ]; do
		sleep 0.1
	done
	[ -e a ] && [ -e b ] || { echo both; false; }
	if [ -e a ] ||
	    { [ -e b ] && [ -e c ]; }; then
		:
	fi
	[[ -e a && -e b ]]
	[ -n "$x" ] && y=1
	echo '[ -e a ] && [ -e b ]' "[ -e a ] && [ -e b ]"
	cat <<-E >f
		[ -e a ] && [ -e b ]
	E
	for i in 1 2 3; do
		[ -e a ] && break
		sleep 0.1
	done
	[ ! -e c ]
	sleep 1
	[ -e a ]
	[ "$status" -eq 0 ]
}
B
	lint good.bats
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "lint-bats: two real test files pass; a bad line planted in one is caught" {
	cp "$DS_TOP/test/ds-top.bats" "$DS_TOP/test/ds-batch.bats" .
	lint ds-top.bats ds-batch.bats
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	n=$(grep -n '^@test' ds-batch.bats | sed -n 2p | cut -d: -f1)
	sed -i "$((n + 1))i\\	[ -s in ] && [ -s out ]" ds-batch.bats
	lint ds-top.bats ds-batch.bats
	[ "$status" -eq 1 ]
	[[ "$output" == "ds-batch.bats:$((n + 1)): [ a ] && [ b ] passes when a is false"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "lint-fnlen: a function over the limit is named by file and line; the tree has none over 120" {
	run "$DS_TOP/test/lint-fnlen.sh"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	{
		printf 'static int\nshort_one(void)\n{\n\treturn 0;\n}\n\n'
		printf 'int\nlong_one(int a,\n    int b)\n{\n'
		for i in 1 2 3 4 5 6; do printf '\ta += b;\n'; done
		printf '\treturn a;\n}\n'
	} >f.c
	run "$DS_TOP/test/lint-fnlen.sh" 8 f.c
	[ "$status" -eq 1 ]
	[ "$output" = "f.c:10: long_one is 9 lines" ]
	run "$DS_TOP/test/lint-fnlen.sh" 9 f.c
	[ "$status" -eq 0 ]
}
