#!/usr/bin/env bats
# ds-state: running state across batches, TTL, init, -e updates,
# checkpoints and recovery.  Expected values come from ref.py below, an
# independent Python model of the state semantics of ds-state(1), never
# from the tool's own output.

bats_require_minimum_version 1.5.0
load helper

# gen.py NBATCH NKEYS SEED [TAIL]: a batch stream of access records with
# hand-made markers (1s batches on the event-time grid, offsets of one
# partition, some empty batches, TAIL trailing records after the last
# marker).
mkgen() {
	cat >"$T/gen.py" <<'EOF'
import json, random, sys
nb, nk, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tail = int(sys.argv[4]) if len(sys.argv) > 4 else 0
r = random.Random(seed)
off = 0
for b in range(1, nb + 1):
    n = 0 if r.random() < 0.15 else r.randint(1, 40)
    lo = off
    for i in range(n):
        print(json.dumps({"user": "u%d" % r.randrange(nk),
                          "bytes": r.randint(0, 5000)}))
        off += 1
    offs = [{"topic": "t", "partition": 0, "from": lo, "until": off}] if n else []
    print(json.dumps({"@ds": "batch", "seq": b, "time": 1000 * (b + 1000),
                      "interval": 1000, "count": n, "offsets": offs},
                     separators=(",", ":")))
for i in range(tail):
    print(json.dumps({"user": "u%d" % r.randrange(nk), "bytes": r.randint(0, 9)}))
EOF
}

# ref.py MODE TTL_MS < stream: the expected output of
# ds-state -k user -a sum:bytes -a count, in canonical form (canon.py).
mkref() {
	cat >"$T/ref.py" <<'EOF'
import json, sys
mode, ttl = sys.argv[1], int(sys.argv[2])
state, order, batch, out = {}, [], [], []
last_marker, nmark = None, 0
def rec(k, v, to=False):
    d = {"user": k, "sum_bytes": v[0], "count": v[1]}
    if to:
        d["timedOut"] = True
    return json.dumps(d, sort_keys=True)
def close(seq, t):
    lines, part = [], {}
    for r in batch:
        p = part.setdefault(r["user"], [0, 0])
        p[0] += r["bytes"]; p[1] += 1
    for k, p in part.items():
        s = state.setdefault(k, [0, 0, t])
        s[0] += p[0]; s[1] += p[1]; s[2] = t
        if mode == "changed":
            lines.append(rec(k, s))
    if ttl > 0 and t is not None:
        for k in [k for k, s in state.items() if t - s[2] > ttl]:
            lines.append(rec(k, state.pop(k), True))
    if mode != "changed":
        lines += [rec(k, s) for k, s in state.items()]
    out.extend(sorted(lines))
    if seq is not None:
        out.append("MARK %d" % seq)
    batch.clear()
for line in sys.stdin:
    o = json.loads(line)
    if isinstance(o, dict) and "@ds" in o:
        last_marker = o; nmark += 1
        close(o["seq"], o["time"])
    else:
        batch.append(o)
if nmark == 0:
    close(None, None)
elif batch:
    close(last_marker["seq"] + 1, last_marker["time"] + last_marker["interval"])
print("\n".join(out))
EOF
	cat >"$T/canon.py" <<'EOF'
import json, sys
batch, out = [], []
for line in sys.stdin:
    o = json.loads(line)
    if isinstance(o, dict) and "@ds" in o:
        out.extend(sorted(batch)); batch = []
        out.append("MARK %d" % o["seq"])
    else:
        batch.append(json.dumps(o, sort_keys=True))
out.extend(sorted(batch))
print("\n".join(out))
EOF
}

# The last batch of a canonical output: the data lines before the last MARK.
lastbatch() {
	awk '/^MARK/ { m = n; for (i = 0; i < n; i++) l[i] = b[i]; n = 0; next }
	    { b[n++] = $0 }
	    END { for (i = 0; i < m; i++) print l[i] }' "$1"
}

marker() {	# marker SEQ TIME [OFFSETS_JSON [EXTRA]]
	printf '{"@ds":"batch","seq":%s,"time":%s,"interval":1000,"count":0,"offsets":%s%s}\n' \
	    "$1" "$2" "${3:-[]}" "${4:-}"
}

@test "ds-state: -h prints the usage on stdout and exits 0" {
	run ds-state -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ds-state [-hV] [-k FIELD[,FIELD...]] -a [NAME=]AGG ... "* ]]
	[[ "${lines[5]}" == "       ds-state [-k FIELD[,FIELD...]] -e EXPR "* ]]
	[[ "${lines[6]}" == *'$__batch'* ]]
	# every option of the man page's SYNOPSIS is in the usage
	for o in $(grep -oE '^\.(Op )?Fl -?[a-z-]+' "$DS_TOP/man/ds-state.1" |
	    sed -E 's/.*Fl //'); do
		[[ "$output" == *"-$o"* ]] || { echo "missing -$o"; return 1; }
	done
}

@test "ds-state: usage errors exit 2 with the usage on stderr" {
	for args in "-k user" "-k user -a sum:bytes -e ." "-k user -a nope:x" \
	    "-k user -a count --emit some" "-k user -a count --ttl x" \
	    "-k user -a count --checkpoint-every 0" "-k user -a count --bogus"; do
		run --separate-stderr ds-state $args </dev/null
		[ "$status" -eq 2 ] || { echo "args: $args: $status"; return 1; }
		[[ "$stderr" == *"usage: ds-state"* ]] || { echo "args: $args"; return 1; }
	done
	# a bad -k is named as in every keyed tool (protocol.bats)
	run --separate-stderr ds-state -k , -a count </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "ds-state: -k ,: bad field list" ]
}

