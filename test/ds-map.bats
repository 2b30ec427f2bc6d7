#!/usr/bin/env bats
# ds-map: jq's language on every data record.  jq is the reference: each
# program/input pair of test/jq/*.cases is run through `jq -c` and
# through ds-map in the test, and the outputs must be equal.

bats_require_minimum_version 1.5.0
load helper

# jqcases NAME: every pair of test/jq/NAME.cases gives jq -c's output.
jqcases() {
	local prog input want got ws gs n=0 bad=0
	while IFS=$'\t' read -r prog input; do
		case $prog in '' | '#'*) continue ;; esac
		n=$((n + 1))
		want=$(printf '%s\n' "$input" | jq -c "$prog" 2>/dev/null) &&
		    ws=0 || ws=$?
		got=$(printf '%s\n' "$input" | ds-map "$prog" 2>/dev/null) &&
		    gs=0 || gs=$?
		if [ "$ws" -ne 0 ] || [ "$gs" -ne 0 ] || [ "$want" != "$got" ]; then
			printf 'program: %s\ninput:   %s\njq (%s): %s\nds (%s): %s\n\n' \
			    "$prog" "$input" "$ws" "$want" "$gs" "$got" >&2
			bad=$((bad + 1))
		fi
	done <"$DS_TOP/test/jq/$1.cases"
	echo "$n cases, $bad differ" >&2
	[ "$n" -gt 0 ]
	[ "$bad" -eq 0 ]
}

@test "paths: . .a .a.b .a? .\"k\" .[n] .[m:n] .[] | ," { jqcases paths; }
@test "construction: objects, shorthand, (k):v, \$x, arrays, interpolation" { jqcases construct; }
@test "operators: arithmetic, comparison, and/or/not, if, //, try, as, reduce, foreach, limit" { jqcases ops; }
@test "builtins: map select split join tonumber length keys has entries sort group ..." { jqcases builtins; }
@test "regex: test match capture sub gsub scan splits (Oniguruma, jq's flags)" { jqcases regex; }
@test "assignment: = |= += -= *= /= %= //= on paths, select, .[]" { jqcases assign; }
@test "path functions: .. recurse path paths del getpath delpaths" { jqcases pathfns; }
@test "numbers print as jq prints them (1e+16, 123456789012345680, 1e-05, -0)" { jqcases numbers; }
@test "formats: @text @json @html @uri @csv @tsv @sh @base64 @base64d" { jqcases formats; }
@test "def, closures, recursion, destructuring, ?//" { jqcases defs; }
@test "dates: strptime mktime strftime todate fromdate gmtime (yyyyMMddHHmmss)" { jqcases dates; }

@test "runtime errors are bad records with the input line, as jq fails" {
	local prog input ws n=0 bad=0
	while IFS=$'\t' read -r prog input; do
		case $prog in '' | '#'*) continue ;; esac
		n=$((n + 1))
		printf '%s\n' "$input" | jq -c "$prog" >/dev/null 2>&1 &&
		    ws=0 || ws=$?
		run --separate-stderr ds-map "$prog" <<<"$input"
		if [ "$ws" -ne 5 ] || [ "$status" -ne 1 ] ||
		    [[ $stderr != "ds-map: <stdin>:1: "* ]]; then
			printf 'program %s: jq %s, ds %s: %s\n' "$prog" "$ws" \
			    "$status" "$stderr" >&2
			bad=$((bad + 1))
		fi
		# --skip-bad reports every line and goes on
		run --separate-stderr ds-map --skip-bad "$prog" <<<"$input
$input"
		if [ "$status" -ne 0 ] || [ -n "$output" ] ||
		    [[ $stderr != *"<stdin>:1: "*"<stdin>:2: "* ]]; then
			printf 'program %s --skip-bad: %s: %s\n' "$prog" \
			    "$status" "$stderr" >&2
			bad=$((bad + 1))
		fi
	done <"$DS_TOP/test/jq/errors.cases"
	[ "$n" -gt 0 ]
	[ "$bad" -eq 0 ]
}

