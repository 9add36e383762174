"""The same pipeline on Spark gives the same lakehouse (issue 17, items 1-4): the Spark runner
(spark/, PySpark + delta-spark) takes the bronze that `cli run` wrote and brings silver and gold
up to date; every table then equals ours — bronze, silver, rejects, quality and each gold KPI, row
for row (interop/lakehouse_compare.py). And one lakehouse taking its batches from several engines
in turn (DuckDB-WASM, Spark, native DuckDB, `cli run --engine spark`, Spark again with re-delivered
events) keeps SPEC §2 after every step and ends equal to our pipeline run over the same bronze.
And the Spark-processed lakehouse opens as any other: `cli read` and the page (its folder zipped and
imported) show the gold rows an independent computation from silver gives."""
import json
import math
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml
from deltalake import DeltaTable

import kpi_oracle
from conftest import ROOT, TSX, cli
from delta_compare import norm
from lakehouse_compare import GOLD_TABLES, REL, TABLES, assert_same_lakehouse, latest
from page import build_app, count, open_in_page, shown, shown_near, zip_folder
from spark_runner import copy_bronze, run_on_spark, steps

EVENTS = 20_000
SILVER = ["silver/events", "silver/rejects", "silver/quality"]
EXPECTATIONS = len(yaml.safe_load((ROOT / "contracts" / "expectations.yml").read_text()))
NO_THREADS = {"LAKEHOUSE_CHECK_THREADS": "0"}


@pytest.fixture(scope="module")
def pair(spark, tmp_path_factory):
    base = tmp_path_factory.mktemp("runner")
    ours = base / "ours"
    cli("run", "--events", EVENTS, "--seed", 20261, "--invalid-rate", "0.02", "--out", ours, env=NO_THREADS)
    theirs = copy_bronze(ours, base / "spark")
    return ours, theirs, run_on_spark(spark, theirs)


def test_every_table_equals_ours(pair):
    ours, theirs, summary = pair
    counts = assert_same_lakehouse(ours, theirs, ("cli run", "Spark"))
    assert counts["bronze/events"] == EVENTS
    assert counts["silver/events"] + counts["silver/rejects"] == EVENTS
    assert counts["silver/quality"] == EXPECTATIONS
    [batch] = summary["silver"]
    assert (batch["bronzeRows"], batch["silverRows"], batch["rejectedRows"]) == (EVENTS, counts["silver/events"], counts["silver/rejects"])
    assert all(batch["rejectsByStage"][s] > 0 for s in ("parse", "schema", "expectation", "duplicate")), batch["rejectsByStage"]
    # gold: the KPI tables the dashboard shows, the same rows (and non-empty)
    assert all(counts[g] > 0 for g in counts if g.startswith("gold/"))
    assert counts["gold/engagement_bands"] == 4


