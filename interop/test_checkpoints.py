"""Checkpoints on foreign tables: Spark makes a table (V2 checkpoints with sidecars, or classic
checkpoints of a clustered table), this project's writer appends past a checkpoint boundary and
writes its checkpoint, then Spark, delta-rs and this project read every version alike, and Spark
reads the table from our checkpoint alone."""
import json
import shutil
import subprocess

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, QueryBuilder

from conftest import ROOT, cli_rows

CHECKPOINT_10 = "00000000000000000010.checkpoint.parquet"


def append_ours(path, first_batch, batches):
    proc = subprocess.run(["npx", "tsx", "interop/append.ts", str(path), str(first_batch), str(batches)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [int(v) for v in proc.stdout.split()]


def spark_table(spark, path, properties, cluster=False):
    """Version 0 creates the table, 1..7 insert three rows each (checkpoint at 5, interval 5)."""
    props = {"delta.checkpointInterval": "5", "delta.enableDeletionVectors": "false", **properties}
    props_sql = ", ".join(f"'{k}' = '{v}'" for k, v in props.items())
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, value STRING, part INT) USING delta"
              f"{' CLUSTER BY (id)' if cluster else ''} TBLPROPERTIES ({props_sql})")
    for b in range(1, 8):
        rows = ", ".join(f"({b * 10 + i}, 'spark_{b * 10 + i}', {i})" for i in range(3))
        spark.sql(f"INSERT INTO delta.`{path}` VALUES {rows}")


def fresh(spark):
    spark._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()


def rows_spark(spark, path, version):
    df = spark.read.format("delta").option("versionAsOf", version).load(str(path))
    return sorted((r.id, r.value, r.part) for r in df.collect())


def rows_delta_rs(path, version):
    # Through DataFusion: delta-rs's pyarrow path refuses the v2Checkpoint reader feature.
    t = QueryBuilder().register("t", DeltaTable(str(path), version=version)).execute("SELECT id, value, part FROM t").read_all()
    return sorted(zip(t["id"].to_pylist(), t["value"].to_pylist(), t["part"].to_pylist()))


def rows_ours(path, version):
    return sorted((int(r["id"]), r["value"], r["part"]) for r in cli_rows(path, version))


def only_our_checkpoint(path, tmp_path):
    """A copy of the table whose log starts at our checkpoint: nothing older to fall back on."""
    copy = tmp_path / "from-our-checkpoint"
    shutil.copytree(path, copy)
    log = copy / "_delta_log"
    for f in log.iterdir():
        if f.name[:20].isdigit() and int(f.name[:20]) < 10 or f.name == "_sidecars" or ".checkpoint." in f.name and f.name != CHECKPOINT_10:
            shutil.rmtree(f) if f.is_dir() else f.unlink()
    return copy


def check_every_version(spark, path, latest):
    fresh(spark)
    for v in range(latest + 1):
        expected = rows_spark(spark, path, v)
        assert rows_delta_rs(path, v) == expected, f"delta-rs at version {v}"
        assert rows_ours(path, v) == expected, f"ours at version {v}"
    return expected


def test_v2_checkpoint_table(spark, tmp_path):
    path = tmp_path / "v2"
    spark.conf.set("spark.databricks.delta.checkpointV2.topLevelFileFormat", "json")
    try:
        spark_table(spark, path, {"delta.checkpointPolicy": "v2"})
    finally:
        spark.conf.unset("spark.databricks.delta.checkpointV2.topLevelFileFormat")
    log = path / "_delta_log"
    assert [f.name for f in log.glob("00000000000000000005.checkpoint.*.json")], "Spark wrote a UUID-named V2 checkpoint"
    assert append_ours(path, 8, 5) == [8, 9, 10, 11, 12]

    cp = pq.read_table(log / CHECKPOINT_10)
    assert [m for m in cp.column("checkpointMetadata").to_pylist() if m] == [{"version": 10, "tags": None}]
    assert "sidecar" not in cp.column_names
    last = json.loads((log / "_last_checkpoint").read_text())
    assert (last["version"], "parts" in last, "v2Checkpoint" in last) == (10, False, False)

    latest = check_every_version(spark, path, 12)
    assert len(latest) == 36

    copy = only_our_checkpoint(path, tmp_path)
    fresh(spark)
    assert sorted(r[:3] for r in spark.read.format("delta").load(str(copy)).collect()) == latest
    assert rows_delta_rs(copy, 12) == latest
    # Spark goes on from our checkpoint: its own commits, and its checkpoint at 15 built on ours.
    for b in range(13, 16):
        spark.sql(f"INSERT INTO delta.`{copy}` VALUES ({b * 10}, 'spark_{b * 10}', 0)")
    assert any((copy / "_delta_log").glob("00000000000000000015.checkpoint.*"))
    fresh(spark)
    assert spark.read.format("delta").load(str(copy)).count() == 39
    assert len(rows_ours(copy, 15)) == 39


def test_clustered_table_keeps_its_domain_metadata(spark, tmp_path):
    path = tmp_path / "clustered"
    spark_table(spark, path, {}, cluster=True)
    assert append_ours(path, 8, 3) == [8, 9, 10]
    cp = pq.read_table(path / "_delta_log" / CHECKPOINT_10)
    domains = [d for d in cp.column("domainMetadata").to_pylist() if d]
    assert [d["domain"] for d in domains] == ["delta.clustering"]
    latest = check_every_version(spark, path, 10)

    copy = only_our_checkpoint(path, tmp_path)
    fresh(spark)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{copy}`").collect()[0]
    assert list(detail.clusteringColumns) == ["id"]
    assert sorted(r[:3] for r in spark.read.format("delta").load(str(copy)).collect()) == latest