@test "a computed number prints as ds-reduce prints it: one printer" {
	local v a b
	for v in 1e16 1e17 1e21 0.1 1e-5 1.5e300 5e-324 7.120236347223045e-307 2.5 3.0; do
		a=$(printf '{"x":%s}\n' "$v" | ds-map '.x + 0')
		b=$(printf '{"x":%s}\n' "$v" | ds-reduce -a sum:x | ds-map .sum_x)
		if [ "$a" != "$b" ]; then
			printf '%s: ds-map %s, ds-reduce %s\n' "$v" "$a" "$b" >&2
			return 1
		fi
	done
	[ "$a" = 3 ]
}

@test "long integers pass through as they were read (jq 1.7), arithmetic in doubles" {
	dsrun '{"k":1796126184878123457,"n":-100000000000000000000000001}\n' \
	    ds-map '{k, n, s: (.k | tostring), sum: (.k + 0)}, .'
	expect 0 '{"k":1796126184878123457,"n":-100000000000000000000000001,"s":"1796126184878123457","sum":1796126184878123500}
{"k":1796126184878123457,"n":-100000000000000000000000001}'
	dsrun '[123456789012345678, 100000000000000000000, 9007199254740993, 1e20]\n' ds-map .
	expect 0 '[123456789012345678,100000000000000000000,9007199254740993,1e+20]'
}

@test "a program builds values no deeper than --max-depth, at once, as its input" {
	# 8M levels took 10 s and 1.3 GB: now the 513th level is the error
	dsrun 'null\n' ds-map 'reduce range(8141199) as $i (null; [.]) | [paths] | length'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ds-map: <stdin>:1: value nested deeper than 512' ]
	# every way to build: [], {}, setpath and assignment, builtins,
	# group_by, map, fromjson; try catches it
	dsrun '{"a":1}\n' ds-map -c '[
	    (try reduce range(1e6) as $i (.; {a: .}) catch .),
	    (try reduce range(1e6) as $i (.; .a = .) catch .),
	    (try setpath([range(1e6) | "a"]; 1) catch .),
	    (try reduce range(1e6) as $i (.; to_entries) catch .),
	    (try reduce range(1e6) as $i ([1]; group_by(.)) catch .),
	    (try reduce range(1e6) as $i (.; map_values([.])) catch .),
	    (try reduce range(1e6) as $i (.; [.] | tojson | fromjson) catch .),
	    (try ([limit(1e6; recurse([.]))] | length) catch .),
	    (try last(foreach range(1e6) as $i (.; [.])) catch .)] | unique'
	expect 0 '["value nested deeper than 512"]'
}

@test "--max-depth bounds what a program builds: 2 levels pass, the 3rd fails" {
	dsrun '1\n[[1]]\n' ds-map --max-depth 2 --skip-bad -c '[[.]]'
	[ "$status" -eq 0 ]
	[ "$output" = '[[1]]' ]
	[[ "$stderr" == *'ds-map: <stdin>:2: value nested deeper than 2'* ]]
	dsrun '1\n' ds-map --max-depth 2 --argjson a '[[[1]]]' '$a'
	[ "$status" -eq 2 ]
	dsrun '"[[[1]]]"\n' ds-map --max-depth 2 'fromjson'
	[ "$status" -eq 1 ]
	[ "$stderr" = "ds-map: <stdin>:1: nesting deeper than 2 (while parsing '[[[1]]]')" ]
}

