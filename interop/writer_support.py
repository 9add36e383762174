"""What the writer tests share: a table's rows as each engine reads them, in one comparable form,
and the files of a table (to show a refused write left nothing behind)."""
import datetime as dt
import decimal
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, QueryBuilder
from deltalake.exceptions import DeltaProtocolError

from conftest import cli_rows


def _value(v):
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    return v


def _sorted(rows):
    rows = [{k: _value(v) for k, v in r.items()} for r in rows]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def spark_rows(spark, path, version=None):
    """Spark's rows, timestamps formatted in UTC by Spark itself (Python would apply its local zone)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    df = reader.load(str(path))
    cols = [
        F.date_format(F.col(f.name), "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").alias(f.name) if isinstance(f.dataType, TimestampType) else F.col(f.name)
        for f in df.schema.fields
    ]
    return _sorted(r.asDict() for r in df.select(*cols).collect())


def rs_rows(path, version=None):
    table = DeltaTable(str(path), version=version) if version is not None else DeltaTable(str(path))
    try:
        return _sorted(table.to_pyarrow_table().to_pylist())
    except DeltaProtocolError:
        # delta-rs's pyarrow path refuses some reader features (deletion vectors); its DataFusion path reads them.
        return _sorted(pa.table(QueryBuilder().register("t", table).execute("SELECT * FROM t").read_all()).to_pylist())


def our_rows(path, version=None):
    return _sorted(cli_rows(str(path), version))


def files_of(path):
    """Every file below a table folder, with its size: equal before and after means nothing was written."""
    root = Path(path)
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file())


def commit(path, version):
    """The actions of one commit, as dicts."""
    text = (Path(path) / "_delta_log" / f"{version:020d}.json").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def latest_version(path):
    names = os.listdir(Path(path) / "_delta_log")
    return max(int(n[:20]) for n in names if n.endswith(".json") and n[:20].isdigit())


def write_parquet(path, rows, schema):
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), str(path))
    return path