@test "ds-state: -k fields that repeat or contain one another are usage errors, as in ds-reduce" {
	for k in geo,geo.city geo.city,geo user,user; do
		run --separate-stderr ds-state -k "$k" -a count </dev/null
		[ "$status" -eq 2 ] || { echo "-k $k: $status"; return 1; }
		[[ "$stderr" == "ds-state: -k: key field "* ]] || { echo "-k $k: $stderr"; return 1; }
	done
}

@test "ds-state: an aggregate named like a key field is a usage error, as in ds-reduce" {
	run --separate-stderr ds-state -k count -a count </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"aggregate name 'count' is also a key field"* ]]
	dsrun '{"count":"x"}\n' ds-state -k count -a n=count
	expect 0 '{"count":"x","n":1}'
}

@test "ds-state: -V prints the version" {
	run ds-state -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ds-state "* ]]
}

@test "ds-state: plain input is one batch with plain output" {
	mkgen; mkref
	python3 gen.py 1 5 7 | grep -v '"@ds"' >in.ndjson
	python3 ref.py changed 0 <in.ndjson >want
	ds-state -k user -a sum:bytes -a count <in.ndjson >raw
	! grep -q '"@ds"' raw
	python3 canon.py <raw >got
	diff want got
}

@test "ds-state: --emit all gives the running totals of every key after every batch" {
	mkgen; mkref
	python3 gen.py 40 12 1 5 >in.ndjson
	python3 ref.py all 0 <in.ndjson >want
	ds-state -k user -a sum:bytes -a count --emit all <in.ndjson | python3 canon.py >got
	diff want got
	[ "$(grep -c MARK got)" -eq 41 ]	# 40 batches and the final one
}

@test "ds-state: --emit changed (default) gives only the keys with data, with running totals" {
	mkgen; mkref
	python3 gen.py 40 12 2 >in.ndjson
	python3 ref.py changed 0 <in.ndjson >want
	ds-state -k user -a sum:bytes -a count <in.ndjson | python3 canon.py >got
	diff want got
	ds-state -k user -a sum:bytes -a count --emit changed <in.ndjson | python3 canon.py >got2
	diff want got2
}

@test "ds-state: --snapshot writes the whole state after every batch" {
	mkgen; mkref
	python3 gen.py 30 8 3 >in.ndjson
	python3 ref.py all 0 <in.ndjson >want
	ds-state -k user -a sum:bytes -a count --snapshot <in.ndjson | python3 canon.py >got
	diff want got
}

@test "ds-state: --ttl expires idle keys on event-time batches, flagged timedOut, once" {
	mkgen; mkref
	python3 gen.py 60 30 4 >in.ndjson
	for mode in changed all; do
		python3 ref.py $mode 2500 <in.ndjson >want
		ds-state -k user -a sum:bytes -a count --emit $mode --ttl 2500ms \
		    <in.ndjson | python3 canon.py >got
		diff want got
	done
	grep -q timedOut got
}

@test "ds-state: --ttl by hand: idle for more than the TTL in batch time" {
	{
		echo '{"user":"a","bytes":1}'
		marker 1 10000
		echo '{"user":"b","bytes":2}'
		marker 2 11000
		marker 3 12000
		echo '{"user":"a","bytes":5}'
		marker 4 13000
	} >in.ndjson
	# a: last data at 10000; at 12000 it has been idle 2000 > 1500: out
	run ds-state -k user -a sum:bytes --ttl 1500ms <in.ndjson
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"user":"a","sum_bytes":1}' ]
	[ "${lines[2]}" = '{"user":"b","sum_bytes":2}' ]
	[ "${lines[4]}" = '{"user":"a","sum_bytes":1,"timedOut":true}' ]
	[[ "${lines[5]}" == '{"@ds":"batch","seq":3,'* ]]
	[ "${lines[6]}" = '{"user":"a","sum_bytes":5}' ]
	[ "${lines[7]}" = '{"user":"b","sum_bytes":2,"timedOut":true}' ]
	[ "${#lines[@]}" -eq 9 ]
}

@test "ds-state: --init folds input-shaped records into the initial state (-a)" {
	printf '{"user":"a","bytes":100}\n{"user":"c","bytes":7}\n' >init.ndjson
	dsrun '{"user":"a","bytes":1}\n{"user":"b","bytes":2}\n' \
	    ds-state -k user -a sum:bytes --emit all --init init.ndjson
	[ "$status" -eq 0 ]
	got=$(printf '%s\n' "$output" | sort)
	[ "$got" = "$(printf '%s\n' '{"user":"a","sum_bytes":101}' \
	    '{"user":"b","sum_bytes":2}' '{"user":"c","sum_bytes":7}' | sort)" ]
}

@test "ds-state: --init keys time out TTL after the first batch" {
	printf '{"user":"z","bytes":5}\n' >init.ndjson
	{ marker 1 1000; marker 2 2000; marker 3 3000; } >in.ndjson
	run ds-state -k user -a sum:bytes --init init.ndjson --ttl 1s <in.ndjson
	[ "${lines[2]}" = '{"user":"z","sum_bytes":5,"timedOut":true}' ]
	[[ "${lines[3]}" == '{"@ds":"batch","seq":3,'* ]]
}