@test "values as deep as --max-depth allows: every operation answers or fails cleanly" {
	# 9999 levels is deep for the stack (ASan's frames are larger): an
	# operation gives its answer or the error, caught; never a crash
	run --separate-stderr ds-map --max-depth 10000 'reduce range(9999) as $i (0; [.]) | . as $d | [
	    (try ($d == $d) catch .), (try ([$d] | sort | length) catch .),
	    (try ($d | contains($d)) catch .), (try ($d | flatten) catch .),
	    (try ([$d | ..] | length) catch .), (try ("\($d)" | length) catch .),
	    (try ($d | unique_by(.) | length) catch .), (try ([$d] - [$d]) catch .),
	    (try ([$d | paths] | length) catch .), (try ([$d | tostream] | length) catch .),
	    (try ($d | tojson | fromjson | length) catch .),
	    (try ($d | walk(.) | length) catch .)] | length' <<<'1'
	[ "$status" -eq 0 ]
	[ "$output" = 12 ]
	# and it prints
	run --separate-stderr ds-map --max-depth 10000 'reduce range(9999) as $i (0; [.])' <<<'1'
	[ "$status" -eq 0 ]
	[ "${#output}" -eq 19999 ]
	run --separate-stderr ds-map 'def f: [f]; f' <<<'1'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ds-map: <stdin>:1: value or recursion nested too deeply' ]
}

@test "// outputs the left side's values before an error on its left" {
	# jq 1.6: the error is not suppressed, the outputs before it stand
	dsrun '0\n' ds-map -c '(., .[]) // .'
	expect 1 '0'
	[ "$stderr" = 'ds-map: <stdin>:1: Cannot iterate over number (0)' ]
}

@test "limit with a count that is not a number or below 0: jq 1.7.1's all of f" {
	# 0 gives nothing, below 0 or not a number all of f
	dsrun 'null\n' ds-map -c '[limit({}; 1, 2)], [limit("a"; 1, 2)], [limit(null; 1, 2)], [limit(-1; 1, 2)], [limit(0; 1, 2)]'
	expect 0 '[1,2]
[1,2]
[1,2]
[1,2]
[]'
}

@test "|= empty deletes every path and fromstream is jq 1.7.1's (jq 1.6 differs)" {
	# jq 1.6 deletes while it iterates ([2]); fromstream(null): 1.6 null
	dsrun '[1,2,3]\n' ds-map -c '(.[] |= empty), map_values(empty), ((.[] | select(. >= 2)) |= empty), [fromstream(null, [], [[]])]'
	expect 0 '[]
[]
[1]
[]'
}

@test "jq 1.7 answers where jq 1.6 is wrong: NaN, repetition, abs, repeat" {
	dsrun '[1,2,3]\n' ds-map -c 'del(.[nan]), (1 % nan | isnan), ([limit(3; 1 | repeat(. * 2))]), ([-1, 2] | map(abs))'
	expect 0 '[1,2,3]
true
[1,2,4]
[1,2]'
	# from_entries takes key, k, name, Name, K, Key and value, v, Value;
	# a key that is not a string is its JSON text, so false is "false"
	# and null "null" (jq 1.7.1; Debian's jq 1.6 fails on k, K and on
	# keys that are not strings)
	dsrun '[{"key":false,"value":1},{"key":null,"value":2},{"k":true,"v":3},{"K":"c","v":4},{"key":1,"value":5}]\n' ds-map -c from_entries
	expect 0 '{"false":1,"null":2,"true":3,"c":4,"1":5}'
	dsrun '"ab"\n' ds-map '. * 100000000'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ds-map: <stdin>:1: Repeat string result too long' ]
	# the integer part of the number times; "" from 0 to 1 (jq 1.6: null)
	dsrun '[-1, -0.5, 0, 0.5, 1, 1.5, 3.7, null]\n' ds-map -c '[.[] | "ab" * (. // nan)]'
	expect 0 '[null,null,"","","ab","ab","ababab",null]'
	# implode names what it cannot implode (jq 1.6 stops on an assertion)
	dsrun '[123,["a"],[nan],[65,66]]\n' ds-map -c 'map(try implode catch .)'
	expect 0 '["implode input must be an array","string (\"a\") can'"'"'t be imploded, unicode codepoint needs to be numeric","number (null) can'"'"'t be imploded, unicode codepoint needs to be numeric","AB"]'
}

