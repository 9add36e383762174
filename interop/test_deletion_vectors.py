"""Tables with deletion vectors, written by Spark, after this project's OPTIMIZE or VACUUM: Spark
still reads exactly the rows it read before, and so does `cli read`."""
import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from conftest import ROOT, cli, cli_rows

FIXTURES = ROOT / "test" / "fixtures" / "delta"


def copy(name, tmp_path):
    target = tmp_path / name
    shutil.copytree(FIXTURES / name / "delta", target)
    return target


def spark_rows(spark, path):
    return sorted(tuple(r) for r in spark.read.format("delta").load(str(path)).collect())


def our_rows(path, columns):
    return sorted(tuple(r[c] for c in columns) for r in cli_rows(path))


@pytest.mark.parametrize("name", ["dv-spark-unpartitioned", "dv-spark-partitioned"])
def test_optimize_leaves_spark_the_same_rows_without_vectors(spark, tmp_path, name):
    table = copy(name, tmp_path)
    before = spark_rows(spark, table)
    cli("optimize", table)
    assert spark_rows(spark, table) == before
    detail = spark.sql(f"DESCRIBE HISTORY delta.`{table}` LIMIT 1").collect()[0]
    assert detail["operation"] == "OPTIMIZE"
    # No deleted row is left in any file: in each, Spark reads rows 0..n-1 without a gap.
    per_file = (spark.read.format("delta").load(str(table))
                .selectExpr("_metadata.file_path AS file", "_metadata.row_index AS row")
                .groupBy("file").agg(F.max("row").alias("last"), F.count("*").alias("n")).collect())
    assert per_file and all(r["last"] + 1 == r["n"] for r in per_file)
    assert spark.sql(f"DESCRIBE DETAIL delta.`{table}`").collect()[0]["numFiles"] == len(per_file)
    columns = spark.read.format("delta").load(str(table)).columns
    assert our_rows(table, columns) == before


def test_vacuum_keeps_the_vector_files_spark_needs(spark, tmp_path):
    table = copy("dv-spark-unpartitioned", tmp_path)
    before = spark_rows(spark, table)
    out = cli("vacuum", table, "--retention-hours", 0, "--force").stdout
    assert "deleted" in out
    left = sorted(p.name for p in table.glob("deletion_vector_*.bin"))
    assert len(left) == 1
    assert spark_rows(spark, table) == before
    columns = spark.read.format("delta").load(str(table)).columns
    assert our_rows(table, columns) == before
