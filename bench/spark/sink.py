"""The foreachRDD sink of stream.py, in its own module.

Spark checkpoints the DStream graph, functions included, when
checkpointing is on (W4, W5); a function of an importable module is
pickled by reference, so the sink's state (a threading.Event, the
results) stays out of the checkpoint.
"""

import os
import threading
import time

nb = 0				# data batches to wait for
keep = False			# keep results (--check)
n = 0				# batches output so far
end = None			# time of the last data batch's output
rss_kb = 0
stamps = []			# output time of each batch
results = []			# (batch, collected records) with keep
done = threading.Event()


def reset(nbatches, keep_results):
    global nb, keep, n, end, rss_kb
    nb, keep, n, end, rss_kb = nbatches, keep_results, 0, None, 0
    del stamps[:]
    del results[:]
    done.clear()


def tree_hwm_kb(pid):
    """Sum of VmHWM (peak RSS) over pid and its descendants, in kB."""
    total = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                for c in f.read().split():
                    total += tree_hwm_kb(int(c))
    except OSError:
        pass
    return total


def sink(t, rdd):
    global n, end, rss_kb
    res = rdd.collect()
    n += 1
    stamps.append(time.time())
    if keep and n <= nb:
        results.append((n, res))
    if n == nb:
        end = time.time()
        rss_kb = tree_hwm_kb(os.getpid())
        done.set()
