"""The last stage of make bench's Kafka end-to-end row: batch latency.

usage: ds-kafka-cat ... | ds-batch --created ... | ds-reduce ... | lat.py STATS

Copies its input to its output and, for each batch marker that closes a
batch with output records, takes the wall clock now less the marker's
created time (when ds-batch closed the batch): the batch's latency from
its end to the end of its output, Spark's total delay.  At the end it
writes {"batches":B,"lat_ms_mean":M,"lat_ms_max":X} to STATS.
"""

import json
import sys
import time


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    lat, rows = [], 0
    out = sys.stdout
    for line in sys.stdin:
        out.write(line)
        if not line.startswith('{"@ds":"batch"'):
            rows += 1
            continue
        now = time.time() * 1000
        out.flush()
        created = json.loads(line).get("created")
        if rows and created is not None:
            lat.append(now - created)
        rows = 0
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump({"batches": len(lat),
                   "lat_ms_mean": round(sum(lat) / len(lat)) if lat else 0,
                   "lat_ms_max": round(max(lat)) if lat else 0}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
