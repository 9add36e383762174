"""Column-mapped tables written by Spark, compacted by this project's OPTIMIZE, read back by Spark:
the files keep the physical names (mode name) and Parquet field ids (mode id) Spark resolves by."""
import shutil

import pytest

from conftest import ROOT, cli

FIXTURES = ROOT / "test" / "fixtures" / "delta"


def rows(spark, table):
    return sorted(spark.read.format("delta").load(str(table)).toJSON().collect())


@pytest.mark.parametrize("case", ["colmap-name", "colmap-id", "colmap-flat", "table-with-columnmapping-mode-id"])
def test_spark_reads_our_optimize_of_a_mapped_table(spark, tmp_path, case):
    table = tmp_path / case
    shutil.copytree(FIXTURES / case / "delta", table)
    before = rows(spark, table)
    out = cli("optimize", table).stdout
    assert " OPTIMIZE: " in out, out
    history = spark.sql(f"DESCRIBE HISTORY delta.`{table}`").select("operation").first()[0]
    assert history == "OPTIMIZE"
    assert rows(spark, table) == before