@test "@base32 and @base32d are RFC 4648's base32 (jq 1.7), as python's base64 module" {
	# jq 1.6 has neither: python is the reference
	printf '%s\n' '""' '"f"' '"fooba"' '"foobar"' '"é😀 \u0000"' '1' '[1,"a"]' >in
	run -0 --separate-stderr ds-map -c '[@base32, (@base32 | @base32d), @base32 "x\(.)"]' in
	want=$(python3 -c '
import base64, json, sys
for l in open("in"):
    v = json.loads(l)
    s = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    e = base64.b32encode(s.encode()).decode()
    print(json.dumps([e, s, "x" + e], ensure_ascii=False, separators=(",", ":")))')
	[ "$output" = "$want" ]
	# decoding stops at the first "=", drops the bits short of a byte,
	# makes ill-formed UTF-8 U+FFFD and names what is not base32
	dsrun '"MZXW6==="\n"MZXW6=ignored"\n"MZXW6Y"\n"74======"\n"mzxw6"\n"MZ1W"\n' \
	    ds-map --skip-bad -c '@base32d'
	expect 0 '"foo"
"foo"
"foo"
"�"'
	[[ "$stderr" == *'<stdin>:5: string ("mzxw6") is not valid base32 data'* ]]
	[[ "$stderr" == *'<stdin>:6: string ("MZ1W") is not valid base32 data'* ]]
}

@test "error messages: jq's wording" {
	dsrun '{"a":5}\n' ds-map .a.b
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ds-map: <stdin>:1: Cannot index number with string "b"' ]
	# a key of 30 bytes or more is not named; setpath and getpath as .a.b
	dsrun '{"a":5}\n' ds-map -c '[(.a | try .abcdefghijklmnopqrstuvwxyz0123 catch .),
	    (try setpath(["a","b"]; 1) catch .), (try getpath(["a","b"]) catch .)]'
	expect 0 '["Cannot index number with string","Cannot index number with string \"b\"","Cannot index number with string \"b\""]'
	# getpath gives null through nulls only, as jq
	dsrun '{"a":{}}\n' ds-map -c '[getpath(["x","y",0]), (try getpath(["a",0]) catch .)]'
	expect 0 '[null,"Cannot index object with number"]'
	# join names the string it built so far
	dsrun '["1","2",{"a":{"b":{"c":33}}}]\n["1","2",[3,4,5]]\n' ds-map 'try join(",") catch .'
	expect 0 '"string (\"1,2,\") and object ({\"a\":{\"b\":{...) cannot be added"
"string (\"1,2,\") and array ([3,4,5]) cannot be added"'
	dsrun '"x"\n' ds-map 'error("boom")'
	[ "$stderr" = 'ds-map: <stdin>:1: boom' ]
	dsrun '1\n' ds-map 'error({a:1})'
	[ "$stderr" = 'ds-map: <stdin>:1: {"a":1} (not a string)' ]
}

@test "path expressions through a value at no path fail with jq's messages" {
	dsrun '{"a":[{"b":0}]}\n' ds-map -c '(try path(.a | map(.) | .[0]) catch .),
	    (try path(.a | map(.) | .c) catch .), (try path(.a | map(.) | .[]) catch .),
	    (try path(.a | map(.) | .[1:]) catch .), (try path(1) catch .),
	    (try ((.a | map(.))[].b = 1) catch .), (try del(.a | map(.)) catch .),
	    (try path(.a | map(.) | getpath([0])) catch .), [path(.a | select(1) | .[0])]'
	expect 0 '"Invalid path expression near attempt to access element 0 of [{\"b\":0}]"
"Invalid path expression near attempt to access element \"c\" of [{\"b\":0}]"
"Invalid path expression near attempt to iterate through [{\"b\":0}]"
"Invalid path expression near attempt to access element {\"start\":1,... of [{\"b\":0}]"
"Invalid path expression with result 1"
"Invalid path expression near attempt to iterate through [{\"b\":0}]"
"Invalid path expression with result [{\"b\":0}]"
"Invalid path expression with result {\"b\":0}"
[["a",0]]'
	# getpath as a path under |=: the errors of indexing, jq's words
	dsrun '[null,{"a":0},{"a":[0]},{"a":{"b":1}},{"a":[{"c":3}]}]\n' ds-map -c '.[] | try (getpath(["a",0,"b"]) |= 5) catch .'
	expect 0 '{"a":[{"b":5}]}
"Cannot index number with number"
"Cannot index number with string \"b\""
"Cannot index object with number"
{"a":[{"c":3,"b":5}]}'
}

