#!/usr/bin/env python3
"""mongo-q.py URI CMD ...: an independent MongoDB client (pymongo) for the
ds-sink-mongo tests and the W8 bench, so nothing is checked through the
sink itself.

  ping                      exit 0 when the server answers
  find DB COLL [FILTER]     documents as compact JSON lines, sorted by
                            _id, without _id and _ds_seq
  count DB COLL             number of documents
  indexes DB COLL           each index key as "f:1,g:-1", sorted
  progress DB ID            the sink's recorded seq for ID (0: none)
  drop DB                   drop the database
  perinsert DB COLL         bench peer: one insert_one per stdin record
  perrecord DB COLL KEY     bench peer: one update_one($set, upsert) per
                            stdin record, a new client per record when
                            NEWCLIENT=1 (the seeds' anti-pattern)
"""
import json
import os
import sys

import pymongo
from bson import json_util


def client(uri):
    return pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)


def main():
    uri, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    c = client(uri)
    if cmd == "ping":
        c.admin.command("ping")
    elif cmd == "find":
        flt = json.loads(args[2]) if len(args) > 2 else {}
        docs = list(c[args[0]][args[1]].find(flt))
        docs.sort(key=lambda d: json_util.dumps(d.get("_id")))
        for d in docs:
            d.pop("_id", None)
            d.pop("_ds_seq", None)
            d.pop("_ds_stream", None)
            print(json.dumps(json.loads(json_util.dumps(
                d, json_options=json_util.RELAXED_JSON_OPTIONS)),
                separators=(",", ":"), sort_keys=True))
    elif cmd == "ids":
        for d in c[args[0]][args[1]].find({}, {"_id": 1}):
            print(json_util.dumps(d["_id"]))
    elif cmd == "count":
        print(c[args[0]][args[1]].count_documents({}))
    elif cmd == "indexes":
        out = []
        for ix in c[args[0]][args[1]].list_indexes():
            out.append(",".join("%s:%s" % (k, int(v))
                                for k, v in ix["key"].items()))
        print("\n".join(sorted(out)))
    elif cmd == "progress":
        d = c[args[0]]["ds_progress"].find_one({"_id": args[1]})
        print(d["seq"] if d else 0)
    elif cmd == "drop":
        c.drop_database(args[0])
    elif cmd == "perrecord":
        db, coll, key = args
        for line in sys.stdin:
            r = json.loads(line)
            cl = client(uri) if os.environ.get("NEWCLIENT") else c
            cl[db][coll].update_one({key: r[key]}, {"$set": r},
                                    upsert=True)
            if cl is not c:
                cl.close()
    elif cmd == "perinsert":
        db, coll = args
        for line in sys.stdin:
            c[db][coll].insert_one(json.loads(line))
    else:
        sys.exit("mongo-q.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
