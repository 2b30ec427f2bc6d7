"""W8's peer: one request per record, the seeds' anti-pattern.

usage: mongo_loop.py URI DB COLL load N < records.ndjson
       mongo_loop.py URI DB COLL count|drop

load: merges each of the first N records into the document of its user
(_id = user, as ds-sink-mongo --key user does) with its own
update_one($set, upsert) -- one round trip a record, over
one client (the seeds even opened a connection per record).
"""

import json
import sys

from pymongo import MongoClient


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    uri, db, coll, cmd = sys.argv[1:5]
    c = MongoClient(uri)[db][coll]
    if cmd == "drop":
        c.drop()
    elif cmd == "count":
        print(c.count_documents({}))
    elif cmd == "load":
        n = int(sys.argv[5])
        for i, line in enumerate(sys.stdin):
            if i >= n:
                break
            d = json.loads(line)
            c.update_one({"_id": d["user"]}, {"$set": d}, upsert=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