@test "ds-state: a key of several fields, and no key (one global state)" {
	dsrun '{"u":"a","app":"x","n":1}\n{"u":"a","app":"y","n":2}\n{"u":"a","app":"x","n":3}\n' \
	    ds-state -k u,app -a sum:n
	expect 0 '{"u":"a","app":"x","sum_n":4}
{"u":"a","app":"y","sum_n":2}'
	dsrun '{"n":1}\n{"n":2}\n' ds-state -a sum:n -a count
	expect 0 '{"sum_n":3,"count":2}'
}

@test "ds-state: bad records fail by default, --skip-bad counts them in the marker" {
	dsrun '{"user":"a","bytes":1}\nnot json\n' ds-state -k user -a sum:bytes
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-state: <stdin>:2:"* ]]
	dsrun '{"user":"a","bytes":1}\n{"user":"a","bytes":"x"}\n[1]\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[]}\n' \
	    ds-state -k user -a sum:bytes --skip-bad
	expect 0 '{"user":"a","sum_bytes":1}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[],"commit":[],"bad":2}'
}

@test "ds-state: markers carry the offsets of the last checkpointed batch as commit" {
	o1='[{"topic":"t","partition":0,"from":0,"until":1}]'
	o2='[{"topic":"t","partition":0,"from":1,"until":2}]'
	o3='[{"topic":"t","partition":0,"from":2,"until":3}]'
	{
		echo '{"user":"a","bytes":1}'; marker 1 1000 "$o1"
		echo '{"user":"a","bytes":1}'; marker 2 2000 "$o2"
		echo '{"user":"a","bytes":1}'; marker 3 3000 "$o3"
	} >in.ndjson
	run ds-state -k user -a count <in.ndjson
	# no checkpoint: nothing is safe to commit
	[ "$(printf '%s\n' "$output" | grep -c '"commit":\[\]')" -eq 3 ]
	ds-state -k user -a count --checkpoint ck <in.ndjson |
	    grep '"@ds"' | sed -E 's/.*"commit":\[\{[^]]*"until":([0-9]+)\}\].*/\1/' >got
	[ "$(tr '\n' ' ' <got)" = "1 2 3 " ]
	rm -rf ck
	ds-state -k user -a count --checkpoint ck --checkpoint-every 2 <in.ndjson |
	    grep '"@ds"' | sed -E 's/.*"commit":\[(\{[^]]*"until":([0-9]+)\})?\].*/<\2>/' >got
	[ "$(tr '\n' ' ' <got)" = "<> <2> <2> " ]
	# an upstream commit lower than ours wins
	rm -rf ck
	{ echo '{"user":"a","bytes":1}'
	  marker 1 1000 "$o1"
	  echo '{"user":"a","bytes":1}'
	  marker 2 2000 "$o2" ',"commit":[{"topic":"t","partition":0,"from":0,"until":1}]'
	} | ds-state -k user -a count --checkpoint ck | tail -1 >got
	grep -q '"commit":\[{"topic":"t","partition":0,"from":0,"until":1}\]' got
}

@test "ds-state: a restart skips the batches its checkpoint holds and re-emits absolute values" {
	mkgen; mkref
	python3 gen.py 30 6 5 >in.ndjson
	python3 ref.py changed 0 <in.ndjson >want
	head -n "$(grep -n '"seq":12,' in.ndjson | cut -d: -f1)" in.ndjson >first
	ds-state -k user -a sum:bytes -a count --checkpoint ck <first >/dev/null
	run --separate-stderr ds-state -k user -a sum:bytes -a count --checkpoint ck <in.ndjson
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"not applied again"* ]]
	printf '%s\n' "$output" >raw
	# batches 13.. equal the uninterrupted run; the replayed ones show
	# the state as of batch 12 for the keys they touch
	python3 canon.py <raw | sed -n "/^MARK 12\$/,\$p" >got
	sed -n "/^MARK 12\$/,\$p" want >want13
	diff want13 got
	ds-state -k user -a sum:bytes -a count --emit all <in.ndjson | python3 canon.py >full
	python3 ref.py all 0 <in.ndjson >wantall
	diff wantall full
}

@test "ds-state: plain input with --checkpoint accumulates across runs" {
	printf '{"user":"a","bytes":1}\n' >d1
	printf '{"user":"a","bytes":2}\n{"user":"b","bytes":3}\n' >d2
	ds-state -k user -a sum:bytes --checkpoint ck <d1 >/dev/null
	run ds-state -k user -a sum:bytes --checkpoint ck --emit all d2
	[ "$output" = '{"user":"a","sum_bytes":3}
{"user":"b","sum_bytes":3}' ]
}

@test "ds-state: a checkpoint written with other aggregates is refused" {
	printf '{"user":"a","bytes":1}\n' | ds-state -k user -a sum:bytes --checkpoint ck >/dev/null
	run --separate-stderr ds-state -k user -a count --checkpoint ck </dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-state: ck/state: "* ]]
}

@test "ds-state: a corrupt checkpoint is reported and the previous one is used" {
	mkgen; mkref
	python3 gen.py 20 5 6 >in.ndjson
	python3 ref.py all 0 <in.ndjson >want
	head -n "$(grep -n '"seq":10,' in.ndjson | cut -d: -f1)" in.ndjson >first
	ds-state -k user -a sum:bytes -a count --checkpoint ck <first >/dev/null
	[ -f ck/state.prev ]
	# flip one byte in the middle of the latest checkpoint
	python3 -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
i = len(b) // 2; b[i] ^= 0x01
open(p, "wb").write(bytes(b))' ck/state
	run --separate-stderr ds-state -k user -a sum:bytes -a count --emit all --checkpoint ck <in.ndjson
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"ck/state: checkpoint is corrupt or truncated, trying the previous one"* ]]
	# .prev holds batch 9: batch 10 is applied again, once
	printf '%s\n' "$output" | python3 canon.py >got
	diff <(sed -n '/^MARK 9$/,$p' want) <(sed -n '/^MARK 9$/,$p' got)
	# both copies corrupt: refuse to start from nothing
	printf 'garbage' >ck/state; printf 'garbage' >ck/state.prev
	run --separate-stderr ds-state -k user -a sum:bytes -a count --checkpoint ck <in.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no usable checkpoint"* ]]
}

