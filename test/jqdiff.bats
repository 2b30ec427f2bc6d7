#!/usr/bin/env bats
# ds-map against the installed jq on programs generated from the grammar
# of its jq subset (test/jq/jqdiff.py): the kept cases of the
# coverage-guided runs (test/jq/corpus.jsonl) and fresh ones of a fixed
# seed.  make jqdiff searches for new disagreements.

load helper
bats_require_minimum_version 1.5.0

# jqdiff ARGS...: test/jq/jqdiff.py with ARGS, its report on failure
jqdiff() {
	run python3 "$DS_TOP/test/jq/jqdiff.py" "$@"
	printf '%s\n' "$output" >&2
	[ "$status" -eq 0 ]
}

@test "jqdiff: the kept corpus and 100 fresh programs (seed 1) agree with jq" {
	# the known ds-map bugs (test/jq/findings.md) run as expected failures
	jqdiff -s 1 -n 100 -r "$DS_TOP/test/jq/corpus.jsonl" \
	    -x "$DS_TOP/test/jq/xfail.jsonl"
	[[ "${lines[-1]}" =~ ^[0-9]+\ cases,\ 0\ differ,\ [1-9][0-9]*\ expected ]]
}

@test "jqdiff: a disagreement fails the run and names program and input" {
	# a jq that prints 2 where jq prints 1 disagrees with ds-map
	printf '#!/bin/sh\nexec jq "$@" | sed "s/^1$/2/"\n' >badjq
	chmod +x badjq
	printf '{"p": "1", "in": ["null", "1", "[]", "{}"]}\n' >one.jsonl
	run python3 "$DS_TOP/test/jq/jqdiff.py" -n 0 -r one.jsonl --jq ./badjq
	[ "$status" -eq 1 ]
	[[ "$output" == *"program (ds): 1"* ]]
	[[ "$output" == *"input:  null"* ]]
	[[ "${lines[-1]}" == "1 cases, 1 differ,"* ]]
}
