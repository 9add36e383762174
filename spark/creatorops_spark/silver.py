"""Silver on Spark, step for step as src/pipeline/silver.ts: every bronze version that silver has
not taken in yet (the `txn` watermark of each silver table), in order — the contract check, the
expectations (warn / drop / fail), deduplication against silver and within the batch, then one
commit each to silver/rejects, silver/quality and silver/events carrying txn(creatorops-silver, v)."""
import time
from datetime import datetime, timezone
from urllib.parse import unquote

from pyspark import StorageLevel
from pyspark.sql import Window
from pyspark.sql import functions as F

from .check import CHECKED_SCHEMA, checker
from .lake import (BRONZE, BRONZE_SCHEMA, QUALITY, QUALITY_SCHEMA, REJECTS, REJECTS_SCHEMA, SILVER, SILVER_APP_ID,
                   SILVER_SCHEMA, LakeError, is_batch)

STAGES = ("parse", "schema", "expectation", "duplicate")


class ExpectationFailed(RuntimeError):
    code = "EXPECTATION_FAILED"

    def __init__(self, result):
        f = result["failed"]
        raw = f["sampleRaw"]
        super().__init__(
            f"batch {result['batchId']} stopped: expectation {f['expectation']} (action fail) was violated by {f['rows']} "
            f"row{'' if f['rows'] == 1 else 's'}, e.g. line {f['sampleLineNo']}: {raw[:200] + '…' if len(raw) > 200 else raw}; "
            "its raw rows stay in bronze, and nothing of it reached silver, rejects or gold")
        self.result = result


def _mentions(expr: str, name: str) -> bool:
    import re
    return re.search(rf"(^|[^A-Za-z0-9_]){name}($|[^A-Za-z0-9_])", expr, re.I) is not None


def process_pending(lake, project, progress, results: list) -> list:
    if lake.version(BRONZE) < 0:
        return results
    marks = {t: lake.watermark(t) for t in (SILVER, REJECTS, QUALITY)}
    latest = lake.version(BRONZE)
    for v in range(min(marks.values()) + 1, latest + 1):
        actions = lake.commit(BRONZE, v)
        if not is_batch(actions):
            continue
        pending = {t: v > m for t, m in marks.items()}
        result = _batch(lake, project, progress, v, actions, pending)
        results.append(result)
        if result.get("failed"):
            raise ExpectationFailed(result)
    return results


def _bronze_rows(lake, actions):
    spark = lake.spark
    adds = [a["add"] for a in actions if "add" in a]
    for a in adds:
        if a.get("deletionVector"):
            raise LakeError(f"{lake.path(BRONZE)}: file {a['path']} has a deletion vector; bronze is append-only and the runner reads its files as written")
    files = [f"{lake.path(BRONZE)}/{unquote(a['path'])}" for a in adds]
    if not files:
        return spark.createDataFrame([], BRONZE_SCHEMA)
    return spark.read.schema(BRONZE_SCHEMA).parquet(*files)