@test "NaN and Infinity in the input, as jq's parser reads them" {
	dsrun '[1,Infinity,-Infinity,NaN,-NaN]\n{"a":nan,"b":-inf,"c":INFINITY}\n"nan1234"\n' \
	    ds-map -c 'if type == "string" then fromjson | isnan else
	    (map_values(isnan), map_values(isinfinite), .) end'
	expect 0 '[false,false,false,true,true]
[false,true,true,false,false]
[1,1.7976931348623157e+308,-1.7976931348623157e+308,null,null]
{"a":true,"b":false,"c":false}
{"a":false,"b":true,"c":true}
{"a":null,"b":-1.7976931348623157e+308,"c":1.7976931348623157e+308}
true'
	# anything else is still not JSON
	dsrun 'nanx\n-x\n' ds-map --skip-bad .
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[[ $stderr == *"<stdin>:1: trailing data"*"<stdin>:2: invalid number"* ]]
}

@test "--skip-bad goes on and counts the bad record in the marker" {
	dsrun '{"a":1}\n{"a":"x"}\n{"a":2}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[]}\n' \
	    ds-map --skip-bad '.a + 1'
	expect 0 '2
3
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[],"bad":1}'
	[[ $stderr == *"<stdin>:2: string (\"x\") and number (1) cannot be added"* ]]
}

@test "--dead-letter keeps the bad line, its source and line number" {
	dsrun '{"a":1}\nnot json\n{"a":"x"}\n' ds-map --dead-letter dl.ndjson '.a - 1'
	expect 0 '0'
	run jq -c '[.source, .line, .raw]' dl.ndjson
	[ "$output" = '["<stdin>",2,"not json"]
["<stdin>",3,"{\"a\":\"x\"}"]' ]
}

@test "invalid JSON input is a bad record; output before it is flushed" {
	dsrun '{"a":1}\n{"a":\n' ds-map .a
	[ "$status" -eq 1 ]
	[ "$output" = 1 ]
	[[ $stderr == "ds-map: <stdin>:2: "* ]]
}

@test "unsupported constructs: a compile error naming them, exit 2" {
	local prog what n=0 bad=0
	while IFS=$'\t' read -r prog what; do
		case $prog in '' | '#'*) continue ;; esac
		n=$((n + 1))
		run --separate-stderr ds-map "$prog" </dev/null
		if [ "$status" -ne 2 ] ||
		    [[ $stderr != "ds-map: expression: unsupported: '$what' at 1:"* ]]; then
			printf '%s: status %s: %s\n' "$prog" "$status" "$stderr" >&2
			bad=$((bad + 1))
		fi
	done <"$DS_TOP/test/jq/unsupported.cases"
	[ "$n" -gt 0 ]
	[ "$bad" -eq 0 ]
}

