"""Every gold model translates to SQL Spark's own dialect parses, without DuckDB-only syntax
(a CTE's [NOT] MATERIALIZED hint is DuckDB's; Spark's grammar rejects it). No Spark needed: the
Spark runner's tests run the translated SQL itself."""
import re

import pytest
import sqlglot

from conftest import ROOT
import spark_runner  # noqa: F401  (puts spark/ on the path)
from creatorops_spark.sql import to_spark

GOLD = sorted((ROOT / "sql" / "gold").glob("*.sql"))


@pytest.mark.parametrize("path", GOLD, ids=[p.stem for p in GOLD])
def test_gold_model_in_spark_dialect(path):
    out = to_spark(path.read_text(encoding="utf-8"), path.name)
    code = re.sub(r"/\*.*?\*/", "", out, flags=re.S)
    assert "MATERIALIZED" not in code.upper()
    assert sqlglot.parse_one(out, read="spark") is not None


def test_a_not_materialized_cte_loses_its_hint():
    out = to_spark("with a as not materialized (select 1 as x) select x from a, a as b", "example")
    assert out == "WITH a AS (SELECT 1 AS x) SELECT x FROM a, a AS b"