@test "ds-state: a truncated checkpoint falls back to the previous one" {
	mkgen; mkref
	python3 gen.py 10 5 8 >in.ndjson
	ds-state -k user -a sum:bytes -a count --checkpoint ck <in.ndjson >/dev/null
	truncate -s -20 ck/state
	run --separate-stderr ds-state -k user -a sum:bytes -a count --checkpoint ck --stats </dev/null
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"corrupt or truncated"* ]]
}

@test "ds-state: --stats reports the checkpoint time of every batch" {
	{ marker 1 1000; marker 2 2000; } >in.ndjson
	run --separate-stderr ds-state -k user -a count --checkpoint ck --stats <in.ndjson
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -cE '^ds-state: batch [12]: .*checkpoint [0-9.]+ ms \([0-9]+ bytes, (snapshot|delta)\)$')" -eq 2 ]
}

@test "ds-state: kill -9 at random points, restarted 20 times: final state equals an uninterrupted run" {
	mkgen; mkref
	python3 gen.py 400 50 9 >in.ndjson
	python3 ref.py all 3000 <in.ndjson >want
	lastbatch want >want.last
	ds-state -k user -a sum:bytes -a count --emit all --ttl 3s <in.ndjson |
	    python3 canon.py >clean
	lastbatch clean >clean.last
	diff want.last clean.last
	# kill after a twentieth of a whole checkpointed run on average,
	# so that most of the 20 runs die somewhere in the middle
	t0=$(date +%s%N)
	ds-state -k user -a count --checkpoint ck0 --checkpoint-every 2 \
	    <in.ndjson >/dev/null
	full=$(( ($(date +%s%N) - t0) / 1000000 ))
	killed=0
	for i in $(seq 20); do
		d=$(python3 -c "import random; print('%.3f' % random.uniform(0.005, max($full, 100) / 10000))")
		st=0
		timeout -s KILL "$d" ds-state -k user -a sum:bytes -a count \
		    --emit all --ttl 3s --checkpoint ck --checkpoint-every 2 <in.ndjson \
		    >out.$i 2>/dev/null || st=$?
		[ "$st" -eq 0 ] || [ "$st" -eq 137 ] || { echo "run $i: $st"; return 1; }
		[ "$st" -eq 0 ] || killed=$((killed + 1))
	done
	echo "# killed $killed of 20 runs (a whole run: $full ms)" >&3
	[ "$killed" -ge 5 ]
	timeout 60 ds-state -k user -a sum:bytes -a count --emit all --ttl 3s \
	    --checkpoint ck <in.ndjson 2>final.err | python3 canon.py >final
	lastbatch final >final.last
	# the values exactly; a timed-out key of a batch the checkpoint
	# already holds is not written again (ds-state(1)), which happens
	# when one of the runs above was not killed
	grep -v '"timedOut": true' want.last >want.vals || true
	grep -v '"timedOut": true' final.last >final.vals || true
	diff want.vals final.vals
	grep '"timedOut": true' final.last | sort >final.to || true
	grep '"timedOut": true' want.last | sort >want.to || true
	[ -z "$(comm -13 want.to final.to)" ]
	grep -q 'replayed batches are not applied again' final.err ||
	    diff want.to final.to
}

@test "ds-state: checkpoints after the first append only the changed keys to state.log" {
	python3 -c '
import json
for i in range(2000):
    print(json.dumps({"user": "u%d" % i, "bytes": i}))
print(json.dumps({"@ds": "batch", "seq": 1, "time": 1000, "interval": 1000, "count": 2000, "offsets": []}))
for b in range(2, 40):
    print(json.dumps({"user": "u%d" % (b * 7), "bytes": b}))
    print(json.dumps({"@ds": "batch", "seq": b, "time": 1000 * b, "interval": 1000, "count": 1, "offsets": []}))
' >in.ndjson
	run --separate-stderr ds-state -k user -a sum:bytes --checkpoint ck --stats <in.ndjson
	[ "$status" -eq 0 ]
	[[ "${stderr_lines[0]}" == *"snapshot)" ]]
	[ "$(printf '%s\n' "$stderr" | grep -c 'delta)$')" -eq 38 ]
	[ "$(grep -c '^{"k"' ck/state.log)" -eq 38 ]
	# the keys the deltas touched have their sums after a restart
	run ds-state -k user -a sum:bytes --emit all --checkpoint ck </dev/null
	[ "${#lines[@]}" -eq 2000 ]
	python3 -c '
import json, sys
want = {"u%d" % i: i for i in range(2000)}
for b in range(2, 40):
    want["u%d" % (b * 7)] += b
got = {}
for l in sys.stdin:
    o = json.loads(l); got[o["user"]] = o["sum_bytes"]
assert got == want, "state differs"' <<<"$output"
}

