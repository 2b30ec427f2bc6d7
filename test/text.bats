#!/usr/bin/env bats
# The JSON text primitives of lib/base, seen through the tools: how a
# number is printed.  Expected outputs are jq 1.7.1's (its jvp_dtoa_fmt:
# the shortest digits that read back, plain unless the point lies more
# than 15 places past the last digit or the number is below 1e-4),
# worked out by hand -- never taken from the tools.

bats_require_minimum_version 1.5.0
load helper

@test "numbers: ds-reduce prints a double as jq 1.7.1 does (table)" {
	# input number, then what jq 1.7.1 prints for it
	cat >table <<'EOF'
1e16 1e+16
1e17 1e+17
1e15 1000000000000000
1.2e16 12000000000000000
1e300 1e+300
1.5e-7 1.5e-07
-2.5e-5 -2.5e-05
0.0001 0.0001
0.00001 1e-05
-0.0 -0
3.0 3
0.1 0.1
123.456 123.456
0.30000000000000004 0.30000000000000004
1.7976931348623157e308 1.7976931348623157e+308
5e-324 5e-324
1e-400 0
72057594037927936.0 72057594037927940
12345678901234567.0 12345678901234568
9007199254740993.0 9007199254740992
7.120236347223045e-307 7.120236347223045e-307
EOF
	awk '{ printf "{\"i\":%d,\"x\":%s}\n", NR, $1 }' table >in.ndjson
	awk '{ printf "{\"i\":%d,\"x\":%s}\n", NR, $2 }' table >want
	run --separate-stderr ds-reduce -k i -a x=max:x in.ndjson
	[ "$status" -eq 0 ]
	diff want - <<<"$output"
}

@test "numbers: sum, min and avg print through the same printer" {
	printf '%s\n' '{"x":1e16}' '{"x":2e16}' >in.ndjson
	run --separate-stderr ds-reduce -a sum:x -a min:x -a avg:x in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"sum_x":3e+16,"min_x":1e+16,"avg_x":15000000000000000}' ]
	printf '%s\n' '{"x":0.1}' '{"x":0.2}' >in.ndjson
	run --separate-stderr ds-reduce -a sum:x in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"sum_x":0.30000000000000004}' ]
}

# produce one envelope whose value is base64 TEXT to a broker that is
# not there: a bad value fails at once, a good one only at delivery
produce_b64() {
	printf '{"topic":"x","partition":0,"offset":0,"key":null,"headers":{},"value":"%s","value_encoding":"base64"}\n' "$1" |
	    timeout 30 ds-kafka-cat -P -b 127.0.0.1:9 -t x \
	    -X message.timeout.ms=1000
}

@test "base64: a lone last character is not base64, padding is" {
	run --separate-stderr produce_b64 Q
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-kafka-cat: <stdin>:1: value_encoding is not base64"* ]]
	run --separate-stderr produce_b64 QUJD=x
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"<stdin>:1: value_encoding is not base64"* ]]
	run --separate-stderr produce_b64 QQ==
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"<stdin>:1: delivery to x failed"* ]]
	[[ "$stderr" != *"not base64"* ]]
}

@test "strings: a key written raw or escaped is one key, printed unescaped" {
	printf '{"k":"a\177b"}\n{"k":"a\\u007fb"}\n{"k":"\\u00e9\\/"}\n{"k":"\303\251/"}\n' >in.ndjson
	printf '{"k":"a\177b","count":2}\n{"k":"\303\251/","count":2}\n' >want
	run --separate-stderr ds-reduce -k k -a count in.ndjson
	[ "$status" -eq 0 ]
	diff want - <<<"$output"
}
