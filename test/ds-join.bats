#!/usr/bin/env bats
# ds-join: stream-static and per-batch stream-stream joins.  Expected
# outputs come from ref.py below, an independent Python model of the
# join rules of ds-join(1), or are written out by hand.

bats_require_minimum_version 1.5.0
load helper

mkref() {
	cat >"$T/ref.py" <<'PYEOF'
# ref.py MODE KEY STREAM OTHER [AS]: the joins of ds-join(1) in Python.
# MODE: inner|left|anti (OTHER is a table) or sinner|sleft|sright|sfull|scogroup
# (OTHER is a stream, joined batch by batch).  Markers without created.
import json, sys

mode, key, sfile, ofile = sys.argv[1:5]
asname = sys.argv[5] if len(sys.argv) > 5 else None
keys = key.split(",")

def dump(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)

def k(r):
    if not isinstance(r, dict) or any(x not in r for x in keys):
        return None
    return dump([r[x] for x in keys])

def merge(s, t):
    out = dict(s)
    if asname:
        out.pop(asname, None)
        out[asname] = t
        return out
    for a, b in t.items():
        if a not in out:
            out[a] = b
    return out

def batches(path):
    cur, out = [], []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith('{"@ds":'):
            out.append((cur, json.loads(line)))
            cur = []
        elif line:
            cur.append(json.loads(line))
    out.append((cur, None))
    return out

def marker(m):
    m = dict(m)
    m.pop("created", None)
    return dump(m)

def join(recs, others, mode):
    res = []
    matched = set()
    for r in recs:
        hits = [i for i, o in enumerate(others) if k(r) is not None and k(o) == k(r)]
        if mode in ("anti",):
            if not hits: res.append(r)
            continue
        for i in hits:
            matched.add(i)
            res.append(merge(r, others[i]))
        if not hits and mode in ("left", "sleft", "sfull"):
            res.append(r)
    if mode in ("sfull", "sright"):
        res += [o for i, o in enumerate(others) if i not in matched]
    return res

def cogroup(recs, others):
    order, g = [], {}
    for side, rs in ((0, recs), (1, others)):
        for r in rs:
            kk = k(r)
            if kk is None: continue
            if kk not in g:
                g[kk] = ([], [], r)
                order.append(kk)
            g[kk][side].append(r)
    res = []
    for kk in order:
        left, right, r = g[kk]
        o = {x: r[x] for x in keys}
        o["left"] = left
        o["right"] = right
        res.append(o)
    return res

out = []
if mode in ("inner", "left", "anti"):
    table = [json.loads(l) for l in open(ofile) if l.strip()]
    for recs, m in batches(sfile):
        out += [dump(r) for r in join(recs, table, mode)]
        if m: out.append(marker(m))
else:
    other = {}
    for recs, m in batches(ofile):
        other[m["seq"] if m else None] = recs
    for recs, m in batches(sfile):
        if m is None and not recs: break
        o = other.get(m["seq"] if m else None, [])
        res = cogroup(recs, o) if mode == "scogroup" else join(recs, o, mode)
        out += [dump(r) for r in res]
        if m: out.append(marker(m))
print("\n".join(out))
PYEOF
}

mkdata() {
	# the seeds' access records: user, ip; a blacklist of ips
	cat >s.ndjson <<'JEOF'
{"user":"u1","ip":"10.0.0.1","bytes":10}
{"user":"u2","ip":"10.0.0.2","bytes":20}
{"user":"u3","ip":"10.0.0.10","bytes":30}
{"@ds":"batch","seq":1,"time":2000,"interval":1000,"count":3,"offsets":[]}
{"user":"u4","ip":"10.0.0.2","bytes":40}
{"user":"u5","bytes":50}
{"user":"u1","ip":"10.0.0.3","bytes":60}
{"@ds":"batch","seq":2,"time":3000,"interval":1000,"count":3,"offsets":[]}
JEOF
	cat >bl.ndjson <<'JEOF'
{"ip":"10.0.0.2","reason":"abuse"}
{"ip":"10.0.0.1","reason":"scan"}
{"ip":"10.0.0.2","reason":"spam","user":"bad"}
JEOF
}

