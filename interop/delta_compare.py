"""One Delta table read by three engines — this project, Spark and delta-rs — at every version of
its log, brought to one form so that they can be compared exactly.

Values are normalised by the table's Delta type: longs and decimals exact, doubles as Python floats
(NaN as the text "NaN"), timestamps as UTC ISO text with microseconds, dates as ISO text, binary
as base64, arrays as tuples. A row is a tuple in schema order; a version's rows a Counter.
"""
import base64
import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from functools import reduce
from pathlib import Path
from urllib.parse import unquote

from conftest import ROOT, TSX

VERSIONS_SCRIPT = "scripts/interop/versions.ts"


# --- this project's side -----------------------------------------------------------------------

@dataclass
class OurVersion:
    version: int
    schema: dict
    partition_columns: list
    files: list
    file_records: list  # rows in each file, from its stats
    rows: list | None  # None when the version cannot be read
    error: str | None


@dataclass
class OurTable:
    path: str
    history: list = field(default_factory=list)
    versions: dict = field(default_factory=dict)


def our_tables(root, tables=()):
    """Every version of every table below `root` as this project reads it (scripts/interop/versions.ts:
    the code path of `cli read --version N`, one process for all)."""
    proc = subprocess.run(
        [*TSX, VERSIONS_SCRIPT, str(root), *tables], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "LAKEHOUSE_CHECK_THREADS": "0"},
    )
    if proc.returncode != 0:
        raise AssertionError(f"{VERSIONS_SCRIPT} {root} failed ({proc.returncode}): {proc.stderr.strip()}")
    out = {}
    for line in proc.stdout.splitlines():
        rec = json.loads(line, parse_float=Decimal)
        t = out.setdefault(rec["table"], OurTable(rec["table"]))
        if "history" in rec:
            t.history = rec["history"]
        else:
            t.versions[rec["version"]] = OurVersion(
                rec["version"], rec["schema"], rec["partitionColumns"], rec["files"], rec["fileRecords"], rec.get("rows"),
                rec.get("error"))
    return out


# --- normalisation -----------------------------------------------------------------------------

def _iso_ts(d: datetime, utc: bool) -> str:
    if utc:
        if d.tzinfo is None:
            raise AssertionError(f"a timestamp column came back without a time zone: {d!r}")
        d = d.astimezone(timezone.utc)
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}.{d.microsecond:06d}"
    return text + "Z" if utc else text


def norm(value, dtype):
    """A value read by any of the engines, as comparable Python, by its Delta type."""
    if value is None:
        return None
    if isinstance(dtype, dict):
        kind = dtype["type"]
        if kind == "array":
            return tuple(norm(v, dtype["elementType"]) for v in value)
        if kind == "struct":
            return tuple(norm(value.get(f["name"]), f["type"]) for f in dtype["fields"])
        raise AssertionError(f"no comparison for Delta type {kind} (no table here has one)")
    if dtype == "string":
        assert isinstance(value, str), (dtype, value)
        return value
    if dtype in ("long", "integer", "short", "byte"):
        assert isinstance(value, int) and not isinstance(value, bool), (dtype, value)
        return value
    if dtype in ("double", "float"):
        if isinstance(value, str):  # ours writes non-finite doubles as text
            value = float(value)
        f = float(value)
        return "NaN" if f != f else f
    if dtype == "boolean":
        assert isinstance(value, bool), (dtype, value)
        return value
    if dtype == "date":
        return value if isinstance(value, str) else value.isoformat()
    if dtype == "timestamp":
        return value if isinstance(value, str) else _iso_ts(value, utc=True)
    if dtype == "timestamp_ntz":
        return value if isinstance(value, str) else _iso_ts(value, utc=False)
    if dtype.startswith("decimal"):
        scale = int(dtype.rstrip(")").split(",")[1])
        return Decimal(value).quantize(Decimal(1).scaleb(-scale))
    if dtype == "binary":
        return value if isinstance(value, str) else base64.b64encode(bytes(value)).decode()
    raise AssertionError(f"no comparison for Delta type {dtype}")


def row_tuple(row: dict, schema: dict) -> tuple:
    return tuple(norm(row[f["name"]], f["type"]) for f in schema["fields"])


def rows_of(rows, schema) -> Counter:
    return Counter(row_tuple(r, schema) for r in rows)


def fields_of(schema: dict) -> list:
    """name, type, nullable of each column (the metadata maps are left out)."""
    return [(f["name"], f["type"], f["nullable"]) for f in schema["fields"]]


def assert_same_rows(engine: str, table: str, version: int, theirs: Counter, ours: Counter):
    if theirs == ours:
        return
    missing = list((ours - theirs).elements())[:3]
    extra = list((theirs - ours).elements())[:3]
    raise AssertionError(
        f"{engine} reads {table} at version {version} differently from us: {sum(theirs.values())} rows vs our "
        f"{sum(ours.values())}; ours only (first 3): {missing}; {engine}'s only (first 3): {extra}")


# --- the other engines -------------------------------------------------------------------------

def spark_frame(spark, path, version):
    return spark.read.format("delta").option("versionAsOf", version).load(str(path))


def spark_rows_by_version(spark, frames: dict) -> tuple[dict, dict]:
    """The rows of several versions of one table in one Spark job (a union tagged by version), as
    dicts from Arrow (timestamps come with their zone), and the data files Spark read them from
    (`_metadata.file_path`, by version: a set of local paths)."""
    from pyspark.sql.functions import col, lit

    rows = {v: [] for v in frames}
    files = {v: set() for v in frames}
    if not frames:
        return rows, files
    tagged = [df.select("*", lit(v).alias("__version"), col("_metadata.file_path").alias("__file")) for v, df in sorted(frames.items())]
    for r in reduce(lambda a, b: a.unionByName(b), tagged).toArrow().to_pylist():
        v = r.pop("__version")
        files[v].add(uri_path(r.pop("__file")))
        rows[v].append(r)
    return rows, files


def uri_path(uri: str) -> str:
    """A file URI or path as a plain local path."""
    if uri.startswith("file:"):
        uri = uri[len("file:"):]
        if uri.startswith("//"):
            uri = uri[2:]
    return os.path.normpath(unquote(uri))


def local_files(table_dir, relative_paths) -> Counter:
    return Counter(os.path.normpath(os.path.join(str(table_dir), p)) for p in relative_paths)


def commit_mtimes_ms(table_dir) -> dict:
    """Each commit file's modification time (ms), as Spark's history shows it: Delta without
    in-commit timestamps takes a commit's time from its file, made strictly increasing."""
    log = Path(table_dir) / "_delta_log"
    out, last = {}, None
    for p in sorted(log.glob("[0-9]" * 20 + ".json")):
        ms = p.stat().st_mtime_ns // 1_000_000
        if last is not None and ms <= last:
            ms = last + 1
        out[int(p.name[:20])] = last = ms
    return out