def test_spark_lakehouse_keeps_spec_invariants(pair):
    _, theirs, _ = pair
    assert_invariants(theirs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The built app: E2E_DIST when given (`npm test` passes the build its e2e tests used), else built once here."""
    if os.environ.get("E2E_DIST"):
        dist = Path(os.environ["E2E_DIST"])
        assert (dist / "index.html").is_file(), f"E2E_DIST={dist} holds no build (index.html)"
        return dist
    return build_app(tmp_path_factory.mktemp("app"))


def test_spark_lakehouse_opens_in_cli_and_page(pair, app, tmp_path):
    """Issue 17, item 4. The lakehouse Spark processed, as Spark left it: `cli read` of each gold
    table and the page's dashboard (the folder zipped and imported as a user would) give the rows of
    Spark's gold as delta-rs reads them, and those equal the KPIs computed in Python from silver
    (kpi_oracle.py); the Explorer lists every table at the version Spark committed."""
    _, theirs, _ = pair
    tables = {name: DeltaTable(str(theirs / name)) for name in TABLES}
    versions = {name: t.version() for name, t in tables.items()}
    rows = {name: t.to_pyarrow_dataset().count_rows() for name, t in tables.items()}
    for name in TABLES:
        if name != "bronze/events":
            [last] = tables[name].history(1)
            assert last["engineInfo"].startswith("Apache-Spark/"), f"{name} v{versions[name]} was committed by {last.get('engineInfo')}"
    types = {name: {f["name"]: f["type"] for f in json.loads(tables[name].schema().to_json())["fields"]} for name in GOLD_TABLES}

    def rows_of(name, raw):
        return [tuple(norm(r[c], t) for c, t in types[name].items()) for r in raw]

    silver = tables["silver/events"].to_pyarrow_table().to_pylist()
    oracle = {f"gold/{k}": rows_of(f"gold/{k}", v) for k, v in kpi_oracle.gold(silver).items()}
    spark_gold = {name: rows_of(name, tables[name].to_pyarrow_table().to_pylist()) for name in GOLD_TABLES}
    for name in GOLD_TABLES:
        assert_close(name, spark_gold[name], oracle[name], ("Spark's gold", "the oracle"))
        assert len(oracle[name]) == rows[name] > 0, name

    # `cli read`: the six tables at once (one process each)
    procs = {name: subprocess.Popen([*TSX, "src/cli/main.ts", "read", str(theirs / name)], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for name in GOLD_TABLES}
    for name, proc in procs.items():
        out, err = proc.communicate()
        assert proc.returncode == 0, f"cli read {name}: {err}"
        read = rows_of(name, [json.loads(line) for line in out.splitlines() if line.strip()])
        assert read == spark_gold[name], f"cli read {name} differs from Spark's gold as delta-rs reads it"
        assert_close(name, read, oracle[name], ("cli read", "the oracle"))

    # the page: the folder zipped as it lies (Spark's .crc files and all), imported into a fresh profile
    shown_in_page = open_in_page(zip_folder(theirs, tmp_path / "spark-lakehouse.zip", "spark-lakehouse"), app)
    assert shown_in_page["errors"] == [], shown_in_page["errors"]
    assert shown_in_page["imported"].startswith(f"Imported 10 tables with their whole history from spark-lakehouse.zip: {', '.join(f'{t} (v{versions[t]})' for t in TABLES)};"), shown_in_page["imported"]
    explorer = {node["path"]: node for node in shown_in_page["explorer"]}
    assert sorted(explorer) == sorted(TABLES), sorted(explorer)
    for name, node in explorer.items():
        layer_input = None if name == "bronze/events" else "bronze/events" if name.startswith("silver/") else "silver/events"
        assert (node["stats"], node["from"], node["stale"]) == (
            f"v{versions[name]} · {count(rows[name])} rows", layer_input and f"from {layer_input} v{versions[layer_input]}", False), node
    for name in GOLD_TABLES:
        card = shown_in_page["dashboard"][name.removeprefix("gold/")]
        assert card["caption"] == f"{name} · version {versions[name]} · {count(rows[name])} rows", card["caption"]
        assert card["columns"] == list(types[name]), card["columns"]
        assert card["rows"] == [[shown(v) for v in r] for r in spark_gold[name]], f"{name}: the dashboard does not show Spark's gold"
        # the oracle's doubles are Spark's within REL, so each cell is their value rounded, unless the
        # two fall either side of a rounding boundary (a median of 29.3 and 29.4: 29.35 or 29.349999999999998)
        off = [(i, c, row[c], oracle[name][i][c]) for i, row in enumerate(card["rows"]) for c in range(len(row))
               if row[c] not in shown_near(oracle[name][i][c], REL)]
        assert off == [], f"{name}: the dashboard does not show the oracle's figures (row, column, shown, oracle): {off[:5]}"


def assert_close(table, got, want, what):
    assert len(got) == len(want), f"{table}: {len(got)} rows ({what[0]}) vs {len(want)} ({what[1]})"
    for i, (x, y) in enumerate(zip(got, want)):
        same = all(p == q or (isinstance(p, float) and isinstance(q, float) and math.isclose(p, q, rel_tol=REL)) for p, q in zip(x, y))
        assert same, f"{table} row {i}: {what[0]} {x} vs {what[1]} {y}"


def test_engines_in_turn_over_one_lakehouse(spark, tmp_path):
    lake = tmp_path / "lake"
    batch = ["--events", 3000, "--invalid-rate", "0.05", "--out", lake]
    trail = []

    def spark_step(seed):
        steps("bronze", lake, 3000, seed, "0.05")  # bronze left by another writer, taken in by Spark
        return [b["batchId"] for b in run_on_spark(spark, lake)["silver"]]

    cli("run", *batch, "--seed", 301, env=NO_THREADS)
    trail.append(("wasm", assert_invariants(lake)))
    spark_step(302)
    trail.append(("spark", assert_invariants(lake)))
    cli("run", *batch, "--seed", 303, "--engine", "native", env=NO_THREADS)
    trail.append(("native", assert_invariants(lake)))
    out = cli("run", *batch, "--seed", 304, "--engine", "spark").stdout
    assert "gold/stage_bottlenecks" in out and "silver (bronze v3" in out, out
    trail.append(("cli --engine spark", assert_invariants(lake)))
    # the events of the first batch again: each one a duplicate of an event the wasm engine accepted
    spark_step(301)
    trail.append(("spark, re-delivered", assert_invariants(lake)))
    assert [t[1]["batches"] for t in trail] == [1, 2, 3, 4, 5], trail

    rejects = latest(lake, ["silver/rejects"])["silver/rejects"][1]
    first = latest(lake, ["bronze/events"])["bronze/events"][1]
    first_batch = min(r["batch_id"] for r in first)
    redelivered = [r for r in rejects if r["stage"] == "duplicate" and f"was already accepted in batch {first_batch}" in r["errors"][0]]
    assert len(redelivered) > 2500, len(redelivered)

    # our pipeline over the same bronze, in one go, makes the same lakehouse
    reference = copy_bronze(lake, tmp_path / "reference")
    steps("pending", reference)
    assert_same_lakehouse(reference, lake, ("ours over the same bronze", "engines in turn"))


def assert_invariants(root) -> dict:
    """SPEC §2 for every batch silver has processed: bronze rows = silver rows + rejected rows, an
    event_id at most once in silver, each batch in silver/quality once per expectation (processed
    once), and each silver table's txn watermark at the last bronze version."""
    t = latest(root, ["bronze/events", *SILVER])
    by_batch = {name: Counter(r["batch_id"] for r in t[name][1]) for name in t}
    bronze = by_batch["bronze/events"]
    for b, n in bronze.items():
        assert n == by_batch["silver/events"][b] + by_batch["silver/rejects"][b], f"{root}: batch {b}: {n} bronze rows, {by_batch['silver/events'][b]} silver + {by_batch['silver/rejects'][b]} rejected"
        assert by_batch["silver/quality"][b] == EXPECTATIONS, f"{root}: batch {b} has {by_batch['silver/quality'][b]} quality rows"
    ids = Counter(r["event_id"] for r in t["silver/events"][1])
    assert ids and max(ids.values()) == 1, f"{root}: event ids repeated in silver: {[i for i, n in ids.items() if n > 1][:5]}"
    last_bronze = commits(Path(root) / "bronze/events")[-1][0]
    for name in SILVER:
        assert watermark(Path(root) / name) == last_bronze, f"{root}/{name}: txn watermark {watermark(Path(root) / name)}, bronze at {last_bronze}"
    # the lineage (issue 22): whichever engine wrote gold, it records the silver version it read,
    # so `cli status` finds every table up to date
    lineage = json.loads(cli("status", "--out", root, "--json").stdout)
    assert lineage["behind"] == [], f"{root}: cli status says behind: {lineage['behind']}"
    return {"batches": len(bronze), "silver": sum(ids.values())}


def commits(table: Path) -> list:
    return [(int(p.stem), [json.loads(x) for x in p.read_text().splitlines() if x.strip()])
            for p in sorted((table / "_delta_log").glob("*.json"))]


def watermark(table: Path) -> int:
    """The version of the last txn action of the silver app in the table's commits."""
    marks = [a["txn"]["version"] for _, actions in commits(table) for a in actions if "txn" in a and a["txn"]["appId"] == "creatorops-silver"]
    return marks[-1] if marks else -1