@test "ds-state: a torn frame at the end of state.log is cut off with a message" {
	mkgen; mkref
	python3 gen.py 30 200 11 >in.ndjson
	python3 ref.py all 0 <in.ndjson >want
	head -n "$(grep -n '"seq":20,' in.ndjson | cut -d: -f1)" in.ndjson >first
	ds-state -k user -a sum:bytes -a count --checkpoint ck <first >/dev/null
	[ -s ck/state.log ]
	# a crash in the middle of an append: half a frame, no trailer
	printf '{"gen":99,"prev":98,"seq":21,"offsets":[]}\n{"k":{"user":"u1"},"t":1,"a":' >>ck/state.log
	run --separate-stderr ds-state -k user -a sum:bytes -a count --emit all --checkpoint ck <in.ndjson
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"ck/state.log: dropping "*" bytes of a torn or corrupt frame"* ]]
	printf '%s\n' "$output" | python3 canon.py >got
	diff <(sed -n '/^MARK 20$/,$p' want) <(sed -n '/^MARK 20$/,$p' got)
	# a flipped byte inside a frame: that frame and the rest are dropped,
	# their batches applied again from the input
	python3 -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
i = b.index(b"#ds-frame") // 2; b[i] ^= 0x02
open(p, "wb").write(bytes(b))' ck/state.log
	run --separate-stderr ds-state -k user -a sum:bytes -a count --emit all --checkpoint ck <in.ndjson
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"torn or corrupt frame"* ]]
	printf '%s\n' "$output" | python3 canon.py >got
	diff <(lastbatch want) <(lastbatch got)
}

@test "ds-state: -e updates \$state from \$values, per batch, for the keys with data" {
	mkgen; mkref
	python3 gen.py 40 10 12 3 >in.ndjson
	cat >ref_e.py <<'PY'
import json, sys
state, batch, out, last = {}, [], [], None
def close(seq):
    vals = {}
    for r in batch:
        vals.setdefault(r["user"], []).append(r)
    lines = []
    for k, vs in vals.items():
        s = state.get(k) or {"n": 0, "max": None}
        m = max(v["bytes"] for v in vs)
        state[k] = {"n": s["n"] + len(vs),
                    "max": m if s["max"] is None or m > s["max"] else s["max"]}
        lines.append(json.dumps({"user": k, "state": state[k]}, sort_keys=True))
    out.extend(sorted(lines)); out.append("MARK %d" % seq); batch.clear()
for l in sys.stdin:
    o = json.loads(l)
    if "@ds" in o:
        last = o; close(o["seq"])
    else:
        batch.append(o)
if batch:
    close(last["seq"] + 1)
print("\n".join(out))
PY
	python3 ref_e.py <in.ndjson >want
	ds-state -k user -e '{n: (($state.n // 0) + ($values | length)),
	    max: ([$state.max // empty, ($values | map(.bytes) | max)] | max)}' \
	    <in.ndjson | python3 canon.py >got
	diff want got
}

@test "ds-state: -e null removes the key (written once as state null)" {
	in='{"user":"a"}\n{"user":"b"}\n{"user":"a"}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[]}\n{"user":"a","del":true}\n{"user":"b"}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":2,"offsets":[]}\n{"user":"a"}\n{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":1,"offsets":[]}\n'
	upd='if ($values | map(select(.del)) | length) > 0 then null else ($state // 0) + ($values | length) end'
	dsrun "$in" ds-state -k user -e "$upd" --emit all
	expect 0 '{"user":"a","state":2}
{"user":"b","state":1}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[],"commit":[]}
{"user":"a","state":null}
{"user":"b","state":2}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":2,"offsets":[],"commit":[]}
{"user":"b","state":2}
{"user":"a","state":1}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":1,"offsets":[],"commit":[]}'
}

@test "ds-state: -e --emit all runs the update for idle keys with \$values = [] (updateStateByKey)" {
	in='{"user":"a"}\n{"user":"b"}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}\n{"user":"b"}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}\n'
	# an idle key is removed by its own update
	upd='if ($values | length) == 0 then null else ($state // 0) + ($values | length) end'
	dsrun "$in" ds-state -k user -e "$upd" --emit all
	expect 0 '{"user":"a","state":1}
{"user":"b","state":1}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[],"commit":[]}
{"user":"a","state":null}
{"user":"b","state":2}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[],"commit":[]}'
	# --snapshot runs it only for keys with data (mapWithState)
	dsrun "$in" ds-state -k user -e "$upd" --snapshot
	expect 0 '{"user":"a","state":1}
{"user":"b","state":1}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[],"commit":[]}
{"user":"a","state":1}
{"user":"b","state":2}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[],"commit":[]}'
}

