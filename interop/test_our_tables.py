"""Our tables, their readers: a lakehouse written by `cli run` read by Spark and by delta-rs."""
import pytest
from deltalake import DeltaTable

from conftest import cli, cli_rows

TABLES = ["bronze/events", "silver/events", "silver/rejects", "gold/writing_velocity_daily"]


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory):
    out = tmp_path_factory.mktemp("lakehouse") / "delta"
    cli("run", "--events", 3000, "--seed", 7, "--out", out)
    return out


@pytest.mark.parametrize("table", TABLES)
def test_row_counts_agree(spark, lakehouse, table):
    path = str(lakehouse / table)
    ours = cli_rows(path)
    assert spark.read.format("delta").load(path).count() == len(ours)
    assert DeltaTable(path).to_pyarrow_table().num_rows == len(ours)
