"""A foreign writer at the same time (issue 14, item 5): our writer (scripts/interop/append-loop.ts,
a loop of appends through src/delta/writer.ts on NodeStorage) and delta-rs (`write_deltalake(...,
mode="append")` in this process) append to one local table at the same moment, many rounds each.
Every commit either side made is in the log exactly once, no version was overwritten, the versions
are contiguous, and every row is there as us, Spark and delta-rs read the table.
"""
import json
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest
from deltalake import CommitProperties, DeltaTable, write_deltalake

from conftest import ROOT, TSX, cli_rows
from delta_compare import fields_of, rows_of

ROUNDS = 50  # commits each side
ROWS = 3     # rows a commit

SCHEMA = pa.schema([
    ("writer", pa.string()), ("round", pa.int64()), ("n", pa.int64()), ("amount", pa.float64()),
    ("at", pa.timestamp("us", tz="UTC")),
])
DELTA_SCHEMA = {"type": "struct", "fields": [
    {"name": "writer", "type": "string", "nullable": True, "metadata": {}},
    {"name": "round", "type": "long", "nullable": True, "metadata": {}},
    {"name": "n", "type": "long", "nullable": True, "metadata": {}},
    {"name": "amount", "type": "double", "nullable": True, "metadata": {}},
    {"name": "at", "type": "timestamp", "nullable": True, "metadata": {}},
]}
EPOCH_2025_US = 1735689600 * 1_000_000


def _at(rnd, i):
    """`at` of row i of a round, in µs since 1970 (as append-loop.ts's roundRows makes it)."""
    return EPOCH_2025_US + rnd * 1_000_001 + i