@test "ds-state: -e sees the batch as \$__batch (Spark's updateStateByKey with the batch Time)" {
	# Spark's updateStateByKey((time, key, values, state) => ...) worked
	# by hand with --emit all (every key, every batch): a key counts its
	# values and keeps the time of its first and last data; a key idle
	# for more than one interval returns None and is removed.
	# batch 1 (2000): a, b -> a {n1,first 2000,last 2000}, b the same
	# batch 2 (4000): a    -> a {n2,2000,4000}; b idle 2000 = 4000-2000: kept
	# batch 3 (6000): none -> a idle 4000 = 6000-2000: kept; b idle
	#                         2000 < 4000: None (state null)
	# (a removed key is written when its update runs, before the others)
	in='{"k":"a"}\n{"k":"b"}\n{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":2,"offsets":[]}\n{"k":"a"}\n{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":1,"offsets":[]}\n{"@ds":"batch","seq":3,"time":6000,"interval":2000,"count":0,"offsets":[]}\n'
	upd='($values | length) as $n | $__batch as $b |
	    if $n == 0 and $state.last < $b.time - $b.interval then null
	    else {n: (($state.n // 0) + $n), first: ($state.first // $b.time),
	      last: (if $n > 0 then $b.time else $state.last end), seq: $b.seq}
	    end'
	dsrun "$in" ds-state -k k -e "$upd" --emit all
	expect 0 '{"k":"a","state":{"n":1,"first":2000,"last":2000,"seq":1}}
{"k":"b","state":{"n":1,"first":2000,"last":2000,"seq":1}}
{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":2,"offsets":[],"commit":[]}
{"k":"a","state":{"n":2,"first":2000,"last":4000,"seq":2}}
{"k":"b","state":{"n":1,"first":2000,"last":2000,"seq":2}}
{"@ds":"batch","seq":2,"time":4000,"interval":2000,"count":1,"offsets":[],"commit":[]}
{"k":"b","state":null}
{"k":"a","state":{"n":2,"first":2000,"last":4000,"seq":3}}
{"@ds":"batch","seq":3,"time":6000,"interval":2000,"count":0,"offsets":[],"commit":[]}'
	# plain input has no batch: $__batch is null
	dsrun '{"k":"a"}\n' ds-state -k k -e '{b: $__batch}'
	expect 0 '{"k":"a","state":{"b":null}}'
}

@test "ds-state: -e with --init (output shape), --ttl and no output (state kept)" {
	printf '{"user":"a","state":{"n":10}}\n{"user":"z","state":{"n":1}}\n' >init.ndjson
	in='{"user":"a"}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[]}\n{"user":"a","skip":true}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}\n{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":0,"offsets":[]}\n'
	# init keys count as updated by batch 1 (time 1000): z is idle for
	# more than 1s at batch 3 (3000); a had data in batch 2 (the update
	# gave no output: the state stays, but the key is not idle)
	dsrun "$in" ds-state -k user --init init.ndjson --ttl 1s \
	    -e 'if $values[0].skip then empty else {n: ($state.n + ($values | length))} end'
	expect 0 '{"user":"a","state":{"n":11}}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[],"commit":[]}
{"user":"a","state":{"n":11}}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[],"commit":[]}
{"user":"z","state":{"n":1},"timedOut":true}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":0,"offsets":[],"commit":[]}'
	printf '{"user":"q"}\n' >bad.ndjson
	dsrun '' ds-state -k user -e '$state' --init bad.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *'bad.ndjson:1: initial state record without "state"'* ]]
}

@test "ds-state: -e runtime errors are bad records, compile errors usage errors" {
	dsrun '{"user":"a","n":1}\n{"user":"b","n":"x"}\n' ds-state -k user -e '($state // 0) + ($values[0].n - 1)'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ds-state: <stdin>:"*"update of the key's state failed"* ]]
	dsrun '{"user":"a","n":1}\n{"user":"b","n":"x"}\n' ds-state -k user --skip-bad -e '($state // 0) + ($values[0].n - 1)'
	expect 0 '{"user":"a","state":0}'
	dsrun '' ds-state -k user -e '$nope + 1'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"ds-state: -e: "* ]]
	dsrun '' ds-state -k user -e '(('
	[ "$status" -eq 2 ]
}

@test "ds-state: -e state survives a restart through snapshot and deltas" {
	mkgen; mkref
	python3 gen.py 60 40 13 >in.ndjson
	upd='{n: (($state.n // 0) + ($values | length)), b: (($state.b // 0) + ($values | map(.bytes) | add))}'
	ds-state -k user -e "$upd" --snapshot <in.ndjson | python3 canon.py >clean
	head -n "$(grep -n '"seq":35,' in.ndjson | cut -d: -f1)" in.ndjson >first
	ds-state -k user -e "$upd" --checkpoint ck <first >/dev/null
	[ -s ck/state.log ]
	ds-state -k user -e "$upd" --snapshot --checkpoint ck <in.ndjson | python3 canon.py >got
	diff <(sed -n '/^MARK 35$/,$p' clean) <(sed -n '/^MARK 35$/,$p' got)
	# the state is the one python computes
	python3 -c '
import json, sys
st = {}
for l in open("in.ndjson"):
    o = json.loads(l)
    if "@ds" in o: continue
    s = st.setdefault(o["user"], {"n": 0, "b": 0}); s["n"] += 1; s["b"] += o["bytes"]
for k in sorted(st): print(json.dumps({"state": st[k], "user": k}, sort_keys=True))' | sort >want.last
	lastbatch got | sort >got.last
	diff want.last got.last
}

@test "ds-state: with --checkpoint a batch cut short at end of input is not applied; the replay applies it whole" {
	{ echo '{"user":"a","bytes":1}'; marker 1 1000
	  echo '{"user":"a","bytes":5}'; } >cut.ndjson
	{ cat cut.ndjson; echo '{"user":"a","bytes":7}'; marker 2 2000; } >whole.ndjson
	run --separate-stderr ds-state -k user -a sum:bytes --checkpoint ck <cut.ndjson
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"end of input inside batch 2: its 1 records are not applied"* ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == '{"@ds":"batch","seq":1,'* ]]
	run --separate-stderr ds-state -k user -a sum:bytes --checkpoint ck <whole.ndjson
	[ "${lines[2]}" = '{"user":"a","sum_bytes":13}' ]
	# without a checkpoint the trailing records form the final batch (ds(7))
	run ds-state -k user -a sum:bytes <cut.ndjson
	[ "${lines[2]}" = '{"user":"a","sum_bytes":6}' ]
	[[ "${lines[3]}" == *'"final":true'* ]]
}

