#!/usr/bin/env bats
# ds-window: windows on the batch grid.  Expected outputs come from
# ref.py (test/agg.bash), an independent Python model of ds-reduce(1) and
# ds-window(1) (windows recomputed from the raw records), or are worked
# out by hand in the test -- never from the tool itself.

bats_require_minimum_version 1.5.0
load helper
load agg

# gen.py NBATCH NKEYS SEED [TAIL]: 2 s batches of access records with
# hand-made markers (some empty, one partition's offsets), TAIL records
# after the last marker.  The first batch ends at 1002000, off the 4 s
# slide grid, so the first window is partial.
mkgen() {
	cat >"$T/gen.py" <<'PYEOF'
import json, random, sys
nb, nk, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tail = int(sys.argv[4]) if len(sys.argv) > 4 else 0
r = random.Random(seed)
off = 0
def rec():
    d = {"user": "u%d" % r.randrange(nk), "app": "a%d" % r.randrange(3),
         "bytes": r.randint(0, 5000)}
    if r.random() < 0.1:
        d["lat"] = r.choice([1.5, -2.25, 3])
    return json.dumps(d, separators=(",", ":"))
for b in range(1, nb + 1):
    n = 0 if r.random() < 0.25 else r.randint(1, 20)
    lo = off
    for i in range(n):
        print(rec())
        off += 1
    offs = [{"topic": "t", "partition": 0, "from": lo, "until": off}] if n else []
    print(json.dumps({"@ds": "batch", "seq": b, "time": 2000 * (b + 500),
                      "interval": 2000, "count": n, "offsets": offs},
                     separators=(",", ":")))
for i in range(tail):
    print(rec())
PYEOF
}

# Is TOOL an AddressSanitizer build?
sanitized() {
	[ "${DS_TIER:-}" = asan ] || ldd "$(command -v "$1")" | grep -q libasan
}

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	mkref
	mkgen
}

# check LEN_MS SLIDE_MS ARGS...: ds-window ARGS on in.ndjson equals the
# model's windows of LEN_MS sliding SLIDE_MS.
check() {
	local len=$1 slide=$2 refargs=() a prev=
	shift 2
	for a in "$@"; do
		case $prev:$a in
		*:-a|*:--top|*:-w|*:-s|*:--no-inverse|*:--inverse) ;;
		-w:*|-s:*) ;;
		--top:*) refargs+=("top:$a") ;;
		*) refargs+=("$a") ;;
		esac
		prev=$a
	done
	python3 ref.py --window "$len" "$slide" "${refargs[@]}" <in.ndjson >want
	run --separate-stderr ds-window "$@" in.ndjson
	[ "$status" -eq 0 ] || { echo "exit $status: $stderr"; return 1; }
	printf '%s\n' "$output" | nocreated >got
	diff want got
}

@test "ds-window -h prints the usage to stdout" {
	run ds-window -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ds-window [-hV] -w LENGTH [-s SLIDE]"* ]]
}

@test "ds-window -V prints the version" {
	run ds-window -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ds-window "* ]]
}

@test "usage errors exit 2" {
	local bad
	for bad in "" "-s 2s" "-w x" "-w 0" "-w 4s --origin x" "-w 6s -a bogus" \
	    "-w 6s -a max:x --inverse" "-w 6s --inverse" "-w 6s -k a,a.b" \
	    "-w 6s -k count" "-w 6s --bogus"; do
		run --separate-stderr ds-window $bad </dev/null
		[ "$status" -eq 2 ] || { echo "'$bad': exit $status"; return 1; }
		[ -n "$stderr" ] || { echo "'$bad': no message"; return 1; }
	done
}

@test "a window or slide that is not a multiple of the interval is exit 2 naming both" {
	python3 gen.py 4 2 1 >in.ndjson
	local ws
	for ws in "5s 4s" "6s 3s" "6s 500ms"; do
		set -- $ws
		run --separate-stderr ds-window -w "$1" -s "$2" -a count in.ndjson
		[ "$status" -eq 2 ]
		l=$(($(sed 's/ms$//; s/s$/000/' <<<"$1"))) s=$(($(sed -E 's/ms$//; t; s/s$/000/' <<<"$2")))
		[[ "$stderr" == *"${l}ms"*"${s}ms"*"2000ms"* ]] || { echo "$stderr"; return 1; }
	done
}