@test "-k fields that repeat or contain one another are usage errors, as in ds-reduce" {
	printf '{"geo":{"city":"x"}}\n' >t.ndjson
	for k in geo,geo.city geo.city,geo user,user; do
		run --separate-stderr ds-join --with t.ndjson -k "$k" </dev/null
		[ "$status" -eq 2 ] || { echo "-k $k: $status"; return 1; }
		[[ "$stderr" == "ds-join: -k: key field "* ]] || { echo "-k $k: $stderr"; return 1; }
	done
}

@test "the seeds' blacklist filter: --anti drops records whose ip is listed" {
	mkref
	mkdata
	run ds-join --with bl.ndjson -k ip --anti s.ndjson
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | nocreated)" = "$(python3 ref.py anti ip s.ndjson bl.ndjson)" ]
	# by hand: u3 (10.0.0.10 is not 10.0.0.1), u5 (no ip), u1 on .3
	[ "$(grep -c '"user"' <<<"$output")" -eq 3 ]
}

@test "inner join (Spark join): one output per matching table row, stream wins clashes" {
	mkref
	mkdata
	run ds-join --with bl.ndjson -k ip s.ndjson
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | nocreated)" = "$(python3 ref.py inner ip s.ndjson bl.ndjson)" ]
	[[ $output == *'{"user":"u2","ip":"10.0.0.2","bytes":20,"reason":"spam"}'* ]]
}

@test "--left (leftOuterJoin) keeps unmatched records; --as nests the row" {
	mkref
	mkdata
	run ds-join --with bl.ndjson -k ip --left s.ndjson
	[ "$(printf '%s\n' "$output" | nocreated)" = "$(python3 ref.py left ip s.ndjson bl.ndjson)" ]
	run ds-join --with bl.ndjson -k ip --left --as bl s.ndjson
	[ "$(printf '%s\n' "$output" | nocreated)" = "$(python3 ref.py left ip s.ndjson bl.ndjson bl)" ]
	[[ $output == *'{"user":"u1","ip":"10.0.0.1","bytes":10,"bl":{"ip":"10.0.0.1","reason":"scan"}}'* ]]
}

@test "composite keys and numbers: 1 and 1.0 are the same key" {
	printf '{"a":1,"b":"x","v":1}\n{"a":2,"b":"x","v":2}\n' >s.ndjson
	printf '{"a":1.0,"b":"x","t":"one"}\n' >t.ndjson
	run ds-join --with t.ndjson -k a,b s.ndjson
	[ "$output" = '{"a":1,"b":"x","v":1,"t":"one"}' ]
}

@test "--reload: a changed table is used from the next batch on" {
	mkdata
	printf '{"ip":"10.0.0.1"}\n' >t.ndjson
	fifo_job out.ndjson timeout 20 ds-join --with t.ndjson -k ip --anti --reload
	printf '{"ip":"10.0.0.1","n":1}\n{"ip":"10.0.0.2","n":2}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}\n' >&7
	wait_for 10 grep -q '"seq":1' out.ndjson
	printf '{"ip":"10.0.0.2"}\n{"ip":"10.0.0.9"}\n' >t.ndjson
	printf '{"ip":"10.0.0.1","n":3}\n{"ip":"10.0.0.2","n":4}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":2,"offsets":[]}\n' >&7
	exec 7>&-
	wait "$pid"
	[ "$(cat out.ndjson)" = '{"ip":"10.0.0.2","n":2}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}
{"ip":"10.0.0.1","n":3}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":2,"offsets":[]}' ]
}

@test "without --reload the table is read once" {
	printf '{"ip":"a"}\n' >t.ndjson
	fifo_job out.ndjson timeout 20 ds-join --with t.ndjson -k ip --anti
	printf '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":0,"offsets":[]}\n' >&7
	wait_for 10 grep -q '"seq":1' out.ndjson
	printf '{"ip":"b"}\n' >t.ndjson
	printf '{"ip":"a"}\n{"ip":"b"}\n' >&7
	exec 7>&-
	wait "$pid"
	[ "$(grep -v '"@ds"' out.ndjson)" = '{"ip":"b"}' ]
}

mkstreams() {
	cat >a.ndjson <<'JEOF'
{"k":"x","a":1}
{"k":"y","a":2}
{"k":"x","a":3}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[]}
{"k":"z","a":4}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":0,"offsets":[]}
{"k":"w","a":5}
{"@ds":"batch","seq":4,"time":4000,"interval":1000,"count":1,"offsets":[]}
JEOF
	cat >b.ndjson <<'JEOF'
{"k":"x","b":10}
{"k":"q","b":11}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}
{"k":"z","b":12}
{"k":"z","b":13}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":2,"offsets":[]}
{"k":"w","b":14}
{"@ds":"batch","seq":4,"time":4000,"interval":1000,"count":1,"offsets":[]}
JEOF
}

