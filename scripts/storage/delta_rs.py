"""delta-rs (python `deltalake`) as a peer on the object stores, for test/object-storage/delta-rs.test.ts.

  python delta_rs.py write URI    writes two commits of known rows (the second an append)
  python delta_rs.py read URI     prints {"version": N, "rows": [...]} with the rows sorted

The store's address and credentials come from the same variables the CLI reads.
"""
import datetime
import json
import os
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake


def options(uri):
    if uri.startswith("s3://"):
        return {
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
            "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
            "AWS_ALLOW_HTTP": "true",
        }
    parts = dict(p.split("=", 1) for p in os.environ["AZURE_STORAGE_CONNECTION_STRING"].split(";") if "=" in p)
    return {
        "AZURE_STORAGE_ACCOUNT_NAME": parts["AccountName"],
        "AZURE_STORAGE_ACCOUNT_KEY": parts["AccountKey"],
        "AZURE_STORAGE_ENDPOINT": parts["BlobEndpoint"].rstrip("/"),
        "allow_http": "true",
    }


def batch(ids):
    utc = datetime.timezone.utc
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"name {i}" for i in ids], pa.string()),
        "score": pa.array([i * 1.5 for i in ids], pa.float64()),
        "day": pa.array([datetime.date(2024, 1, 1 + i % 3) for i in ids], pa.date32()),
        "at": pa.array([datetime.datetime(2024, 1, 1, 12, i, tzinfo=utc) for i in ids], pa.timestamp("us", tz="UTC")),
        "kind": pa.array(["even" if i % 2 == 0 else "odd" for i in ids], pa.string()),
    })


def main():
    command, uri = sys.argv[1], sys.argv[2]
    opts = options(uri)
    if command == "write":
        write_deltalake(uri, batch([1, 2, 3]), partition_by=["kind"], storage_options=opts)
        write_deltalake(uri, batch([4, 5]), mode="append", storage_options=opts)
        return
    table = DeltaTable(uri, storage_options=opts)
    rows = table.to_pyarrow_table().to_pylist()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, (datetime.date, datetime.datetime)):
                r[k] = v.isoformat()
    rows.sort(key=lambda r: r["id"])
    print(json.dumps({"version": table.version(), "rows": rows}))


# delta-rs's runtime threads can abort the interpreter's teardown ("terminate called without an active
# exception", delta-io/delta-rs#2184) after the work is done; leave without that teardown once output is out.
main()
sys.stdout.flush()
os._exit(0)