@test "ds-state: held-back event-time input through ds-batch -T: cumulative counts batch by batch, TTL by event time" {
	command -v ds-batch >/dev/null || skip "ds-batch not built"
	python3 -c '
import json, random
r = random.Random(3)
ts = sorted(1000000 + r.randrange(0, 10000) for i in range(300))
# hold some records back by 1.5s (within --lateness 2s)
held = sorted((t + r.choice([0, 0, 0, 1500]), i, t) for i, t in enumerate(ts))
for _, i, t in held:
    print(json.dumps({"ts": t, "user": "u%d" % r.randrange(6)}))' >ev.ndjson
	# reference: after the batch ending at T, every record with ts < T
	python3 -c '
import json
recs = [json.loads(l) for l in open("ev.ndjson")]
lo = min(o["ts"] for o in recs) // 1000 * 1000 + 1000
hi = max(o["ts"] for o in recs) // 1000 * 1000 + 1000
for T in range(lo, hi + 1, 1000):
    c = {}
    for o in recs:
        if o["ts"] < T:
            c[o["user"]] = c.get(o["user"], 0) + 1
    for u in sorted(c):
        print("%d %s %d" % (T, u, c[u]))' >want
	ds-batch -T ts -i 1s --lateness 2s <ev.ndjson |
	    ds-state -k user -a n=count --emit all >out
	python3 -c '
import json, sys
rows, t = [], []
for l in open("out"):
    o = json.loads(l)
    if "@ds" in o:
        rows += sorted("%d %s %d" % (o["time"], u, n) for u, n in t); t = []
    else:
        t.append((o["user"], o["n"]))
print("\n".join(rows))' >got
	diff want got
	# the same stream with --ttl: identical output on every replay
	ds-batch -T ts -i 1s --lateness 2s <ev.ndjson |
	    ds-state -k user -a n=count --ttl 1500ms | nocreated >ttl1
	ds-batch -T ts -i 1s --lateness 2s <ev.ndjson |
	    ds-state -k user -a n=count --ttl 1500ms | nocreated >ttl2
	cmp ttl1 ttl2
}

@test "ds-state: SIGTERM checkpoints the applied batches and leaves a partial batch to the replay" {
	mkfifo in.fifo
	timeout 20 ds-state -k user -a sum:bytes --checkpoint ck <in.fifo >out 2>err &
	pid=$!
	exec 7>in.fifo
	{ echo '{"user":"a","bytes":1}'; marker 1 1000; echo '{"user":"a","bytes":5}'; } >&7
	wait_for 10 grep -q '"seq":1' out
	kill -TERM "$pid"
	st=0; wait "$pid" || st=$?
	exec 7>&-
	[ "$st" -eq 0 ]
	grep -q "end of input inside batch 2" err
	[ "$(grep -c '"@ds"' out)" -eq 1 ]
	run --separate-stderr ds-state -k user -a sum:bytes --checkpoint ck --emit all </dev/null
	[ "$output" = '{"user":"a","sum_bytes":1}' ]
}

@test "ds-state: the man page's -e and daily-file examples" {
	# session state with a TTL (mapWithState + StateSpec.timeout)
	printf '{"ts":1000,"user":"a","page":"/x"}\n{"ts":1500,"user":"a","page":"/y"}\n{"ts":25000,"user":"b","page":"/z"}\n' >clicks.ndjson
	run ds-state -k user --ttl 30m -e '{n: (($state.n // 0) +
	    ($values | length)), pages: (($state.pages // []) +
	    ($values | map(.page)))}' clicks.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"user":"a","state":{"n":2,"pages":["/x","/y"]}}
{"user":"b","state":{"n":1,"pages":["/z"]}}' ]
	# removal after a logout
	dsrun '{"user":"a","event":"click"}\n{"user":"a","event":"logout"}\n{"user":"b","event":"click"}\n' \
	    ds-state -k user -e 'if ($values | map(select(.event == "logout")) |
	    length) > 0 then null else ($state // 0) + ($values | length) end'
	expect 0 '{"user":"a","state":null}
{"user":"b","state":1}'
	# daily files into running totals kept across runs; the output of a
	# run is a valid --init when aggregates are named after their field
	printf '{"user":"a","bytes":10}\n' >day1.ndjson
	printf '{"user":"a","bytes":5}\n{"user":"b","bytes":1}\n' >day2.ndjson
	ds-state -k user -a bytes=sum:bytes --checkpoint totals <day1.ndjson >/dev/null
	run ds-state -k user -a bytes=sum:bytes --checkpoint totals <day2.ndjson
	[ "$output" = '{"user":"a","bytes":15}
{"user":"b","bytes":1}' ]
	printf '%s\n' "$output" >init.ndjson
	run ds-state -k user -a bytes=sum:bytes --init init.ndjson <day1.ndjson
	[ "$output" = '{"user":"a","bytes":25}' ]
}

@test "ds-state: a replayed batch's marker commits no further than the batch itself" {
	o1='[{"topic":"t","partition":0,"from":0,"until":1}]'
	o2='[{"topic":"t","partition":0,"from":1,"until":2}]'
	{ echo '{"user":"a","bytes":1}'; marker 1 1000 "$o1"
	  echo '{"user":"a","bytes":1}'; marker 2 2000 "$o2"; } >in.ndjson
	ds-state -k user -a count --checkpoint ck <in.ndjson >/dev/null
	run --separate-stderr ds-state -k user -a count --checkpoint ck <in.ndjson
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == *'"commit":[{"topic":"t","partition":0,"from":0,"until":1}]}' ]]
	[[ "${lines[3]}" == *'"commit":[{"topic":"t","partition":0,"from":0,"until":2}]}' ]]
}

