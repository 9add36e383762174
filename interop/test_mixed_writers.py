"""One table, three writers: our command line appends, Spark appends, updates and deletes, delta-rs
appends, we append again, compact it with OPTIMIZE and write its checkpoint. Every version of it
reads the same in all three engines: `cli read --version N`, Spark's versionAsOf, delta-rs's
DeltaTable(path, version=N)."""
import datetime as dt
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from conftest import cli
from writer_support import commit, latest_version, our_rows, rs_rows, spark_rows, write_parquet

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64()), ("ts", pa.timestamp("us", tz="UTC"))])


def at(day, micro=0):
    return dt.datetime(2024, 3, day, 10, 0, 0, micro, tzinfo=dt.timezone.utc)


def rows(*ids):
    return [{"id": i, "name": f"row-{i}", "amount": i * 1.25, "ts": at(1 + i % 20, i)} for i in ids]


def test_one_table_three_writers(spark, tmp_path):
    path = tmp_path / "mixed"
    t = f"delta.`{path}`"
    operations = []

    def step(what, expected_version):
        assert latest_version(path) == expected_version
        operations.append(what)

    spark.sql(f"CREATE TABLE {t} (id BIGINT, name STRING, amount DOUBLE, ts TIMESTAMP) USING delta "
              "TBLPROPERTIES ('delta.enableDeletionVectors' = 'false')")
    step("spark create", 0)
    assert cli("append", path, write_parquet(tmp_path / "a.parquet", rows(1, 2, 3), SCHEMA)).stdout == f"version 1: appended 3 rows in 1 file to {path}\n"
    step("ours append parquet", 1)
    spark.sql(f"INSERT INTO {t} VALUES (4, 'row-4', 5.0, TIMESTAMP '2024-03-05 10:00:00.000004'), (5, 'row-5', 6.25, NULL)")
    step("spark insert", 2)
    spark.sql(f"UPDATE {t} SET amount = amount * 10, name = 'updated' WHERE id IN (1, 4)")
    step("spark update", 3)
    spark.sql(f"DELETE FROM {t} WHERE id = 2")
    step("spark delete", 4)
    write_deltalake(str(path), pa.Table.from_pylist(rows(6, 7), schema=SCHEMA), mode="append")
    step("delta-rs append", 5)
    lines = tmp_path / "b.jsonl"
    lines.write_text('{"id": 8, "name": "row-8", "amount": 10.5, "ts": "2024-03-09T10:00:00.000008Z"}\n'
                     '{"id": 9, "name": null, "amount": null, "ts": "2024-03-10T11:00:00.000009+01:00"}\n')
    assert cli("append", path, lines).stdout == f"version 6: appended 2 rows in 1 file to {path}\n"
    step("ours append jsonl", 6)
    out = cli("optimize", path).stdout
    assert out.startswith(f"{path}  version 7 OPTIMIZE: ")
    step("ours optimize", 7)
    spark.sql(f"INSERT INTO {t} VALUES (10, 'row-10', 1.0, TIMESTAMP '2024-03-11 10:00:00')")
    step("spark insert", 8)
    write_deltalake(str(path), pa.Table.from_pylist(rows(11), schema=SCHEMA), mode="append")
    step("delta-rs append", 9)
    assert cli("append", path, write_parquet(tmp_path / "c.parquet", rows(12, 13), SCHEMA)).stdout == f"version 10: appended 2 rows in 1 file to {path}\n"
    step("ours append, and the checkpoint of version 10", 10)
    assert (path / "_delta_log" / "00000000000000000010.checkpoint.parquet").exists()
    spark.sql(f"DELETE FROM {t} WHERE id = 12")
    step("spark delete after our checkpoint", 11)

    optimize = commit(path, 7)
    assert optimize[0]["commitInfo"]["operation"] == "OPTIMIZE"
    assert all(not a[k]["dataChange"] for a in optimize for k in ("add", "remove") if k in a)

    for version, what in enumerate(operations):
        ours = our_rows(path, version)
        assert spark_rows(spark, path, version) == ours, f"version {version} ({what})"
        assert rs_rows(path, version) == ours, f"version {version} ({what})"

    latest = our_rows(path)
    assert [r["id"] for r in sorted(latest, key=lambda r: r["id"])] == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert next(r for r in latest if r["id"] == 1) == {"id": 1, "name": "updated", "amount": 12.5, "ts": "2024-03-02T10:00:00.000001Z"}
    assert next(r for r in latest if r["id"] == 9) == {"id": 9, "name": None, "amount": None, "ts": "2024-03-10T10:00:00.000009Z"}
    assert spark_rows(spark, path) == latest
    assert rs_rows(path) == latest
    # Spark's own check of the log it reads from our checkpoint on.
    history = spark.sql(f"DESCRIBE HISTORY {t}").collect()
    assert sorted(h.version for h in history) == list(range(12))
    assert {h.version for h in history if (h.engineInfo or "").startswith("creatorops")} == {1, 6, 7, 10}
