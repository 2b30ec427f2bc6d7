#!/usr/bin/env bats
# The fuzz harnesses of test/fuzz replay their corpora: on the plain tier
# each input runs once through the cc build, on the asan tier through
# the libFuzzer build under ASan and UBSan.  A crash found once, and
# added to the corpus, stays found.  make fuzz searches for new ones.

load helper
bats_require_minimum_version 1.5.0

setup_file() {
	cd "$DS_TOP" || return 1
	if [ "${DS_TIER:-plain}" = asan ]; then
		make -s libfuzzers >/dev/null
	else
		make -s fuzzers >/dev/null
	fi
}

# replay NAME: the harness NAME over its corpus on this tier
replay() {
	cd "$DS_TOP" || return 1
	run test/fuzz/run.sh replay "${DS_TIER:-plain}" "$1"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$output" >&2
		return 1
	fi
}

@test "fuzz: the JSON scanner agrees with jansson on its corpus" {
	replay fz-json
}

@test "fuzz: the NDJSON reader splits lines as a plain split does" {
	replay fz-ndjson
}

@test "fuzz: ds-batch takes hostile records, assign records and logs" {
	replay fz-batch
}

@test "fuzz: the jq-subset parser refuses bad programs with a message" {
	replay fz-jqparse
}

@test "fuzz: the jq-subset evaluator outputs valid JSON or an error" {
	replay fz-jqeval
}

@test "fuzz: checkpoints, delta logs and batch logs survive garbage" {
	replay fz-ckpt
}

@test "fuzz: durations, sizes, offsets and specs parse or are refused" {
	replay fz-args
}

@test "fuzz: Kafka envelopes decode as jansson reads them" {
	replay fz-envelope
}