def _batch(lake, project, progress, version, actions, pending):
    spark = lake.spark
    started = time.time()
    exps = project.expectations
    rejected_at = datetime.now(timezone.utc)
    bronze = _bronze_rows(lake, actions)
    keep_raw = any(_mentions(e.expr, "raw") for e in exps)
    checked = bronze.select("raw", "line_no", "ingested_at", "batch_id").mapInArrow(checker(project.schema, keep_raw), CHECKED_SCHEMA)
    checked = checked.persist(StorageLevel.MEMORY_AND_DISK)
    progress("silver", 0, None, f"bronze v{version}: checking lines against the contract")

    typed = checked.where(F.col("outcome") == "ok").withColumn("event_date", F.to_date("occurred_at"))
    flags = [F.coalesce(F.expr(e.spark_expr), F.lit(False)).alias(f"__exp_{i}") for i, e in enumerate(exps)]
    flagged = typed.select("*", *flags).persist(StorageLevel.MEMORY_AND_DISK)
    aggs = [F.count(F.lit(1)).alias("typed"), F.first("batch_id", ignorenulls=True).alias("batch_id")]
    for i in range(len(exps)):
        aggs += [F.count(F.when(F.col(f"__exp_{i}"), 1)).alias(f"p{i}"), F.count(F.when(~F.col(f"__exp_{i}"), 1)).alias(f"f{i}")]
    counts = flagged.agg(*aggs).first()
    early = checked.where(F.col("outcome") != "ok")
    early_counts = early.agg(F.count(F.lit(1)).alias("n"), F.first("batch_id", ignorenulls=True).alias("batch_id")).first()
    bronze_rows = counts["typed"] + early_counts["n"]
    batch_id = counts["batch_id"] or early_counts["batch_id"] or ""
    progress("silver", 0, bronze_rows, f"bronze v{version}: {bronze_rows:,} lines checked, expectations evaluated")

    quality = [{"expectation": e.name, "action": e.action, "passed": counts[f"p{i}"], "failed": counts[f"f{i}"]} for i, e in enumerate(exps)]
    result = {"batchId": batch_id, "bronzeVersion": version, "bronzeRows": bronze_rows, "silverRows": 0, "rejectedRows": 0,
              "rejectsByStage": {s: 0 for s in STAGES}, "rejectsByReason": {},
              "warnings": {q["expectation"]: q["failed"] for q in quality if q["action"] == "warn" and q["failed"] > 0}}
    quality_df = spark.createDataFrame([(batch_id, q["expectation"], q["action"], q["passed"], q["failed"]) for q in quality], QUALITY_SCHEMA)
    failing = next((i for i, q in enumerate(quality) if q["action"] == "fail" and q["failed"] > 0), None)

    try:
        if failing is not None:
            line = flagged.where(~F.col(f"__exp_{failing}")).agg(F.min("line_no")).first()[0]
            raw = bronze.where(F.col("line_no") == line).select("raw").first()[0] or ""
            result["failed"] = {"expectation": exps[failing].name, "rows": quality[failing]["failed"], "sampleLineNo": line, "sampleRaw": raw}
            if pending[QUALITY]:
                _append(lake, QUALITY, quality_df, version, batch_id)
            if pending[REJECTS]:
                _append(lake, REJECTS, spark.createDataFrame([], REJECTS_SCHEMA), version, batch_id)
            if pending[SILVER]:
                _append(lake, SILVER, spark.createDataFrame([], SILVER_SCHEMA), version, batch_id)
            return result

        late = _late_rejects(lake, exps, flagged, batch_id).persist(StorageLevel.MEMORY_AND_DISK)
        late_full = late.join(bronze.select("line_no", "raw"), "line_no", "left")
        rejects = early.select(
            "raw", F.col("reject_event_id").alias("event_id"), F.col("outcome").alias("stage"), "reasons", "errors", "batch_id", "ingested_at",
        ).unionByName(late_full.select("raw", "event_id", "stage", "reasons", "errors", "batch_id", "ingested_at"))
        rejects = rejects.withColumn("rejected_at", F.lit(rejected_at).cast("timestamp"))
        by_stage = rejects.groupBy("stage").count().collect()
        by_reason = rejects.select(F.explode("reasons").alias("r")).groupBy("r").count().collect()
        for row in by_stage:
            result["rejectsByStage"][row["stage"]] = row["count"]
        result["rejectsByReason"] = {row["r"]: row["count"] for row in sorted(by_reason, key=lambda r: r["r"])}
        late_n = sum(result["rejectsByStage"][s] for s in ("expectation", "duplicate"))
        result["rejectedRows"] = early_counts["n"] + late_n
        result["silverRows"] = counts["typed"] - late_n

        if pending[REJECTS]:
            _append(lake, REJECTS, rejects, version, batch_id)
        if pending[QUALITY]:
            _append(lake, QUALITY, quality_df, version, batch_id)
        if pending[SILVER]:
            events = flagged.join(late.select("line_no"), "line_no", "left_anti")
            _append(lake, SILVER, events, version, batch_id)
        progress("silver", bronze_rows, bronze_rows, f"bronze v{version}: {result['silverRows']:,} accepted, {result['rejectedRows']:,} rejected ({time.time() - started:.1f} s)")
        late.unpersist()
        return result
    finally:
        flagged.unpersist()
        checked.unpersist()