def round_rows(writer, rnd):
    """The rows one commit adds, as the comparison reads them (`at` as UTC ISO text, µs)."""
    return [
        {"writer": writer, "round": rnd, "n": i, "amount": rnd + i / 8,
         "at": (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=_at(rnd, i))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        for i in range(ROWS)
    ]


def arrow_rows(writer, rnd):
    """The same rows as Arrow, for delta-rs to write."""
    return pa.table({
        "writer": [writer] * ROWS, "round": [rnd] * ROWS, "n": list(range(ROWS)), "amount": [rnd + i / 8 for i in range(ROWS)],
        "at": pa.array([_at(rnd, i) for i in range(ROWS)], pa.timestamp("us", tz="UTC")),
    }, schema=SCHEMA)


def commit_tag(actions):
    """(writer, round) a commit was made for: ours carries it in operationParameters, delta-rs's in
    its commitInfo (custom metadata)."""
    infos = [a["commitInfo"] for a in actions if "commitInfo" in a]
    assert len(infos) == 1, f"a commit with {len(infos)} commitInfo actions"
    info = infos[0]
    params = info.get("operationParameters") or {}
    if "writer" in params:
        return params["writer"], int(params["round"]), info
    return info["writer"], int(info["round"]), info


@pytest.fixture(scope="module")
def race(tmp_path_factory):
    path = tmp_path_factory.mktemp("race") / "table"
    ours = subprocess.Popen(
        [*TSX, "scripts/interop/append-loop.ts", str(path), str(ROUNDS), str(ROWS)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    reports = []
    for line in ours.stdout:  # our writer creates the table (version 0), then waits
        if line.strip() == "ready":
            break
        reports.append(json.loads(line))
    else:
        raise AssertionError(f"append-loop.ts stopped before it was ready: {ours.stderr.read()}")
    ours.stdin.write("go\n")
    ours.stdin.flush()
    # delta-rs starts once our loop is under way (its first commit reported), so the two overlap
    # even when the machine is slow to schedule the other process.
    first = ours.stdout.readline()
    assert first, f"append-loop.ts stopped: {ours.stderr.read()}"
    reports.append(json.loads(first))
    started = time.monotonic()
    for rnd in range(1, ROUNDS + 1):
        write_deltalake(str(path), arrow_rows("delta-rs", rnd), mode="append",
                        commit_properties=CommitProperties(custom_metadata={"writer": "delta-rs", "round": str(rnd)}))
    rs_seconds = time.monotonic() - started
    out, err = ours.communicate(timeout=300)
    assert ours.returncode == 0, err
    reports += [json.loads(line) for line in out.splitlines() if line.strip()]
    return path, reports, rs_seconds


def test_every_commit_of_both_writers_is_in_the_log_once(race, record_property):
    path, reports, rs_seconds = race
    log = path / "_delta_log"
    versions = sorted(int(p.name[:20]) for p in log.glob("[0-9]" * 20 + ".json"))
    assert versions == list(range(2 * ROUNDS + 1)), "the versions are not contiguous"

    tags = {}
    for v in versions:
        actions = [json.loads(line) for line in (log / f"{v:020d}.json").read_text().splitlines() if line.strip()]
        writer, rnd, info = commit_tag(actions)
        tags[v] = (writer, rnd, info)
        adds = [a["add"] for a in actions if "add" in a]
        assert len(adds) == 1 and json.loads(adds[0]["stats"])["numRecords"] == ROWS, f"version {v}"
    assert Counter((w, r) for w, r, _ in tags.values()) == Counter(
        [("ours", r) for r in range(ROUNDS + 1)] + [("delta-rs", r) for r in range(1, ROUNDS + 1)])

    # Each commit our writer reported is at the version it reported (nothing overwrote it).
    assert sorted(r["round"] for r in reports) == list(range(ROUNDS + 1))
    for r in reports:
        assert tags[r["version"]][:2] == ("ours", r["round"]), f"our round {r['round']} reported version {r['version']}"

    # The two loops did overlap: delta-rs committed between our first and last commit of the race.
    ours_versions = [r["version"] for r in reports if r["round"] > 0]
    rs_versions = [v for v, (w, _, _) in tags.items() if w == "delta-rs"]
    assert any(min(ours_versions) < v < max(ours_versions) for v in rs_versions)

    # Conflicts: a commit that found others in its place and went after them.
    ours_rebased = sum(r["rebased"] for r in reports)
    ours_conflicted = sum(1 for r in reports if r["rebased"])
    # delta-rs counts its own retries in its commitInfo
    rs_retries = [int(tags[v][2]["operationMetrics"]["num_retries"]) for v in rs_versions]
    summary = {
        "ours_commits_that_conflicted": ours_conflicted, "ours_versions_skipped": ours_rebased,
        "delta_rs_commits_that_retried": sum(1 for n in rs_retries if n), "delta_rs_retries": sum(rs_retries),
        "delta_rs_loop_seconds": round(rs_seconds, 2),
    }
    record_property("conflicts", summary)
    print(f"\nconcurrent writers: {summary}")


def test_all_rows_are_there_for_us_spark_and_delta_rs(race, spark):
    path, _, _ = race
    expected = rows_of([r for rnd in range(ROUNDS + 1) for r in round_rows("ours", rnd)] +
                       [r for rnd in range(1, ROUNDS + 1) for r in round_rows("delta-rs", rnd)], DELTA_SCHEMA)
    assert sum(expected.values()) == (2 * ROUNDS + 1) * ROWS

    assert rows_of(cli_rows(path), DELTA_SCHEMA) == expected

    dt = DeltaTable(str(path))
    assert dt.version() == 2 * ROUNDS
    assert fields_of(json.loads(dt.schema().to_json())) == fields_of(DELTA_SCHEMA)
    assert rows_of(dt.to_pyarrow_table().to_pylist(), DELTA_SCHEMA) == expected

    df = spark.read.format("delta").load(str(path))
    assert fields_of(df.schema.jsonValue()) == fields_of(DELTA_SCHEMA)
    assert rows_of(df.toArrow().to_pylist(), DELTA_SCHEMA) == expected
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").select("version").collect()
    assert sorted(r["version"] for r in history) == list(range(2 * ROUNDS + 1))