@test "syntax errors and undefined names: exit 2 with the position" {
	run --separate-stderr ds-map '.a |' </dev/null
	[ "$status" -eq 2 ]
	[[ $stderr == "ds-map: expression: syntax error"*"at 1:5" ]]
	run --separate-stderr ds-map '{a: 1' </dev/null
	[ "$status" -eq 2 ]
	run --separate-stderr ds-map 'nosuch(1)' </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "ds-map: expression: nosuch/1 is not defined at 1:1" ]
	run --separate-stderr ds-map '$nope' </dev/null
	[ "$stderr" = 'ds-map: expression: $nope is not defined at 1:1' ]
	run --separate-stderr ds-map 'if . then 1' </dev/null
	[ "$status" -eq 2 ]
}

@test "markers pass through byte for byte, after their batch's outputs" {
	m1='{"@ds":"batch","seq":1,"time":2000,"interval":1000,"count":2,"offsets":[{"topic":"t","partition":0,"from":0,"until":2}],"created":123,"x":{"y": [1, 2]}}'
	m2='{"@ds":"batch","seq":2,"time":3000,"interval":1000,"count":0,"offsets":[],"created":124}'
	printf '%s\n' '{"a":[1,2]}' '{"a":[]}' "$m1" "$m2" >in.ndjson
	run ds-map '.a[]' in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = "1
2
$m1
$m2" ]
}

@test "plain input: plain output, no marker; several files in order" {
	printf '{"n":1}\n' >a.ndjson
	printf '{"n":2}\n{"n":3}\n' >b.ndjson
	run ds-map 'select(.n != 2) | .n * 10' a.ndjson b.ndjson
	[ "$output" = "10
30" ]
}

@test "trailing records after the last marker get a final marker" {
	dsrun '{"n":1}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[]}\n{"n":2}\n' \
	    ds-map .n
	expect 0 '1
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[]}
2
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[],"final":true}'
}

@test "-R: nc-style text split into words inside batches" {
	printf 'a,b\nc\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}\nd,"e\n' >in.txt
	run ds-map -R 'split(",")[] | {word: .}' in.txt
	# the data lines through jq -R, the marker kept, a final one added
	want=$(grep -v '^{"@ds"' in.txt | head -2 | jq -cR 'split(",")[] | {word: .}'
	    echo '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}'
	    tail -1 in.txt | jq -cR 'split(",")[] | {word: .}'
	    echo '{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[],"final":true}')
	[ "$(printf '%s\n' "$output" | nocreated)" = "$want" ]
}

@test "-R: any bytes are a string (invalid UTF-8 becomes U+FFFD, as jq -R)" {
	# a lead byte cut short takes the rest, an overlong form is one U+FFFD
	printf 'x\377y\n{not json\na\351e\na\340\200\200b\n\360\237a\n\300\257\n' >in.txt
	run ds-map -R '{l: ., n: length}' in.txt
	[ "$status" -eq 0 ]
	[ "$output" = "$(jq -cR '{l: ., n: length}' in.txt)" ]
}

@test "-R 'split(SEP)[] | {NAME: .}' (the word count's fast path) prints what jq -R does" {
	printf 'the cat  sat \n  on the mat\nsay "hi" \\ there\ntab\there\ncaf\303\251 na\303\257ve\nbad \377 byte\ndel \177 x\n{"@ds" no marker\nend' >in.txt
	local prog
	for prog in 'split(" ")[] | {word: .}' 'split(" ")[]|{w_1:.}' \
	    ' split ( "at" ) [ ] | { word : . } ' 'split("a")[] | {word: .}'; do
		run --separate-stderr ds-map -R "$prog" in.txt
		[ "$status" -eq 0 ] || { echo "$prog: exit $status"; return 1; }
		[ "$output" = "$(jq -cR "$prog" in.txt)" ] || { echo "$prog"; return 1; }
	done
	# as the interpreter: CRLF ends, blank lines, markers between lines
	printf 'a b\r\n   \n\nc  d\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}\ne\n' >in.txt
	run ds-map -R 'split(" ")[] | {word: .}' in.txt
	[ "$(printf '%s\n' "$output" | nocreated)" = "$(ds-map -R \
	    'split(" ") | .[] | {word: .}' in.txt | nocreated)" ]
	# as jq -R, a line of blanks included (the CR aside: ds ends lines
	# at CRLF)
	[ "$(printf '%s\n' "$output" | head -9)" = "$(printf 'a b\n   \n\nc  d\n' |
	    jq -cR 'split(" ")[] | {word: .}')" ]
}

