"""Compare ds's output with a peer's (bench/run.sh's sanity checks).

usage: check.py [--sum] DS_OUTPUT PEER_TSV
       check.py --tsv DS_OUTPUT

DS_OUTPUT is a ds pipeline's NDJSON: data records, each batch closed by
a marker (the k-th marker closes batch k), or plain records (batch 0).
PEER_TSV is "batch<TAB>key<TAB>values..." lines (bench/spark's --check
output, or a peer's groups in batch 0).  A ds record's first field is
its key (a nested key path's one leaf) and its other numeric fields, in
order, its values.  Batches past the peer's last are ignored (ds-window
may emit the windows that drain after the input ends).  --sum adds each
key's values over all batches on both sides first (the Kafka row, whose
batches differ between ds and Spark).  Prints "equal (R rows, B
batches)" or "DIFFER: ..." with the first differences.  --tsv prints
DS_OUTPUT's rows in PEER_TSV's form.
"""

import json
import sys


def ds_rows(path):
    rows = []
    batch, pending, markers = 1, [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith('{"@ds":'):
                if json.loads(line).get("@ds") == "batch":
                    rows += [(batch, k, v) for k, v in pending]
                    pending = []
                    batch += 1
                    markers += 1
                continue
            d = json.loads(line)
            items = list(d.items())
            k = items[0][1]
            while isinstance(k, dict) and len(k) == 1:
                k = next(iter(k.values()))     # a nested key path
            key = str(k)
            vals = tuple(str(v) for _, v in items[1:]
                         if isinstance(v, (int, float))
                         and not isinstance(v, bool))
            pending.append((key, vals))
    if markers == 0:
        rows += [(0, k, v) for k, v in pending]
    else:
        rows += [(batch, k, v) for k, v in pending]
    return rows


def spark_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            rows.append((int(p[0]), p[1], tuple(p[2:])))
    return rows


def totals(rows):
    t = {}
    for _, k, v in rows:
        s = t.get(k, (0,) * len(v))
        t[k] = tuple(a + int(b) for a, b in zip(s, v))
    return [(0, k, tuple(str(x) for x in v)) for k, v in t.items()]


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--tsv":
        for b, k, v in ds_rows(args[1]):
            print("\t".join((str(b), k) + v))
        return
    add = args[:1] == ["--sum"]
    if add:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    sp = spark_rows(args[1])
    ds = ds_rows(args[0])
    if add:
        sp, ds = totals(sp), totals(ds)
    last = max((b for b, _, _ in sp), default=0)
    ds = [r for r in ds if r[0] <= last]
    a, b = sorted(ds), sorted(sp)
    if a == b:
        print("equal (%d rows, %d batches)" % (len(a), max(last, 1)))
        return
    only_ds = sorted(set(a) - set(b))[:3]
    only_sp = sorted(set(b) - set(a))[:3]
    print("DIFFER: ds %d rows, Spark %d; only ds: %s; only Spark: %s" % (
        len(a), len(b), only_ds, only_sp))


if __name__ == "__main__":
    main()
