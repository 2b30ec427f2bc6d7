"""Compare ds's output with the Spark peer's (bench/run.sh's sanity check).

usage: check.py DS_OUTPUT SPARK_TSV

DS_OUTPUT is a ds pipeline's NDJSON: data records, each batch closed by
a marker (the k-th marker closes batch k), or plain records (batch 0).
SPARK_TSV is stream.py --check's "batch<TAB>key<TAB>values..." lines.
A ds record's first field is its key and its other numeric fields, in
order, its values.  Batches past Spark's last are ignored (ds-window may
emit the windows that drain after the input ends).  Prints "equal (R
rows, B batches)" or "DIFFER: ..." with the first differences.
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
            key = str(items[0][1])
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


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sp = spark_rows(sys.argv[2])
    last = max((b for b, _, _ in sp), default=0)
    ds = [r for r in ds_rows(sys.argv[1]) if r[0] <= last]
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