@test "6 s windows sliding 4 s over 2 s batches, worked by hand" {
	# batches at 2,4,6(empty),8,10,12(empty) s; windows end at 4, 8, 12 s
	{
		echo '{"w":"a"}'; echo '{"w":"b"}'
		echo '{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":2,"offsets":[]}'
		echo '{"w":"a"}'
		echo '{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":1,"offsets":[]}'
		echo '{"@ds":"batch","seq":3,"time":6000,"interval":2000,"count":0,"offsets":[]}'
		echo '{"w":"b"}'; echo '{"w":"b"}'; echo '{"w":"c"}'
		echo '{"@ds":"batch","seq":4,"time":8000,"interval":2000,"count":3,"offsets":[]}'
		echo '{"w":"a"}'
		echo '{"@ds":"batch","seq":5,"time":10000,"interval":2000,"count":1,"offsets":[]}'
		echo '{"@ds":"batch","seq":6,"time":12000,"interval":2000,"count":0,"offsets":[]}'
	} >in.ndjson
	run ds-window -w 6s -s 4s -k w in.ndjson
	[ "$status" -eq 0 ]
	# (-2,4]: a a b   (2,8]: a b b c   (6,12]: b b c a
	[ "$(printf '%s\n' "$output" | nocreated)" = '{"w":"a","count":2}
{"w":"b","count":1}
{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":1,"offsets":[],"window":{"start":-2000,"end":4000}}
{"w":"a","count":1}
{"w":"b","count":2}
{"w":"c","count":1}
{"@ds":"batch","seq":4,"time":8000,"interval":2000,"count":3,"offsets":[],"window":{"start":2000,"end":8000}}
{"w":"a","count":1}
{"w":"b","count":2}
{"w":"c","count":1}
{"@ds":"batch","seq":6,"time":12000,"interval":2000,"count":0,"offsets":[],"window":{"start":6000,"end":12000}}' ]
}

@test "reduceByKeyAndWindow 6 s / 4 s: counts and sums against the model, offsets merged" {
	python3 gen.py 60 6 2 >in.ndjson
	check 6000 4000 -w 6s -s 4s -k user -a count -a sum:bytes
	# a partial first window: it ends at 1004000 and starts before the data
	grep -m1 '"window"' got | grep -q '"start":998000,"end":1004000'
}

@test "inverse and recomputed windows give equal results (table)" {
	python3 gen.py 80 8 3 >in.ndjson
	local ws aggs
	for ws in "6s 4s 6000 4000" "6s 2s 6000 2000" "10s 4s 10000 4000" "4s 4s 4000 4000"; do
		set -- $ws
		for aggs in "-a count" "-a sum:bytes -a n=count" "-a avg:bytes -a sum:lat"; do
			ds-window -w "$1" -s "$2" -k user $aggs --inverse in.ndjson | nocreated >inv
			ds-window -w "$1" -s "$2" -k user $aggs --no-inverse in.ndjson | nocreated >rec
			diff inv rec
			check "$3" "$4" -w "$1" -s "$2" -k user $aggs ||
			    { echo "$ws $aggs"; return 1; }
		done
	done
}

@test "aggregates without an inverse keep per-batch partials (table)" {
	python3 gen.py 50 5 4 >in.ndjson
	local spec
	for spec in "min:bytes" "max:bytes" "first:bytes" "last:app" \
	    "collect:bytes" "distinct:app" "max:lat"; do
		check 6000 4000 -w 6s -s 4s -k user -a "$spec" -a count ||
		    { echo "failed: $spec"; return 1; }
	done
	check 6000 4000 -w 6s -s 4s -k app --top 2:bytes
}

@test "countByWindow and reduceByWindow: one record per window, even an empty one" {
	python3 gen.py 60 3 5 >in.ndjson
	check 6000 4000 -w 6s -s 4s -a count
	check 6000 2000 -w 6s -a count -a sum:bytes -a max:bytes
	# an all-empty window
	printf '%s\n' '{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":0,"offsets":[]}' >in.ndjson
	run ds-window -w 6s -s 4s -a count in.ndjson
	[ "${lines[0]}" = '{"count":0}' ]
}

@test "countByValueAndWindow: -k alone counts" {
	python3 gen.py 40 4 6 >in.ndjson
	check 6000 4000 -w 6s -s 4s -k app
	check 6000 4000 -w 6s -s 4s -k user,app
}

@test "window(): no -a re-emits the records of the window's batches" {
	python3 gen.py 40 4 7 >in.ndjson
	python3 ref.py --raw --window 6000 4000 <in.ndjson >want
	run ds-window -w 6s -s 4s in.ndjson
	[ "$status" -eq 0 ]
	diff want <(printf '%s\n' "$output" | nocreated)
}

@test "plain input: one window, plain results" {
	python3 gen.py 5 3 8 | grep -v '"@ds"' >in.ndjson
	check 6000 4000 -w 6s -s 4s -k user -a sum:bytes
	! grep -q '@ds' got
}

@test "records after the last marker form a final batch" {
	python3 gen.py 7 3 9 6 >in.ndjson
	run ds-window -w 4s -s 2s -k user -a count in.ndjson
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | tail -1 | grep -q '"seq":8,.*"final":true'
}

@test "bad records: default exit 1; --skip-bad counts them in the next window marker" {
	python3 gen.py 4 2 10 >in.ndjson
	sed -i '2s/.*/{"user":"u0","bytes":"many"}/' in.ndjson
	run --separate-stderr ds-window -w 4s -s 4s -k user -a sum:bytes in.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-window: in.ndjson:2: "*"not a number"* ]]
	run --separate-stderr ds-window -w 4s -s 4s -k user -a sum:bytes --skip-bad in.ndjson
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '"window"' | head -1 | grep -q '"bad":1'
	# the other records are counted as if the bad one was not there
	grep -v many in.ndjson >clean
	diff <(ds-window -w 4s -s 4s -k user -a sum:bytes clean | nocreated | grep -v '@ds') \
	    <(printf '%s\n' "$output" | grep -v '@ds')
}

@test "--checkpoint: a restart keeps the window and applies no batch twice (table)" {
	python3 gen.py 30 4 11 >in.ndjson
	local mode cut
	for mode in "-k user -a count -a sum:bytes" "-k user -a max:bytes -a collect:app" "" "-a count"; do
		ds-window -w 6s -s 4s $mode in.ndjson | nocreated >full
		# cut at a marker boundary: the two runs together are the full run
		for cut in 3 10 17; do
			rm -rf ck
			n=$(grep -n '"@ds"' in.ndjson | sed -n "${cut}p" | cut -d: -f1)
			head -n "$n" in.ndjson | ds-window -w 6s -s 4s $mode --checkpoint ck |
			    nocreated | sed -E 's/,"commit":\[[^]]*\]//' >one
			ds-window -w 6s -s 4s $mode --checkpoint ck in.ndjson | nocreated |
			    sed -E 's/,"commit":\[[^]]*\]//' >two
			cat one two | diff full - || { echo "mode '$mode' cut $cut"; return 1; }
		done
		# cut inside a batch: the restart redoes that batch whole
		rm -rf ck
		n=$(grep -n '"@ds"' in.ndjson | sed -n 12p | cut -d: -f1)
		head -n $((n - 2)) in.ndjson | ds-window -w 6s -s 4s $mode --checkpoint ck >/dev/null
		ds-window -w 6s -s 4s $mode --checkpoint ck in.ndjson | nocreated |
		    sed -E 's/,"commit":\[[^]]*\]//' >two
		tail -n "$(wc -l <two)" full | diff - two
	done
}

@test "--checkpoint: markers carry the offsets safe to commit; other options are refused" {
	python3 gen.py 12 3 12 >in.ndjson
	run ds-window -w 6s -s 4s -k user --checkpoint ck in.ndjson
	[ "$status" -eq 0 ]
	# the commit of a window marker covers the batches applied before it
	python3 - "$output" <<'PYEOF'
import json, sys
src = [json.loads(l) for l in open("in.ndjson") if l.startswith('{"@ds"')]
for l in sys.argv[1].splitlines():
    m = json.loads(l)
    if "window" not in m:
        continue
    offs = [o for s in src if s["seq"] < m["seq"] for o in s["offsets"]]
    want = [{"topic": "t", "partition": 0, "from": min(o["from"] for o in offs),
             "until": max(o["until"] for o in offs)}] if offs else []
    assert m["commit"] == want, (m, want)
PYEOF
	run --separate-stderr ds-window -w 6s -s 2s -k user --checkpoint ck in.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"other options"* ]]
}

