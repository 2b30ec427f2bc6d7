#!/usr/bin/env bats
# ds-window: windows on the batch grid.  Expected outputs come from
# ref.py below, an independent Python model of ds-reduce(1) and
# ds-window(1) (windows recomputed from the raw records), or are worked
# out by hand in the test -- never from the tool itself.

bats_require_minimum_version 1.5.0
load helper

mkref() {
	cat >"$T/ref.py" <<'PYEOF'
# ref.py [--window LEN SLIDE] [-k K1,K2] AGG... < stream: an independent
# Python model of ds-reduce(1) / ds-window(1) output (markers without
# "created").  AGG as on the command line: [NAME=]count|sum:F|...|top:N:F
import json, sys, math

def fnum(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if x == math.floor(x) and abs(x) < 1e17:
        return str(int(x))
    return repr(x)

def dump(v):
    if v is None: return "null"
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, (int, float)): return fnum(v)
    if isinstance(v, str): return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list): return "[" + ",".join(dump(x) for x in v) + "]"
    if isinstance(v, Raw): return v.t
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dump(x)
                          for k, x in v.items()) + "}"

class Raw:
    def __init__(self, t): self.t = t

def canon(v):
    if isinstance(v, float) and v.is_integer() and abs(v) < 9.2e18:
        v = int(v)
    return dump(v)

MISSING = object()
def get(rec, path):
    cur = rec
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return MISSING
        cur = cur[k]
    return cur

args = sys.argv[1:]
window = None
raw = False
keys = []
aggs = []
while args:
    a = args.pop(0)
    if a == "--raw":
        raw = True
    elif a == "--window":
        window = (int(args.pop(0)), int(args.pop(0)))
    elif a == "-k":
        keys = [k.split(".") for k in args.pop(0).split(",")]
    else:
        name = None
        if "=" in a.split(":")[0]:
            name, a = a.split("=", 1)
        parts = a.split(":")
        op = parts[0]
        n = int(parts[1]) if op == "top" else None
        f = parts[-1].split(".") if len(parts) > 1 else None
        if name is None:
            name = op + ("_" + "_".join(f) if f else "")
        aggs.append((name, op, f, n))
if not aggs:
    aggs = [("count", "count", None, None)]

def isnum(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)

def reduce(recs):
    """recs: list of (raw text, parsed). Returns [(keytext, keyvals, out)]."""
    groups = {}
    for raw, r in recs:
        kv = [get(r, k) for k in keys]
        kv = [None if v is MISSING else v for v in kv]
        kt = ",".join(canon(v) for v in kv)
        g = groups.setdefault(kt, (kv, []))
        g[1].append((raw, r))
    if not keys and not groups:
        groups[""] = ([], [])
    res = []
    for kt, (kv, rs) in groups.items():
        out = {}
        for k, v in zip(keys, kv):
            d = out
            for c in k[:-1]:
                d = d.setdefault(c, {})
            d[k[-1]] = v
        for name, op, f, n in aggs:
            vals = [get(r, f) for _, r in rs] if f else []
            pres = [v for v in vals if v is not MISSING]
            nums = [v for v in pres if v is not None]
            if op == "count": out[name] = len(rs)
            elif op == "sum":
                if not nums: out[name] = None
                else:
                    s = sum(nums)
                    if all(isinstance(x, int) for x in nums) and -2**63 <= s < 2**63:
                        # exact unless some prefix overflowed
                        acc, ovf = 0, False
                        for x in nums:
                            acc += x
                            if not -2**63 <= acc < 2**63: ovf = True
                        out[name] = float(s) if ovf else s
                    else:
                        out[name] = float(s)
            elif op == "avg": out[name] = (sum(nums) / len(nums)) if nums else None
            elif op == "min": out[name] = min(nums) if nums else None
            elif op == "max": out[name] = max(nums) if nums else None
            elif op == "first": out[name] = pres[0] if pres else None
            elif op == "last": out[name] = pres[-1] if pres else None
            elif op == "collect": out[name] = pres
            elif op == "distinct": out[name] = len(set(canon(v) for v in pres))
            elif op == "top":
                cand = [(get(r, f), i, raw) for i, (raw, r) in enumerate(rs)
                        if get(r, f) not in (MISSING, None)]
                cand.sort(key=lambda c: (-c[0], c[1]))
                out[name] = [Raw(c[2]) for c in cand[:n]]
        res.append((kt.encode(), out))
    return res

def mdump(m):
    return json.dumps(m, separators=(",", ":"))

batches = []   # (marker or None, records)
cur = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith('{"@ds":'):
        batches.append((json.loads(line), cur))
        cur = []
    else:
        cur.append((line, json.loads(line)))
if batches and cur:
    batches.append(("final", cur))

out = []
if window is None:
    if not batches:
        for _, o in reduce(cur): out.append(dump(o))
    for m, recs in batches:
        for _, o in reduce(recs): out.append(dump(o))
        out.append("FINAL" if m == "final" else mdump(m))
else:
    L, S = window
    if not batches:
        if raw:
            out.extend(r for r, _ in cur)
        else:
            res = reduce(cur)
            res.sort(key=lambda x: x[0])
            for _, o in res: out.append(dump(o))
    held = []
    pend = {}
    for m, recs in batches:
        t = m["time"]
        for o in m.get("offsets", []):
            k = (o["topic"], o["partition"])
            lo, hi = pend.get(k, (o["from"], o["until"]))
            pend[k] = (min(lo, o["from"]), max(hi, o["until"]))
        held.append((t, recs))
        held = [(bt, r) for bt, r in held if bt > t - L]
        if t % S == 0:
            if raw:
                for _, r in held:
                    for raw, _ in r: out.append(raw)
            else:
                res = reduce([x for _, r in held for x in r])
                res.sort(key=lambda x: x[0])
                for _, o in res: out.append(dump(o))
            m = dict(m)
            m["offsets"] = [{"topic": k[0], "partition": k[1], "from": v[0],
                             "until": v[1]} for k, v in sorted(pend.items())]
            pend = {}
            m["window"] = {"start": t - L, "end": t}
            out.append(mdump(m))
print("\n".join(out))
PYEOF
}

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
	for bad in "" "-s 2s" "-w x" "-w 0" "-w 4s -s 6s" "-w 6s -a bogus" \
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
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"other options"* ]]
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
with open("want", "w") as f:
    for T in range(first, last + 1, 2000):
        if T % 4000:
            continue
        counts = {}
        for d in recs:
            b = (d["ts"] // 2000 + 1) * 2000
            if T - 6000 < b <= T:
                counts[d["word"]] = counts.get(d["word"], 0) + 1
        for w in sorted(counts):
            f.write(json.dumps({"word": w, "count": counts[w]}, separators=(",", ":")) + "\n")
        f.write("M %d %d %d\n" % (T, T - 6000, T))
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
	[ "$status" -eq 0 ] && [ "$(head -1 <<<"$output")" = '{"w":"a","count":1}' ]
	dsrun '{"w":"a"}\n{"w":"a"}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":2}\n' \
	    ds-window -w 2s -s 2s -k w -a count --checkpoint ck
	[ "$status" -eq 0 ] && [ "$(head -1 <<<"$output")" = '{"w":"a","count":2}' ]
	dsrun '{"w":"a"}\n{"w":"a"}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":2}\n' \
	    ds-window -w 2s -s 2s -k w -a count --checkpoint ck
	[ "$status" -eq 0 ] && [ -z "$output" ]
}