@test "a byte-order mark starting JSON input is skipped; -R keeps it, as jq and jq -R" {
	printf '\357\273\277{"a":1}\n{"b":2}\n' >in.json
	run -0 --separate-stderr ds-map -c .a in.json
	[ "$output" = "$(jq -c .a in.json)" ]
	[ "${lines[0]}" = 1 ]
	printf '\357\273\277ab cd\nef\n' >in.txt
	for prog in . 'split(" ")[] | {w: .}'; do
		run -0 --separate-stderr ds-map -R "$prog" in.txt
		[ "$output" = "$(jq -cR "$prog" in.txt)" ] || { echo "$prog"; return 1; }
	done
	[ "${#lines[@]}" -eq 3 ]
	# a mark past the first line is no mark: the line is not JSON
	printf '{"a":1}\n\357\273\277{"b":2}\n' >in.json
	run -1 --separate-stderr ds-map -c . in.json
	[ "$stderr" = 'ds-map: in.json:2: invalid JSON at byte 1' ]
}

@test "-R: an empty line and a line of blanks are strings, as in jq -R" {
	printf 'a\n\n  \nb\n' >in.txt
	run -0 --separate-stderr ds-map -R . in.txt
	[ "$output" = "$(jq -R . in.txt)" ]
	[ "${#lines[@]}" -eq 4 ]
	# JSON input still skips them, as jq does
	printf '1\n\n  \n2\n' >in.json
	run -0 --separate-stderr ds-map . in.json
	[ "$output" = "$(jq . in.json)" ]
}

@test "--arg and --argjson as in jq" {
	dsrun '{"a":1}\n' ds-map --arg s x --argjson j '{"k":[1]}' '[$s, $j.k[0] + .a]'
	expect 0 "$(echo '{"a":1}' | jq -c --arg s x --argjson j '{"k":[1]}' '[$s, $j.k[0] + .a]')"
	run --separate-stderr ds-map --argjson j '{bad' . </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "ds-map: --argjson j: invalid JSON text" ]
	run --separate-stderr ds-map --arg onlyname </dev/null
	[ "$status" -eq 2 ]
}

@test "\$__batch is the marker that closes the record's batch; null without markers" {
	dsrun '{"u":1}\n{"u":2}\n{"@ds":"batch","seq":7,"time":5000,"interval":1000,"count":2,"offsets":[]}\n{"u":3}\n{"@ds":"batch","seq":8,"time":6000,"interval":1000,"count":1,"offsets":[]}\n' \
	    ds-map '{u, seq: $__batch.seq, t: $__batch.time}'
	expect 0 '{"u":1,"seq":7,"t":5000}
{"u":2,"seq":7,"t":5000}
{"@ds":"batch","seq":7,"time":5000,"interval":1000,"count":2,"offsets":[]}
{"u":3,"seq":8,"t":6000}
{"@ds":"batch","seq":8,"time":6000,"interval":1000,"count":1,"offsets":[]}'
	dsrun '{"u":1}\n' ds-map '[.u, $__batch]'
	expect 0 '[1,null]'
}

@test "'.' prints compact input as it is and normalises the rest like jq" {
	printf '%s\n' '{"a":1,"b":"x"}' '{ "a" : 1.50 , "b":[ 1e2 ] }' \
	    '{"a":1,"a":2}' '"\u00e9\/"' '[0.1,-0,1E-3]' >in.ndjson
	run ds-map . in.ndjson
	[ "$output" = "$(jq -c . in.ndjson)" ]
}

