"""Gold on Spark: every sql/gold model (translated by sql.py) over silver/events at one version,
each overwriting gold/<model> as a new version, as src/pipeline/lakehouse.ts refreshGold does. Gold
computed from a silver that has moved on since is not written: the refresh starts over."""

from .lake import SILVER

# src/pipeline/lineage.ts GOLD_INPUT_APP_ID
GOLD_INPUT_APP_ID = f"creatorops-gold:{SILVER}"

ATTEMPTS = 8


class SilverMoved(RuntimeError):
    pass


def refresh_gold(lake, project, progress) -> list:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _refresh(lake, project, progress)
        except SilverMoved as e:
            if attempt == ATTEMPTS:
                raise
            progress("gold", 0, len(project.gold_sql), f"{e}; recomputing (attempt {attempt + 1})")


def _refresh(lake, project, progress) -> list:
    spark = lake.spark
    silver_version = lake.version(SILVER)
    if silver_version < 0:
        raise RuntimeError(f"{lake.path(SILVER)} does not exist: gold needs silver/events (run a batch first)")
    lake.read(SILVER, silver_version).createOrReplaceTempView("silver_events")
    out = []
    names = list(project.gold_sql)
    for i, name in enumerate(names):
        progress("gold", i, len(names), name)
        # A KPI table is small (a row per day, stage, band or work): computed once, written as one
        # file with its rows in the model's order.
        result = spark.sql(project.gold_sql[name])
        rows = result.collect()
        df = spark.createDataFrame(rows, result.schema).coalesce(1)
        table = f"gold/{name}"
        latest = lake.version(SILVER)
        if latest != silver_version:
            raise SilverMoved(f"silver/events moved from version {silver_version} to {latest} while gold was computed")
        # The silver version gold was computed from, as a txn like our writer's (src/pipeline/gold.ts),
        # so that `cli status` and the page see this gold as up to date. delta-spark skips the write
        # when the table already records that version or a later one, as refreshGold does.
        (df.write.format("delta").mode("overwrite")
            .option("userMetadata", f'{{"source":"sql/gold/{name}.sql","inputs":[{{"table":"{SILVER}","version":{silver_version}}}]}}')
            .option("txnAppId", GOLD_INPUT_APP_ID).option("txnVersion", silver_version)
            .save(lake.path(table)))
        out.append({"table": table, "version": lake.version(table), "rows": len(rows)})
    progress("gold", len(names), len(names), None)
    return out


