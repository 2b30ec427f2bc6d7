#!/usr/bin/env bats
# The seed scenarios in examples/ run end to end on generated input; the
# expected results are computed here with python3, independently.

load helper

EX=$DS_TOP/examples
export DS_OUT=cat

# words N: N lines of random words from a small vocabulary (seeded)
words() {
	python3 -c '
import random, sys
random.seed(int(sys.argv[2]))
voc = ["spark", "stream", "kafka", "mongo", "batch", "window", "state", "ds"]
for i in range(int(sys.argv[1])):
    print("  ".join(random.choice(voc) for _ in range(random.randint(0, 6))))
' "$1" "${2:-1}"
}

# counts FILE: {"word":w,"count":n} sorted by word, from python
counts() {
	python3 -c '
import collections, json, re, sys
c = collections.Counter(w for l in open(sys.argv[1]) for w in re.split(r"\s+", l.strip()) if w)
for w in sorted(c):
    print(json.dumps({"word": w, "count": c[w]}, separators=(",", ":")))
' "$1"
}

@test "examples: network word count (NetworkWordCount) sums to the text's counts" {
	words 2000 >text
	counts text >want
	"$EX/network-wordcount.sh" - <text >out
	# batches may split the input: add the per-batch counts up
	jq -c 'select(has("@ds") | not)' out |
	    jq -s -c 'group_by(.word)[] | {word: .[0].word, count: (map(.count) | add)}' >got
	diff want got
	# and every batch is closed by a marker
	[ "$(tail -1 out | jq -r '."@ds"')" = batch ]
}

@test "examples: stateful word count (updateStateByKey) keeps totals across restarts" {
	words 1000 1 >a
	words 1000 2 >b
	cat a b >all
	counts all >want
	"$EX/stateful-wordcount.sh" - "$T/ck" <a >/dev/null
	"$EX/stateful-wordcount.sh" - "$T/ck" <b >out
	# --emit all: the last batch holds every word's running total
	awk '/^\{"@ds"/ { n++ } { print n + 0 "\t" $0 }' out |
	    awk -F'\t' -v last="$(grep -c '^{"@ds"' out)" '$1 == last - 1 { print $2 }' |
	    jq -c 'select(has("@ds") | not)' | jq -s -c 'sort_by(.word)[]' >got
	diff want got
}

@test "examples: windowed word count (reduceByKeyAndWindow) covers a finite input" {
	words 500 >text
	counts text >want
	"$EX/window-wordcount.sh" - <text >out
	# the input arrives within one 6 s window: the last window has it all
	awk '/^\{"@ds"/ { n++; next } { print n + 0 "\t" $0 }' out >tagged
	last=$(cut -f1 tagged | sort -n | tail -1)
	awk -F'\t' -v l="$last" '$1 == l { print $2 }' tagged |
	    jq -s -c 'sort_by(.word)[]' >got
	diff want got
	tail -1 out | jq -e '.window.end - .window.start == 6000 and .window.end % 4000 == 0'
}

@test "examples: blacklist filter (transform + leftOuterJoin) drops blacklisted ips" {
	python3 -c '
import random
random.seed(7)
ips = ["27.19.74.143", "110.52.250.126", "10.0.0.%d"]
for i in range(3000):
    ip = random.choice(ips)
    if "%" in ip:
        ip = ip % random.randrange(20)
    print("%s##2016-05-30 17:38:%02d##GET /p%d HTTP/1.1##200##%d" % (ip, i % 60, i, 100 + i))
print("garbage line without separators")
' >log
	printf '{"ip":"27.19.74.143"}\n{"ip":"110.52.250.126"}\n' >blacklist.ndjson
	python3 -c '
import json, sys
bl = {"27.19.74.143", "110.52.250.126"}
for l in open("log"):
    f = l.rstrip("\n").split("##")
    if len(f) != 5 or f[0] in bl:
        continue
    print(json.dumps({"ip": f[0], "time": f[1], "request": f[2],
        "status": int(f[3]), "bytes": int(f[4])}, separators=(",", ":")))
' >want
	"$EX/blacklist-filter.sh" blacklist.ndjson - <log >out
	grep -v '^{"@ds"' out >got
	diff want got
}

@test "examples: top 3 brands per category since the start (updateStateByKey + row_number)" {
	# brand b of category c appears (b+1)*(c+2) times: no ties
	python3 -c '
import random
random.seed(3)
lines = []
for c in range(3):
    for b in range(5):
        lines += ["%d brand%d cat%d" % (i, b, c) for i in range((b + 1) * (c + 2))]
random.shuffle(lines)
print("\n".join(lines))
print("malformed")
' >sales
	python3 -c '
import collections, json
n = collections.Counter()
for l in open("sales"):
    f = l.split()
    if len(f) == 3:
        n[(f[2], f[1])] += 1
for c in sorted({c for c, _ in n}):
    top = sorted(((s, b) for (cc, b), s in n.items() if cc == c), reverse=True)[:3]
    print(json.dumps({"category": c, "top": [[b, s] for s, b in top]}, separators=(",", ":")))
' >want
	"$EX/top3-brands.sh" - "$T/ck" <sales >out
	grep -v '^{"@ds"' out |
	    jq -c '{category, top: [.top_sales[] | [.brand, .sales]]}' | sort >got
	diff want got
}
