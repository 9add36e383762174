"""The contract check as a Spark stage: bronze rows (Arrow batches) in, one row out per line with
its outcome — the typed event, or the reject's stage, event_id, reasons and errors. Runs on the
executors (mapInArrow), one Contract per partition."""
import pyarrow as pa
from pyspark.sql import types as T

from .contract import Contract
from .lake import TYPED_FIELDS

CHECKED_SCHEMA = T.StructType(
    [T.StructField("line_no", T.LongType()), T.StructField("ingested_at", T.TimestampType()),
     T.StructField("batch_id", T.StringType()), T.StructField("outcome", T.StringType()),
     T.StructField("raw", T.StringType()), T.StructField("reject_event_id", T.StringType()),
     T.StructField("reasons", T.ArrayType(T.StringType())), T.StructField("errors", T.ArrayType(T.StringType()))]
    + [T.StructField(n, t) for n, t in TYPED_FIELDS]
)

_ARROW = {T.StringType(): pa.string(), T.LongType(): pa.int64(), T.DoubleType(): pa.float64(),
          T.TimestampType(): pa.timestamp("us", tz="UTC")}


def _arrow_type(t):
    return pa.list_(pa.string()) if isinstance(t, T.ArrayType) else _ARROW[t]


ARROW_SCHEMA = pa.schema([pa.field(f.name, _arrow_type(f.dataType)) for f in CHECKED_SCHEMA.fields])
_TYPED = [n for n, _ in TYPED_FIELDS]


def checker(schema: dict, keep_raw: bool):
    """The mapInArrow function: `keep_raw` keeps the raw text of accepted lines too (an expectation reads raw)."""

    def check(batches):
        contract = Contract(schema)
        for b in batches:
            raws = b.column("raw").to_pylist()
            lines = b.column("line_no").to_pylist()
            cols = {n: [] for n in ("outcome", "raw", "reject_event_id", "reasons", "errors", *_TYPED)}
            for raw, line in zip(raws, lines):
                r = contract.check(raw if raw is not None else "", line)
                cols["outcome"].append(r[0])
                if r[0] == "ok":
                    ev = r[1]
                    for n in _TYPED:
                        cols[n].append(ev[n])
                    cols["raw"].append(raw if keep_raw else None)
                    cols["reject_event_id"].append(None)
                    cols["reasons"].append(None)
                    cols["errors"].append(None)
                else:
                    for n in _TYPED:
                        cols[n].append(None)
                    cols["raw"].append(raw)
                    cols["reject_event_id"].append(r[1])
                    cols["reasons"].append(r[2])
                    cols["errors"].append(r[3])
            arrays = [b.column("line_no"), b.column("ingested_at").cast(pa.timestamp("us", tz="UTC")), b.column("batch_id")]
            arrays += [pa.array(cols[f.name], type=f.type) for f in list(ARROW_SCHEMA)[3:]]
            yield pa.RecordBatch.from_arrays(arrays, schema=ARROW_SCHEMA)

    return check
