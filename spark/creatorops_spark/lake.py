"""The lakehouse's Delta tables as the runner sees them: where each lives, their schemas (the same
Delta types as src/pipeline/tables.ts writes), and the log facts silver's bookkeeping needs — the
txn watermarks and what each bronze commit added — read through delta-spark's own log classes, so
any storage Spark reaches (local disk, S3, ADLS, DBFS) works alike."""
import json

from pyspark.sql import types as T

SILVER_APP_ID = "creatorops-silver"
BRONZE, SILVER, REJECTS, QUALITY = "bronze/events", "silver/events", "silver/rejects", "silver/quality"

STRING, LONG, DOUBLE, TS = T.StringType(), T.LongType(), T.DoubleType(), T.TimestampType()


def _struct(*fields):
    return T.StructType([T.StructField(n, t, True) for n, t in fields])


BRONZE_SCHEMA = _struct(("raw", STRING), ("batch_id", STRING), ("source", STRING), ("line_no", LONG), ("ingested_at", TS))
TYPED_FIELDS = [
    ("event_id", STRING), ("event_type", STRING), ("occurred_at", TS), ("creator_id", STRING), ("work_id", STRING),
    ("stage", STRING), ("words", LONG), ("duration_minutes", DOUBLE), ("words_changed", LONG), ("revision_no", LONG),
    ("reader_id", STRING), ("engagement_seconds", DOUBLE), ("progress_pct", DOUBLE), ("attributes", STRING),
]
SILVER_SCHEMA = _struct(*TYPED_FIELDS, ("batch_id", STRING), ("ingested_at", TS), ("event_date", T.DateType()))
REJECTS_SCHEMA = _struct(("raw", STRING), ("event_id", STRING), ("stage", STRING), ("reasons", T.ArrayType(STRING, True)),
                         ("errors", T.ArrayType(STRING, True)), ("batch_id", STRING), ("ingested_at", TS), ("rejected_at", TS))
QUALITY_SCHEMA = _struct(("batch_id", STRING), ("expectation", STRING), ("action", STRING), ("passed", LONG), ("failed", LONG))


class LakeError(RuntimeError):
    pass


class Lake:
    def __init__(self, spark, root: str):
        self.spark = spark
        self.root = root.rstrip("/")
        self.jvm = spark._jvm
        self._none = self.jvm.scala.Option.empty()

    def path(self, table: str) -> str:
        return f"{self.root}/{table}"

    def _log(self, table: str):
        return self.jvm.org.apache.spark.sql.delta.DeltaLog.forTable(self.spark._jsparkSession, self.path(table))

    def version(self, table: str) -> int:
        """The table's latest version; -1 when it does not exist yet."""
        return int(self._log(table).update(False, self._none, self._none).version())

    def watermark(self, table: str) -> int:
        """The last bronze version the table has taken in (its txn for silver); -1 for none."""
        snap = self._log(table).update(False, self._none, self._none)
        if snap.version() < 0:
            return -1
        v = snap.transactions().get(SILVER_APP_ID)
        return int(v.get()) if v.isDefined() else -1

    def commit(self, table: str, version: int) -> list:
        """The actions of one commit, as dicts."""
        log = self._log(table)
        conf = self.spark._jsparkSession.sessionState().newHadoopConf()
        path = self.jvm.org.apache.hadoop.fs.Path(log.logPath(), f"{version:020d}.json")
        text = log.store().read(path, conf).mkString("\n")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def read(self, table: str, version: int | None = None):
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(self.path(table))


def is_batch(actions: list) -> bool:
    """A bronze commit is a batch when it adds data, or adds and removes nothing (an empty batch);
    OPTIMIZE's rewrite (all dataChange false) moves rows already taken in (silver.ts isBatch)."""
    if any("add" in a and a["add"].get("dataChange") is not False for a in actions):
        return True
    return not any(("add" in a and a["add"].get("dataChange") is False) or ("remove" in a and a["remove"].get("dataChange") is False) for a in actions)