@test "stream-stream per batch: inner, --left, --right, --full, --cogroup (markers matched by seq)" {
	mkref
	mkstreams
	for m in inner left right full cogroup; do
		opt=--$m
		[ "$m" = inner ] && opt=
		run ds-join --other b.ndjson -k k $opt a.ndjson
		[ "$status" -eq 0 ]
		want=$(python3 ref.py "s$m" k a.ndjson b.ndjson)
		if [ "$(printf '%s\n' "$output" | nocreated)" != "$want" ]; then
			printf -- '--- %s want\n%s\n--- got\n%s\n' "$m" "$want" "$output" >&2
			return 1
		fi
	done
}

@test "--right (rightOuterJoin): Spark's expected output, worked by hand" {
	# Spark's a.rightOuterJoin(b), batch by batch: every record of b,
	# paired with each a record of its key, or alone (None, w) when a
	# has none; a records without a partner in b are dropped.
	# batch 1: a x1 y2 x3, b x10 q11 -> (x1,x10) (x3,x10) (-,q11)
	# batch 2: a z4, b z12 z13 -> (z4,z12) (z4,z13); batch 3: b has
	# none; batch 4: a w5, b w14 -> (w5,w14)
	mkstreams
	run --separate-stderr ds-join --other b.ndjson -k k --right a.ndjson
	expect 0 '{"k":"x","a":1,"b":10}
{"k":"x","a":3,"b":10}
{"k":"q","b":11}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":3,"offsets":[]}
{"k":"z","a":4,"b":12}
{"k":"z","a":4,"b":13}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}
{"@ds":"batch","seq":3,"time":3000,"interval":1000,"count":0,"offsets":[]}
{"k":"w","a":5,"b":14}
{"@ds":"batch","seq":4,"time":4000,"interval":1000,"count":1,"offsets":[]}'
	# a batch of b that a never had is written alone
	printf '{"k":"x","a":1}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}\n' >a2.ndjson
	printf '{"k":"y","b":1}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[]}\n{"k":"x","b":2}\n{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}\n' >b2.ndjson
	run --separate-stderr ds-join --other b2.ndjson -k k --right a2.ndjson
	expect 0 '{"k":"y","b":1}
{"k":"x","a":1,"b":2}
{"@ds":"batch","seq":2,"time":2000,"interval":1000,"count":1,"offsets":[]}'
}

@test "stream-stream through a FIFO, batch by batch" {
	mkstreams
	mkfifo other.fifo
	timeout 20 sh -c 'cat b.ndjson >other.fifo' &
	run timeout 20 ds-join --other other.fifo -k k a.ndjson
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -v '"@ds"')" = '{"k":"x","a":1,"b":10}
{"k":"x","a":3,"b":10}
{"k":"z","a":4,"b":12}
{"k":"z","a":4,"b":13}
{"k":"w","a":5,"b":14}' ]
}

@test "stream-stream: the other marker's offsets are merged into ours" {
	printf '{"k":1}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[{"topic":"a","partition":0,"from":0,"until":1}]}\n' >a.ndjson
	printf '{"k":1,"o":1}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[{"topic":"b","partition":0,"from":5,"until":6}]}\n' >b.ndjson
	run ds-join --other b.ndjson -k k a.ndjson
	[ "${lines[0]}" = '{"k":1,"o":1}' ]
	run jq -c '.offsets' <<<"${lines[1]}"
	[ "$output" = '[{"topic":"a","partition":0,"from":0,"until":1},{"topic":"b","partition":0,"from":5,"until":6}]' ]
}