@test "ds-state: a new stream (seq from 1, later times) is applied; a replay is not" {
	# by hand: run 1 counts a=1; run 2 is a new stream (ds-batch
	# restarted without --log: seq 1 again, later time): a=2; run 3
	# replays run 2's batch (same seq and time): not applied, a stays 2
	dsrun '{"w":"a"}\n{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":1}\n' \
	    ds-state -k w -a count --checkpoint ck
	expect 0 '{"w":"a","count":1}
{"@ds":"batch","seq":1,"time":2000,"interval":2000,"count":1,"commit":[]}'
	dsrun '{"w":"a"}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":1}\n' \
	    ds-state -k w -a count --checkpoint ck
	expect 0 '{"w":"a","count":2}
{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":1,"commit":[]}'
	dsrun '{"w":"a"}\n{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":1}\n' \
	    ds-state -k w -a count --checkpoint ck
	expect 0 '{"w":"a","count":2}
{"@ds":"batch","seq":1,"time":4000,"interval":2000,"count":1,"commit":[]}'
}

# test/ckpt holds checkpoints of the first two batches of
# test/ckpt/in.ndjson, written by the ds-state of before the stage-state
# module: a snapshot after batch 1 and one frame ("sum=", the old frame
# checksum) after batch 2.
@test "ds-state: checkpoints written by earlier versions still load (snapshot and old frames)" {
	cp -r "$DS_TOP/test/ckpt/state-agg" ck
	run --separate-stderr ds-state -k u -a sum:n -a count --emit all --checkpoint ck "$DS_TOP/test/ckpt/in.ndjson"
	[ "$status" -eq 0 ]
	# batches 1 and 2 are replays; batch 3 adds b's 4 to the loaded state
	[ "$(printf '%s\n' "$output" | grep -v '^{"@ds"' | tail -n 2)" = '{"u":"a","sum_n":4,"count":2}
{"u":"b","sum_n":6,"count":2}' ]
	[ "$(printf '%s\n' "$output" | tail -n 1 | jq -c .commit)" = '[{"topic":"t","partition":0,"from":0,"until":4}]' ]
	cp -r "$DS_TOP/test/ckpt/state-expr" cke
	run --separate-stderr ds-state -k u -e '($state // 0) + ($values | map(.n) | add)' --emit all --checkpoint cke "$DS_TOP/test/ckpt/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -v '^{"@ds"' | tail -n 2)" = '{"u":"a","state":4}
{"u":"b","state":6}' ]
}

@test "ds-state: state.log frames end with the FNV-1a 64 of their bytes" {
	printf '{"u":"a"}\n{"@ds":"batch","seq":%d,"time":%d000,"interval":1000,"count":1,"offsets":[]}\n' 1 1 2 2 3 3 >in
	ds-state -k u -a count --checkpoint ck <in >/dev/null
	python3 - ck/state.log <<'PYEOF'
import re, sys
b = open(sys.argv[1], "rb").read()
frames = 0
while b:
    m = re.search(rb"\n#ds-frame len=(\d+) fnv1a64=([0-9a-f]{16})\n", b)
    assert m, b
    data = b[:m.start()]
    assert len(data) == int(m.group(1))
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) % (1 << 64)
    assert "%016x" % h == m.group(2).decode(), (data, m.group(2))
    frames += 1
    b = b[m.end():]
assert frames == 2, frames
PYEOF
}

@test "ds-state --changelog: usage errors; a record of a partition not assigned here is a bad record" {
	run -2 --separate-stderr ds-state -k user -a count --changelog cl
	[[ "$stderr" == *"--changelog needs -b BROKERS"* ]]
	run -2 --separate-stderr ds-state -k user -a count --changelog cl -b 127.0.0.1:1 --checkpoint ck
	[[ "$stderr" == *"neither --checkpoint nor --init"* ]]
	run -2 --separate-stderr ds-state -k partition -a count --changelog cl -b 127.0.0.1:1
	[[ "$stderr" == *"-k: key field 'partition' repeats 'partition'"* ]]
	run -2 --separate-stderr ds-state -k user -a count --changelog cl -b 127.0.0.1:1 --partition-field a..b
	[[ "$stderr" == *"--partition-field a..b: bad field"* ]]
	run -2 --separate-stderr ds-state -k user -a count --changelog cl -b 127.0.0.1:1 -X nonsense
	[[ "$stderr" == *"-X nonsense: expected PROP=VAL"* ]]
	# an empty assignment reads no changelog: nothing is owned
	printf '%s\n' '{"@ds":"assign","offsets":[]}' '{"partition":3,"user":"a"}' \
	    '{"user":"b"}' \
	    '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}' >in
	run -1 --separate-stderr ds-state -k user -a count --changelog cl -b 127.0.0.1:1 in
	[[ "$stderr" == *"ds-state: in:4: a record of a source partition not assigned to this member, or without \"partition\""* ]]
	run -0 --separate-stderr ds-state -k user -a count --changelog cl -b 127.0.0.1:1 --skip-bad --partition-field partition in
	[ "$(printf '%s\n' "$stderr" | grep -c 'not assigned to this member')" -eq 2 ]
	# the assign record is passed on, and the marker commits nothing
	[ "${lines[0]}" = '{"@ds":"assign","offsets":[]}' ]
	[ "$(printf '%s\n' "$output" | tail -1 | jq -c '[.bad, .commit]')" = '[2,[]]' ]
}