@test "-c is accepted for jq users; -h prints usage; -V; bad options exit 2" {
	dsrun '{"a":1}\n' ds-map -c .a
	expect 0 1
	run ds-map -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: ds-map [-cRhV] [--arg NAME VALUE] [--argjson NAME JSON]" ]]
	run ds-map -V
	[ "$status" -eq 0 ]
	[[ $output == "ds-map "* ]]
	run ds-map --nope .
	[ "$status" -eq 2 ]
	run ds-map
	[ "$status" -eq 2 ]
}

@test "--max-line: an over-long line is a bad record" {
	dsrun '{"a":"0123456789012345678901234567890123456789"}\n{"a":1}\n' \
	    ds-map --max-line 32 --skip-bad .a
	expect 0 1
	[[ $stderr == *"<stdin>:1: line longer than 32 bytes"* ]]
}

@test "man page EXAMPLES: W2 filter, seeds' timestamps, batch tag, word split" {
	printf '%s\n' '{"user":"u1","app":"live","bytes":10,"time":"20241122100000"}' \
	    '{"user":"u2","app":"vod","bytes":20,"time":"20241122100002"}' >in.ndjson
	run ds-map 'select(.app=="live") | {user,bytes}' in.ndjson
	[ "$output" = "$(jq -c 'select(.app=="live") | {user,bytes}' in.ndjson)" ]
	p='.ts = (.time | strptime("%Y%m%d%H%M%S") | mktime * 1000)'
	run ds-map "$p" in.ndjson
	[ "$output" = "$(jq -c "$p" in.ndjson)" ]
	[[ ${lines[0]} == *'"ts":1732269600000}' ]]
	printf '{"a":1}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":1,"offsets":[]}\n' >b.ndjson
	run ds-map '. + {batch: $__batch.time}' b.ndjson
	[ "${lines[0]}" = '{"a":1,"batch":4000}' ]
	printf 'to be or\nnot\n' >w.txt
	run ds-map -R 'split(" ")[] | {word: .}' w.txt
	[ "$output" = "$(jq -cR 'split(" ")[] | {word: .}' w.txt)" ]
}

@test "200 random programs (seeded) give jq's output and jq's failures" {
	local p want got ws gs n=0 bad=0
	echo '{"a":3,"b":"q","c":[3,1,2,1],"d":{"e":null},"s":"a b"}' >in.json
	python3 "$DS_TOP/test/jq/randprog.py" 7 200 >progs.txt
	while IFS= read -r p; do
		want=$(jq -c "$p" in.json 2>/dev/null) && ws=0 || ws=$?
		[ "$ws" -eq 3 ] && continue	# not valid jq either
		n=$((n + 1))
		got=$(ds-map "$p" in.json 2>/dev/null) && gs=0 || gs=$?
		if [ "$ws" -eq 0 ] && { [ "$gs" -ne 0 ] || [ "$want" != "$got" ]; } ||
		    { [ "$ws" -ne 0 ] && [ "$gs" -ne 1 ]; }; then
			printf 'program: %s\njq (%s): %s\nds (%s): %s\n' "$p" \
			    "$ws" "$want" "$gs" "$got" >&2
			bad=$((bad + 1))
		fi
	done <progs.txt
	echo "$n programs, $bad differ" >&2
	[ "$n" -gt 100 ]
	[ "$bad" -eq 0 ]
}

@test "huge and NaN numbers in indexes, %, *, limit, dates never misbehave" {
	for p in '[.[] | . % 3] | length' '"x" * nan' '[limit(nan; 1,2)]' \
	    '.[nan:]' 'try (1e300 | todate) catch "e"' '.[1e300]' \
	    'try ([1e300,0,0,0,0,0] | mktime) catch "e"' 'del(.[1e300])' \
	    'try (.[nan] = 1) catch "e"' '[1e300] | implode | length'; do
		run ds-map "$p" <<<'[1e300, -1e300, 7]'
		[ "$status" -eq 0 ] || { echo "$p: $status $output" >&2; return 1; }
	done
}
