# agg.bash -- shared by ds-reduce.bats and ds-window.bats: ref.py, an
# independent Python model of ds-reduce(1) and ds-window(1) output, and
# the helpers around it.  Load with: load agg

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