@test "--checkpoint: an unusable checkpoint exits 1" {
	python3 gen.py 6 3 12 >in.ndjson
	ds-window -w 6s -s 2s -k user --checkpoint ck in.ndjson >/dev/null
	printf 'garbage' >ck/window; printf 'garbage' >ck/window.prev
	run --separate-stderr ds-window -w 6s -s 2s -k user --checkpoint ck in.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ck/window: no usable checkpoint"* ]]
	# intact checksum, but a body that is no window
	printf '{"interval":1000,"origin":0,"spec":"-w6s -s2s -kuser ","offsets":[],"cum":[]}\n[1000,1\n' >body
	python3 -c '
import sys
d = open("body", "rb").read(); h = 0xcbf29ce484222325
for c in d:
    h = ((h ^ c) * 0x100000001b3) % (1 << 64)
sys.stdout.buffer.write(d + b"\n#ds-checkpoint len=%d fnv1a64=%016x\n" % (len(d), h))' >ck/window
	run --separate-stderr ds-window -w 6s -s 2s -k user --checkpoint ck in.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ck/window: malformed checkpoint"* ]]
}

# test/ckpt/window-* hold checkpoints of the first two batches of
# test/ckpt/in.ndjson, written by the ds-window of before the stage-state
# module.
@test "--checkpoint: checkpoints written by earlier versions still load" {
	cp -r "$DS_TOP/test/ckpt/window-agg" ck
	run --separate-stderr ds-window -w 2s -s 1s -k u -a sum:n --checkpoint ck "$DS_TOP/test/ckpt/in.ndjson"
	[ "$status" -eq 0 ]
	# batches 1 and 2 are replays; the window (1000,3000] is batches 2 and 3
	[ "$(printf '%s\n' "$output" | nocreated)" = '{"u":"a","sum_n":3}
{"u":"b","sum_n":4}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":1,"offsets":[{"topic":"t","partition":0,"from":3,"until":4}],"window":{"start":1000,"end":3000},"commit":[{"topic":"t","partition":0,"from":0,"until":3}]}' ]
	cp -r "$DS_TOP/test/ckpt/window-raw" ckr
	run --separate-stderr ds-window -w 2s -s 1s --checkpoint ckr "$DS_TOP/test/ckpt/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -v '^{"@ds"')" = '{"u":"a","n":3}
{"u":"b","n":4}' ]
}

@test "memory stays flat: 100k and 1M records, 100 keys, 10k-record batches" {
	python3 - <<'PYEOF'
import random
r = random.Random(1)
with open("big", "w") as f:
    for b in range(100):
        for i in range(10000):
            f.write('{"user":"u%03d","bytes":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n'
                    % (r.randrange(100), r.randrange(100000)))
        f.write('{"@ds":"batch","seq":%d,"time":%d,"interval":2000,"count":10000,"offsets":[]}\n'
                % (b + 1, 2000 * (b + 1)))
PYEOF
	head -n 100010 big >small
	for f in small big; do
		for inv in --inverse --no-inverse; do
			/usr/bin/time -f %M -o rss.$f$inv ds-window -w 12s -s 4s -k user \
			    -a sum:bytes -a count $inv $f >out.$f$inv
		done
	done
	cmp out.big--inverse out.big--no-inverse
	[ "$(grep -c '"window"' out.big--inverse)" -eq 50 ]
	for inv in --inverse --no-inverse; do
		small=$(tail -1 rss.small$inv) big=$(tail -1 rss.big$inv)
		echo "peak RSS $inv: 100k $small KiB, 1M $big KiB"
		# ASan's quarantine holds freed memory: RSS means nothing there
		sanitized ds-window || [ "$big" -le $((small + 2048)) ]
	done
}

@test "event-time batches from ds-batch -T: 6 s / 4 s window counts (held-back input)" {
	command -v ds-batch >/dev/null || skip "ds-batch not built"
	python3 - <<'PYEOF'
import json, random
r = random.Random(22)
ts, recs = 1732255201234, []
for i in range(3000):
    ts += r.choice([0, 1, 3, 40, 400, 2500, 7000])   # gaps: empty batches
    recs.append({"ts": ts, "word": r.choice("the a cat sat on mat dog".split())})
with open("words.ndjson", "w") as f:
    for d in recs:
        f.write(json.dumps(d) + "\n")
# the model: record -> batch ending at (ts//2000+1)*2000; windows end at
# multiples of 4000 and cover (T-6000, T]; keys sorted
first = (recs[0]["ts"] // 2000 + 1) * 2000
last = (recs[-1]["ts"] // 2000 + 1) * 2000
def window(f, T, mtime):
    counts = {}
    for d in recs:
        b = (d["ts"] // 2000 + 1) * 2000
        if T - 6000 < b <= T:
            counts[d["word"]] = counts.get(d["word"], 0) + 1
    for w in sorted(counts):
        f.write(json.dumps({"word": w, "count": counts[w]}, separators=(",", ":")) + "\n")
    f.write("M %d %d %d\n" % (mtime, T - 6000, T))
with open("want", "w") as f:
    for T in range(first, last + 1, 2000):
        if T % 4000 == 0:
            window(f, T, T)
    # end of input off the 4 s grid flushes the window ending at the
    # next multiple of 4000; its marker is the last batch's
    if last % 4000:
        window(f, last + 2000, last)
PYEOF
	ds-batch -T ts -i 2s words.ndjson | ds-window -w 6s -s 4s -k word >out
	python3 -c '
import json, sys
for l in open("out"):
    d = json.loads(l)
    if "@ds" in d:
        print("M %d %d %d" % (d["time"], d["window"]["start"], d["window"]["end"]))
    else:
        print(l.rstrip("\n"))' >got
	diff want got
	ds-batch -T ts -i 2s words.ndjson | ds-window -w 6s -s 4s -k word --no-inverse |
	    nocreated | cmp - <(nocreated <out)
}

# The tests below follow Spark's documented window semantics, worked out
# by hand in each test: a window of length W sliding S is computed at the
# batch times zeroTime + k*S and covers the batches with time in (T-W, T];
# zeroTime is one batch interval before the first batch.

@test "end of event-time input: the last batches reach a window (issue 15 repro)" {
	# 1 s batches at 1000..5000 hold v=0..4; 4 s windows sliding 2 s end
	# at 2000: (-2000,2000] = 0,1; 4000: (0,4000] = 0..3; end of input
	# after the batch at 5000 flushes the window ending at the next
	# slide boundary, 6000: (2000,6000] = 2,3,4
	run --separate-stderr bash -c 'for i in 0 1 2 3 4; do
	    echo "{\"t\":$((i*1000+500)),\"v\":$i}"; done |
	    ds-batch -T t -i 1s | ds-window -w 4s -s 2s -a collect:v'
	expect 0 '{"collect_v":[0,1]}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[],"window":{"start":-2000,"end":2000}}
{"collect_v":[0,1,2,3]}
{"@ds":"batch","seq":4,"time":4000,"interval":1000,"count":1,"offsets":[],"window":{"start":0,"end":4000}}
{"collect_v":[2,3,4]}
{"@ds":"batch","seq":5,"time":5000,"interval":1000,"count":1,"offsets":[],"window":{"start":2000,"end":6000}}'
}

@test "end of input after a plain (not final) marker flushes; with --checkpoint the restart does" {
	local in='{"v":1}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1}\n'
	# (-1000,2000] holds the batch at 1000
	dsrun "$in" ds-window -w 2s -s 2s -a collect:v
	expect 0 '{"collect_v":[1]}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[],"window":{"start":0,"end":2000}}'
	# checkpointed: no window yet; the restart writes it whole
	dsrun "$in" ds-window -w 2s -s 2s -a collect:v --checkpoint ck
	expect 0 ''
	dsrun '{"v":2}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1}\n' \
	    ds-window -w 2s -s 2s -a collect:v --checkpoint ck
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"collect_v":[1,2]}' ]
}

@test "slide longer than the window: Spark's non-overlapping window" {
	# window(2s, 3s) over 1 s batches at 1000..7000 holding v=1..7:
	# windows at 3000: (1000,3000] = 2,3; 6000: (4000,6000] = 5,6;
	# batches 1000 and 4000 fall in no window, as in Spark.  The batch
	# at 7000 is off the grid: end of input flushes the window ending at
	# 9000, (7000,9000], which is empty
	run --separate-stderr bash -c 'for i in 1 2 3 4 5 6 7; do
	    echo "{\"t\":$((i*1000-500)),\"v\":$i}"; done |
	    ds-batch -T t -i 1s | ds-window -w 2s -s 3s'
	expect 0 '{"t":1500,"v":2}
{"t":2500,"v":3}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":1,"offsets":[],"window":{"start":1000,"end":3000}}
{"t":4500,"v":5}
{"t":5500,"v":6}
{"@ds":"batch","seq":6,"time":6000,"interval":1000,"count":1,"offsets":[],"window":{"start":4000,"end":6000}}
{"@ds":"batch","seq":7,"time":7000,"interval":1000,"count":1,"offsets":[],"window":{"start":7000,"end":9000}}'
	# reduceByKeyAndWindow the same way, with and without the inverse
	local inv
	for inv in --inverse --no-inverse; do
		run --separate-stderr bash -c 'for i in 1 2 3 4 5 6; do
		    echo "{\"t\":$((i*1000-500)),\"k\":\"a\"}"; done |
		    ds-batch -T t -i 1s | ds-window -w 2s -s 3s -k k -a count '$inv' |
		    grep -v "@ds"'
		expect 0 '{"k":"a","count":2}
{"k":"a","count":2}'
	done
}

@test "--origin: windows aligned to Spark's zero time instead of the epoch" {
	# 1 s batches at 2000..6000 hold v=1..5, windows of 2 s sliding 2 s.
	# Spark started one interval before the first batch, zeroTime 1000:
	# windows at 3000: (1000,3000] = 1,2; 5000: (3000,5000] = 3,4; end
	# of input flushes 7000: (5000,7000] = 5.
	local gen='for i in 1 2 3 4 5; do echo "{\"t\":$((i*1000+500)),\"v\":$i}"; done'
	local o
	for o in first 1000 -1000; do
		run --separate-stderr bash -c "$gen"' | ds-batch -T t -i 1s |
		    ds-window -w 2s -s 2s -a collect:v --origin '$o' | grep -v @ds'
		expect 0 '{"collect_v":[1,2]}
{"collect_v":[3,4]}
{"collect_v":[5]}' || { echo "--origin $o"; return 1; }
	done
	# the default, epoch aligned: windows at 2000: (0,2000] = 1;
	# 4000: (2000,4000] = 2,3; 6000: (4000,6000] = 4,5
	run --separate-stderr bash -c "$gen"' | ds-batch -T t -i 1s |
	    ds-window -w 2s -s 2s -a collect:v | grep -v @ds'
	expect 0 '{"collect_v":[1]}
{"collect_v":[2,3]}
{"collect_v":[4,5]}'
	# an origin off the batch grid is a usage error
	run --separate-stderr bash -c "$gen"' | ds-batch -T t -i 1s |
	    ds-window -w 2s -s 2s --origin 500'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--origin 500 is not on the grid"* ]]
	# --origin first is found once and kept in the checkpoint: the
	# restart's first batch (3000) does not move it from 1000
	dsrun '{"v":1}\n{"@ds":"batch","seq":1,"time":2000,"interval":1000,"count":1}\n' \
	    ds-window -w 2s -s 2s -a collect:v --origin first --checkpoint ck
	expect 0 ''
	dsrun '{"v":2}\n{"@ds":"batch","seq":2,"time":3000,"interval":1000,"count":1}\n' \
	    ds-window -w 2s -s 2s -a collect:v --origin first --checkpoint ck
	expect 0 '{"collect_v":[1,2]}
{"@ds":"batch","seq":2,"time":3000,"interval":1000,"count":1,"offsets":[],"window":{"start":1000,"end":3000},"commit":[]}'
}

@test "end of input: a final batch off the slide grid flushes its window" {
	# by hand: batches at 4000 (a) and 6000 (b, final); 6 s / 4 s
	# windows end at 4000 -> (-2000,4000]: a; the final batch flushes
	# the window ending at 8000 -> (2000,8000]: a, b
	dsrun '{"w":"a"}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":1}\n{"w":"b"}\n{"@ds":"batch","seq":2,"time":6000,"interval":2000,"count":1,"final":true}\n' \
	    ds-window -w 6s -s 4s -k w -a count
	expect 0 '{"w":"a","count":1}
{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":1,"offsets":[],"window":{"start":-2000,"end":4000}}
{"w":"a","count":1}
{"w":"b","count":1}
{"@ds":"batch","seq":2,"time":6000,"interval":2000,"count":1,"final":true,"offsets":[],"window":{"start":2000,"end":8000}}'
}

@test "ds-window --checkpoint: a new stream (seq from 1, later times) is applied; a replay is not" {
	# by hand, 2 s windows sliding 2 s over 2 s batches: run 1 a=1;
	# run 2 restarts seq at 1 with a later time: applied, a=1 in its own
	# window; run 3 replays run 2's batch: skipped, nothing emitted
	dsrun '{"w":"a"}\n{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":1}\n' \
	    ds-window -w 2s -s 2s -k w -a count --checkpoint ck
	[ "$status" -eq 0 ]
	[ "$(head -1 <<<"$output")" = '{"w":"a","count":1}' ]
	dsrun '{"w":"a"}\n{"w":"a"}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":2}\n' \
	    ds-window -w 2s -s 2s -k w -a count --checkpoint ck
	[ "$status" -eq 0 ]
	[ "$(head -1 <<<"$output")" = '{"w":"a","count":2}' ]
	dsrun '{"w":"a"}\n{"w":"a"}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":2}\n' \
	    ds-window -w 2s -s 2s -k w -a count --checkpoint ck
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "ds-window --changelog: usage errors; a record of a partition not assigned here is a bad record" {
	run -2 --separate-stderr ds-window -w 2s --changelog cl -b 127.0.0.1:1
	[[ "$stderr" == *"--changelog needs -k or -a and -b BROKERS"* ]]
	run -2 --separate-stderr ds-window -w 2s -k user --changelog cl
	[[ "$stderr" == *"--changelog needs -k or -a and -b BROKERS"* ]]
	run -2 --separate-stderr ds-window -w 2s -k user --changelog cl -b 127.0.0.1:1 --checkpoint ck
	[[ "$stderr" == *"takes no --checkpoint"* ]]
	# the partition field leads the key: it cannot be a key field too
	run -2 --separate-stderr ds-window -w 2s -k partition,user --changelog cl -b 127.0.0.1:1
	[[ "$stderr" == *"-k: key field 'partition' repeats 'partition'"* ]]
	# an empty assignment reads no changelog: nothing is owned
	printf '%s\n' '{"@ds":"assign","offsets":[]}' '{"partition":3,"user":"a"}' \
	    '{"user":"b"}' \
	    '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}' >in
	run -1 --separate-stderr ds-window -w 2s -k user --changelog cl -b 127.0.0.1:1 in
	[[ "$stderr" == *"ds-window: in:2: a record of a source partition not assigned to this member, or without \"partition\""* ]]
	run -0 --separate-stderr ds-window -w 2s -k user --changelog cl -b 127.0.0.1:1 --skip-bad in
	[ "$(printf '%s\n' "$stderr" | grep -c 'not assigned to this member')" -eq 2 ]
	# every marker is written, committing its own offsets
	[ "${lines[0]}" = '{"@ds":"assign","offsets":[]}' ]
	[ "$(printf '%s\n' "$output" | tail -1 | jq -c '[.bad, .commit, .window.end]')" = '[2,[],1000]' ]
}