@test "plain inputs (no markers): each whole stream is one batch" {
	printf '{"k":1,"a":1}\n{"k":2,"a":2}\n' >a.ndjson
	printf '{"k":2,"b":2}\n{"k":3,"b":3}\n' >b.ndjson
	run ds-join --other b.ndjson -k k --full a.ndjson
	[ "$output" = '{"k":1,"a":1}
{"k":2,"a":2,"b":2}
{"k":3,"b":3}' ]
}

@test "bad records: invalid JSON fails with the line; --skip-bad counts it" {
	printf '{"ip":"a"}\n' >t.ndjson
	dsrun '{"ip":"a"}\n{oops\n' ds-join --with t.ndjson -k ip
	[ "$status" -eq 1 ]
	[ "$output" = '{"ip":"a"}' ]
	[[ $stderr == "ds-join: <stdin>:2: "* ]]
	dsrun '{oops\n{"ip":"a"}\n{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[]}\n' \
	    ds-join --with t.ndjson -k ip --skip-bad
	expect 0 '{"ip":"a"}
{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":2,"offsets":[],"bad":1}'
	printf '[1]\n' >bad.ndjson
	dsrun '{"ip":"a"}\n' ds-join --with bad.ndjson -k ip
	[ "$status" -eq 1 ]
	[[ $stderr == "ds-join: bad.ndjson:1: table record is not an object" ]]
}

@test "usage: -h, -V, and the option combinations that make no sense exit 2" {
	run ds-join -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: ds-join --with FILE -k KEY[,KEY...] [--left | --anti] [--reload]" ]]
	[ "${lines[3]}" = "               [--left | --right | --full | --cogroup] [--as NAME]" ]
	run ds-join -V
	[[ $output == "ds-join "* ]]
	printf '{}\n' >t.ndjson
	for args in "-k ip" "--with t.ndjson" "--with t.ndjson --other t.ndjson -k ip" \
	    "--with t.ndjson -k ip --left --anti" "--with t.ndjson -k ip --full" \
	    "--with t.ndjson -k ip --right" "--other t.ndjson -k ip --left --right" \
	    "--other t.ndjson -k ip --anti" "--other t.ndjson -k ip --reload" \
	    "--with t.ndjson -k ip --as a\"b" "--with t.ndjson -k ip --nope"; do
		run ds-join $args </dev/null
		[ "$status" -eq 2 ] || { echo "$args: $status" >&2; return 1; }
	done
	run ds-join --with nosuch.ndjson -k ip </dev/null
	[ "$status" -eq 1 ]
}

@test "merge: a record with many members keeps its values on every clash" {
	python3 -c 'import json; r = {"k%d" % i: i for i in range(100)}; r["ip"] = "a"; print(json.dumps(r, separators=(",", ":")))' >s.ndjson
	printf '{"ip":"a","k99":-1,"k0":-1,"new":1}\n' >t.ndjson
	run ds-join --with t.ndjson -k ip s.ndjson
	[ "$output" = "$(jq -c --slurpfile t t.ndjson '. as $s | $s + ($t[0] | with_entries(select(.key as $k | $s | has($k) | not)))' s.ndjson)" ]
}

@test "--other: the marker's commit covers both streams, as ds-union's does" {
	# this stream: a stateful stage checkpointed x/0 up to 1 of 3 and
	# not x/1 (absent from its commit); the other: no stateful stage, it
	# delivered x/0 to 3 and y/0 to 9
	printf '%s\n' '{"k":1}' '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[{"topic":"x","partition":0,"from":0,"until":3},{"topic":"x","partition":1,"from":0,"until":4}],"commit":[{"topic":"x","partition":0,"from":0,"until":1}]}' >a
	printf '%s\n' '{"k":1}' '{"@ds":"batch","seq":1,"time":1000,"interval":1000,"count":1,"offsets":[{"topic":"x","partition":0,"from":0,"until":3},{"topic":"y","partition":0,"from":7,"until":9}]}' >b
	run --separate-stderr ds-join --other b -k k <a
	[ "$status" -eq 0 ]
	# x/0: min(1, 3) = 1; x/1: not safe in a; y/0: only b had it: 9
	[ "$(printf '%s\n' "$output" | tail -n 1 | jq -c .commit)" = '[{"topic":"x","partition":0,"from":0,"until":1},{"topic":"y","partition":0,"from":7,"until":9}]' ]
	# the other side's commit counts as well
	run --separate-stderr ds-join --other a -k k <b
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | tail -n 1 | jq -c .commit)" = '[{"topic":"x","partition":0,"from":0,"until":1},{"topic":"y","partition":0,"from":7,"until":9}]' ]
	# no side with a commit: none added
	run --separate-stderr ds-join --other b -k k <b
	[ "$(printf '%s\n' "$output" | tail -n 1 | jq -c .commit)" = null ]
}
