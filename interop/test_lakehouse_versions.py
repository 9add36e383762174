"""Our tables, their readers (issue 14, items 2 and 5): a lakehouse written by several `cli run`
batches, then `cli optimize`, then `cli vacuum --retention-hours 0 --force`, read by Spark and by
delta-rs at every version of every table, and compared with what this project reads there: rows,
column types, file lists, history. The same checks run on the lakehouse as the page exports it
(.zip), exported after the OPTIMIZE, when every version is still readable.
"""
import json
import subprocess
import zipfile
from collections import Counter
from contextlib import contextmanager
from importlib.metadata import version as package
from pathlib import Path

import pytest
from deltalake import DeltaTable

from conftest import ROOT, TSX, cli
from matrix_doc import write_section
from delta_compare import (
    assert_same_rows, commit_mtimes_ms, fields_of, local_files, our_tables, rows_of, spark_frame,
    spark_rows_by_version, uri_path,
)

TABLES = [
    "bronze/events", "silver/events", "silver/rejects", "silver/quality",
    "gold/writing_velocity_daily", "gold/revision_churn_daily", "gold/engagement_bands",
    "gold/dropoff_rate", "gold/stage_bottlenecks", "gold/post_release_engagement",
]
# Eleven batches: every table has versions 0-10 from them (bronze and silver append, gold
# overwrites), so each one has the checkpoint our writer makes at version 10; bronze's and silver's
# OPTIMIZE is version 11, after it.
RUNS = [(101 + i, "0.05" if i % 2 else "0.02") for i in range(11)]
EVENTS = 300
STATES = ["vacuumed", "exported"]

# Spark rebuilds a table's state (its live files) with a few small jobs at every version it is
# asked for; on tables this small their cost is the jobs' overhead, which fewer partitions and no
# adaptive planning about halve. (Delta's validation of the state it rebuilt stays on.)
SMALL_TABLES = {
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.adaptive.enabled": "false",
}


# What each table-version check saw, for the section of docs/interop.md this file writes.
SEEN = {}


@pytest.fixture(scope="module", autouse=True)
def matrix(request):
    yield
    expected = {(s, t) for s in STATES for t in TABLES}
    if set(SEEN) != expected or request.session.testsfailed:
        return
    lines = [
        "## This project's tables, read by Spark and delta-rs",
        "",
        "From `interop/test_lakehouse_versions.py`: a lakehouse written by `cli run` (11 batches, rejects, gold",
        "overwrites, a checkpoint at version 10 by our writer), then `cli optimize`, exported as the page",
        "exports it (unzipped) and, separately, `cli vacuum --retention-hours 0 --force`. Every version of every",
        f"table is read by Spark {package('pyspark')} + delta-spark {package('delta-spark')} and by delta-rs (deltalake",
        f"{package('deltalake')}): rows equal to ours as multisets, the schema's types, the live files, and",
        "`DESCRIBE HISTORY` / `history()` equal to our commitInfo. After the VACUUM the older versions fail",
        "alike in all three engines (their files are gone).",
        "",
        "| table | exported: versions read alike by Spark and delta-rs | vacuumed: latest read alike; older versions refused by all three |",
        "|---|---|---|",
    ]
    for t in TABLES:
        e, v = SEEN[("exported", t)], SEEN[("vacuumed", t)]
        lines.append(f"| {t} | ✓ {e['readable']} of {e['versions']} ({e['rows']} rows at the latest) | ✓ {v['readable']} read, {v['versions'] - v['readable']} refused alike |")
    write_section("our-tables", "\n".join(lines))


