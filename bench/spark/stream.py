"""The Spark Streaming peer of make bench (PySpark, local[2]).

usage: stream.py [--check OUTDIR] [--batch-ms MS] DATA WORKLOAD...

WORKLOAD is w3 (reduceByKey), w4 (reduceByKeyAndWindow with an inverse
function), w5 (updateStateByKey) or w6 (NetworkWordCount's flatMap + map
+ reduceByKey).  DATA is the bench's access log (w3-w5) or its text file
(w6).

The data is pre-split in the driver into the same batches ds sees: the
2 s event-time batches of ds-batch -T ts -i 2s (ts // 2000; empty
batches between two full ones kept), or 10000 lines a batch for text.
Each batch becomes one RDD of raw lines in a queueStream (one RDD per
batch interval), so Spark parses the JSON itself as ds does.  The batch
interval is short (100 ms): Spark falls behind the clock and processes
the queued batches back to back, which measures its throughput rather
than the wall clock.  Window and slide are 3 and 1 batch intervals, the
shape of ds-window -w 6s -s 2s on 2 s batches.

Timing runs from ssc.start() to the output of the last data batch
(foreachRDD), excluding JVM start-up, the driver's reading and splitting
of the file and a warm-up job that starts the Python workers.  Peak RSS
is the sum of VmHWM over the driver and all its descendants (the JVM and
the Python workers), read right after the last output.

Prints one JSON line per workload on stdout:
{"workload":"w3","records":N,"batches":B,"seconds":S,"rss_mb":M}
With --check OUTDIR, also writes OUTDIR/WORKLOAD.tsv: one line per
output record, "batch<TAB>key<TAB>values...", batch counted from 1
(w6: word totals over all batches, batch 0), for bench/check.py.
"""

import json
import os
import sys
import tempfile
import time

from pyspark import SparkConf, SparkContext
from pyspark.streaming import StreamingContext

import sink

TEXT_BATCH = 10000


def split_log(path):
    """Lines grouped by 2 s event-time batch, gaps kept as empty lists."""
    batches = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            i = line.find('"ts":') + 5
            j = i
            while line[j].isdigit():
                j += 1
            k = int(line[i:j]) // 2000
            if cur is None:
                cur = k
                batches.append([])
            while k > cur:
                cur += 1
                batches.append([])
            batches[-1].append(line)
    return batches


def split_text(path):
    batches = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n % TEXT_BATCH == 0:
                batches.append([])
            batches[-1].append(line.rstrip("\n"))
    return batches


def user_bytes(line):
    d = json.loads(line)
    return (d["user"], (d["bytes"], 1))


def add2(a, b):
    return (a[0] + b[0], a[1] + b[1])


def sub2(a, b):
    return (a[0] - b[0], a[1] - b[1])


def run(sc, workload, batches, batch_ms, ckdir, check):
    nb = len(batches)
    records = sum(len(b) for b in batches)
    ssc = StreamingContext(sc, batch_ms / 1000.0)
    rdds = [sc.parallelize(b, 2) for b in batches]
    lines = ssc.queueStream(rdds, oneAtATime=True)

    if workload == "w3":
        out = lines.map(user_bytes).reduceByKey(add2, 2)
    elif workload == "w4":
        ssc.checkpoint(ckdir)
        iv = batch_ms / 1000.0
        out = lines.map(user_bytes).reduceByKeyAndWindow(
            add2, sub2, 3 * iv, iv, 2, lambda kv: kv[1][1] > 0)
        out = out.map(lambda kv: (kv[0], (kv[1][0],)))
    elif workload == "w5":
        ssc.checkpoint(ckdir)

        def update(vals, state):
            return (state or 0) + sum(v[0] for v in vals)
        # W5 in ds runs on ds-reduce's per-batch sums: do the same here
        out = lines.map(user_bytes).reduceByKey(add2, 2) \
            .updateStateByKey(update, 2).map(lambda kv: (kv[0], (kv[1],)))
    elif workload == "w6":
        out = lines.flatMap(lambda l: l.split(" ")) \
            .map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b, 2) \
            .map(lambda kv: (kv[0], (kv[1],)))
    else:
        sys.exit("stream.py: unknown workload " + workload)

    sink.reset(nb, check is not None)
    out.foreachRDD(sink.sink)
    t0 = time.time()
    ssc.start()
    sink.done.wait()
    ssc.stop(stopSparkContext=False, stopGraceFully=False)
    secs = sink.end - t0
    print(json.dumps({"workload": workload, "records": records,
                      "batches": nb, "seconds": round(secs, 3),
                      "rss_mb": round(sink.rss_kb / 1024.0, 1),
                      "first_s": round(sink.stamps[0] - t0, 3)}),
          flush=True)

    if check is not None:
        path = os.path.join(check, workload + ".tsv")
        with open(path, "w", encoding="utf-8") as f:
            if workload == "w6":
                tot = {}
                for _, res in sink.results:
                    for k, v in res:
                        tot[k] = tot.get(k, 0) + v[0]
                for k, v in tot.items():
                    f.write("0\t%s\t%d\n" % (k, v))
            else:
                for i, res in sink.results:
                    for k, v in res:
                        f.write("%d\t%s\t%s\n" % (
                            i, k, "\t".join(str(x) for x in v)))


def main():
    args = sys.argv[1:]
    check = None
    batch_ms = 100
    while args and args[0].startswith("--"):
        if args[0] == "--check":
            check = args[1]
            args = args[2:]
        elif args[0] == "--batch-ms":
            batch_ms = int(args[1])
            args = args[2:]
        else:
            sys.exit(__doc__)
    if len(args) < 2:
        sys.exit(__doc__)
    data, workloads = args[0], args[1:]

    if workloads == ["w6"]:
        batches = split_text(data)
    elif "w6" in workloads:
        sys.exit("stream.py: w6 reads the text file: run it on its own")
    else:
        batches = split_log(data)

    conf = (SparkConf().setMaster("local[2]").setAppName("ds-bench")
            .set("spark.ui.enabled", "false")
            .set("spark.driver.memory", "2g")
            .set("spark.streaming.concurrentJobs", "1"))
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    # warm-up: start the Python workers before the clock starts
    sc.parallelize(range(100), 2).map(lambda x: x * 2).count()
    ckdir = tempfile.mkdtemp(prefix="ds-bench-spark-")
    try:
        for w in workloads:
            run(sc, w, batches, batch_ms, os.path.join(ckdir, w), check)
    finally:
        sc.stop()
        os.system("rm -rf '%s'" % ckdir)


if __name__ == "__main__":
    main()