def _late_rejects(lake, exps, flagged, batch_id):
    """Rows that broke a drop rule, or repeat an event_id of silver's other batches or of an earlier
    line of this batch (silver.ts lateRejects)."""
    drops = [(i, e) for i, e in enumerate(exps) if e.action == "drop"]
    broke = {i: ~F.col(f"__exp_{i}") for i, _ in drops}
    dropped = F.lit(False)
    for c in broke.values():
        dropped = dropped | c
    when_iso = F.date_format("occurred_at", "yyyy-MM-dd'T'HH:mm:ss'Z'")
    reasons = F.filter(F.array(*[F.when(broke[i], F.lit(e.name)) for i, e in drops]), lambda x: x.isNotNull()) if drops else F.array().cast("array<string>")
    errors = F.filter(F.array(*[F.when(broke[i], F.concat(F.lit(f"expectation {e.name} failed: requires {e.expr} (event "), F.col("event_id"),
                                                          F.lit(", occurred_at "), when_iso, F.lit(")"))) for i, e in drops]),
                      lambda x: x.isNotNull()) if drops else F.array().cast("array<string>")
    cols = ["line_no", "event_id", "batch_id", "ingested_at"]
    by_rule = flagged.where(dropped).select(*cols, F.lit("expectation").alias("stage"), reasons.alias("reasons"), errors.alias("errors"))

    kept = flagged.where(~dropped).select(*cols)
    silver = lake.read(SILVER).select("event_id", F.col("batch_id").alias("prior_batch")) if lake.version(SILVER) >= 0 else None
    if silver is not None:
        prior = kept.join(silver.where(F.col("prior_batch") != F.lit(batch_id)), "event_id", "inner")
    else:
        prior = kept.withColumn("prior_batch", F.lit(None).cast("string")).where(F.lit(False))
    w = Window.partitionBy("event_id")
    repeated = (kept.withColumn("n", F.count(F.lit(1)).over(w)).where(F.col("n") > 1)
                .withColumn("occurrence", F.row_number().over(w.orderBy("line_no")))
                .withColumn("first_line", F.min("line_no").over(w))
                .where(F.col("occurrence") > 1)
                .join(prior.select("line_no"), "line_no", "left_anti"))
    dup_prior = prior.select(*cols, F.lit("duplicate").alias("stage"), F.array(F.lit("duplicate_event_id")).alias("reasons"),
                             F.array(F.concat(F.lit("/event_id: "), F.col("event_id"), F.lit(" was already accepted in batch "), F.col("prior_batch"))).alias("errors"))
    dup_batch = repeated.select(*cols, F.lit("duplicate").alias("stage"), F.array(F.lit("duplicate_event_id")).alias("reasons"),
                                F.array(F.concat(F.lit("/event_id: "), F.col("event_id"), F.lit(" already appeared at line "), F.col("first_line").cast("string"), F.lit(" of this batch"))).alias("errors"))
    return by_rule.unionByName(dup_prior).unionByName(dup_batch)


def _append(lake, table, df, version, batch_id):
    schema = {REJECTS: REJECTS_SCHEMA, QUALITY: QUALITY_SCHEMA, SILVER: SILVER_SCHEMA}[table]
    out = df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])
    (out.write.format("delta").mode("append")
        .option("txnAppId", SILVER_APP_ID).option("txnVersion", version)
        .option("userMetadata", f'{{"batchId":"{batch_id}"}}')
        .save(lake.path(table)))