@pytest.fixture(scope="module", autouse=True)
def small_spark(spark):
    before = {k: spark.conf.get(k, None) for k in SMALL_TABLES}
    for k, v in SMALL_TABLES.items():
        spark.conf.set(k, v)
    yield
    for k, v in before.items():
        if v is None:
            spark.conf.unset(k)
        else:
            spark.conf.set(k, v)


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory):
    base = tmp_path_factory.mktemp("lakehouse")
    out = base / "delta"
    for seed, invalid in RUNS:
        cli("run", "--events", EVENTS, "--seed", seed, "--invalid-rate", invalid, "--out", out,
            env={"LAKEHOUSE_CHECK_THREADS": "0"})
    cli("optimize", out)
    # The page's export of the lakehouse as it is now (every version readable), unzipped.
    archive = base / "creatorops-lakehouse.zip"
    export = subprocess.run([*TSX, "scripts/interop/export-lakehouse.ts", str(out), str(archive)],
                            cwd=ROOT, capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    with zipfile.ZipFile(archive) as z:
        z.extractall(base / "unzipped")
    exported = base / "unzipped" / "creatorops-lakehouse"
    snapshot_before = tree(out)
    assert tree(exported) == snapshot_before, "the export does not hold every file of the lakehouse byte for byte"
    cli("vacuum", out, "--retention-hours", 0, "--force")
    after = tree(out)
    assert after != snapshot_before, "the VACUUM deleted nothing"
    logs = lambda t: {k: b for k, b in t.items() if "/_delta_log/" in k}  # noqa: E731
    assert logs(after) == logs(snapshot_before), "the VACUUM changed a log"
    roots = {"vacuumed": out, "exported": exported}
    return {state: (root, our_tables(root)) for state, root in roots.items()}


def tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_lakehouse_has_what_the_checks_need(lakehouse):
    _, ours = lakehouse["vacuumed"]
    assert sorted(ours) == sorted(TABLES)
    for table, t in ours.items():
        ops = [h["operation"] for h in t.history]
        if table.startswith("gold/"):
            # gold is overwritten by every batch; one file a version, nothing to compact
            assert ops == ["CREATE OR REPLACE TABLE AS SELECT"] * len(RUNS), table
            assert all(h["commitInfo"]["operationParameters"]["mode"] == "Overwrite" for h in t.history)
        else:
            assert ops == ["WRITE"] * len(RUNS) + ["OPTIMIZE"], table
        assert (Path(lakehouse["vacuumed"][0]) / table / "_delta_log" / f"{10:020d}.checkpoint.parquet").is_file()
    # every batch rejected some lines (the export holds every version readable)
    rejects = lakehouse["exported"][1]["silver/rejects"].versions
    assert all(len(rejects[v].rows) > len(rejects[v - 1].rows) for v in range(1, len(RUNS)))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("table", TABLES)
def test_spark_and_delta_rs_read_every_version_as_we_do(spark, lakehouse, state, table):
    root, ours = lakehouse[state]
    path = Path(root) / table
    mine = ours[table]
    versions = sorted(mine.versions)
    assert versions == list(range(len(versions))), f"{table}: our log has gaps: {versions}"

    # Which versions can be read: those whose data files are all there. A VACUUM makes the others
    # unreadable, in every engine alike.
    readable = {v for v in versions if all((path / f).is_file() for f in mine.versions[v].files)}
    # after a VACUUM with no retention only the latest version is whole: every older one had a
    # file that a later commit removed (gold: each overwrite; bronze and silver: the OPTIMIZE)
    assert readable == ({versions[-1]} if state == "vacuumed" else set(versions)), f"{table}: readable {sorted(readable)}"

    frames = {}
    for v in versions:
        ov = mine.versions[v]
        assert (ov.rows is not None) == (v in readable), f"{table} v{v}: we read it: {ov.error}"
        expected_files = local_files(path, ov.files)
        assert max(expected_files.values(), default=1) == 1, f"our snapshot of {table} v{v} lists a file twice"

        dt = DeltaTable(str(path), version=v)
        assert dt.version() == v
        assert fields_of(json.loads(dt.schema().to_json())) == fields_of(ov.schema), f"delta-rs's schema of {table} v{v}"
        assert Counter(uri_path(u) for u in dt.file_uris()) == expected_files, f"delta-rs's files of {table} v{v}"
        assert dt.metadata().partition_columns == ov.partition_columns

        df = spark_frame(spark, path, v)
        assert fields_of(df.schema.jsonValue()) == fields_of(ov.schema), f"Spark's schema of {table} v{v}"
        # (the live files Spark works out here it keeps for reading this version below)
        assert Counter(uri_path(u) for u in df.inputFiles()) == expected_files, f"Spark's files of {table} v{v}"

        if v in readable:
            frames[v] = df
            assert_same_rows("delta-rs", table, v, rows_of(dt.to_pyarrow_table().to_pylist(), ov.schema), rows_of(ov.rows, ov.schema))
        else:
            assert "is gone" in ov.error, ov.error
            with pytest.raises(Exception, match=r"(?i)not found"):
                dt.to_pyarrow_table()
            with quiet(spark), pytest.raises(Exception, match=r"FileNotFoundException.*does not exist"):
                df.toArrow()

    # Spark: the readable versions' rows, and the files it read them from, in one job
    spark_rows, spark_files = spark_rows_by_version(spark, frames)
    for v in frames:
        ov = mine.versions[v]
        assert_same_rows("Spark", table, v, rows_of(spark_rows[v], ov.schema), rows_of(ov.rows, ov.schema))
        # Spark read rows from each of our files that holds any (by its stats; our writer writes no empty file)
        assert all(n and n > 0 for n in ov.file_records), f"{table} v{v}: {ov.file_records}"
        assert spark_files[v] == set(local_files(path, ov.files)), f"Spark's files of {table} v{v}"
    SEEN[(state, table)] = {"versions": len(versions), "readable": len(readable), "rows": len(mine.versions[versions[-1]].rows)}


@contextmanager
def quiet(spark):
    """Spark logs a task's failure before raising it: not while a failure is what the test expects."""
    spark.sparkContext.setLogLevel("OFF")
    try:
        yield
    finally:
        spark.sparkContext.setLogLevel("ERROR")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("table", TABLES)
def test_spark_and_delta_rs_show_our_history(spark, lakehouse, state, table):
    root, ours = lakehouse[state]
    path = Path(root) / table
    history = ours[table].history
    commits = {h["version"]: h["commitInfo"] for h in history}

    described = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").selectExpr("*", "unix_millis(timestamp) AS ms")
    spark_history = {r["version"]: r.asDict() for r in described.collect()}
    assert sorted(spark_history) == sorted(commits)
    mtimes = commit_mtimes_ms(path)
    for v, info in commits.items():
        s = spark_history[v]
        assert s["operation"] == info["operation"]
        assert s["operationParameters"] == {k: x if isinstance(x, str) else json.dumps(x) for k, x in info["operationParameters"].items()}
        assert s["operationMetrics"] == info["operationMetrics"]
        assert s["readVersion"] == info.get("readVersion")
        assert s["isBlindAppend"] == info["isBlindAppend"]
        assert s["isolationLevel"] == info["isolationLevel"]
        assert s["engineInfo"] == info["engineInfo"]
        # Spark (no in-commit timestamps) dates a commit by its file
        assert s["ms"] == mtimes[v]

    rs_history = DeltaTable(str(path)).history()
    assert [h["version"] for h in rs_history] == sorted(commits, reverse=True)
    for h in rs_history:
        h = dict(h)
        v = h.pop("version")
        assert h == commits[v], f"delta-rs's history of {table} v{v}"
