"""Their tables, our reader (issue 14, items 3 and 7): a table per feature written fresh by Spark
(delta-spark) and by delta-rs (interop/peers.py), read by this project's reader at every version
with the code `cli read` runs (scripts/read-versions.ts, one process for all of them), and compared
with Spark's own read of the same version: rows as multisets in one normal form (interop/normal.py),
the schema, and the DuckDB column types. What each case must give is written down in EXPECT.

The suite writes docs/interop.md (the matrix) from the results whenever it runs every case.
"""
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import deltalake
import pyspark
import pytest

import normal
import peers
from conftest import ROOT
from matrix_doc import write_section


# INTEROP_READER=DIR: read with the reader of another checkout (e.g. a merge being tried); the
# matrix is then not written.
READER = Path(os.environ.get("INTEROP_READER", ROOT))
DELTA_SPARK = "4.4.0"


@dataclass(frozen=True)
class Expect:
    """What our reader must do with a case: `read` every version, with Spark's rows; or `refused`,
    its error containing `words`. `gone`: versions whose data files VACUUM deleted, unreadable by
    Spark as well; ours must refuse them saying the file is gone."""

    outcome: str = "read"
    words: str = ""
    gone: tuple = ()


READ = Expect()
VACUUMED = Expect(gone=(0, 1, 2, 3))  # OPTIMIZE at v3, DELETE at v4, VACUUM RETAIN 0 at v5–v6

# Every case as it must be once the reader features under way land (deletion vectors, V2 and
# multi-part checkpoints, column mapping, type widening): all read.
EXPECT = {
    ("spark", "default"): READ,
    ("spark", "partitions"): READ,
    ("spark", "checkpoint-classic"): READ,
    ("spark", "checkpoint-multipart"): READ,
    ("spark", "checkpoint-v2"): READ,
    ("spark", "deletion-vectors"): READ,
    ("spark", "column-mapping-name"): READ,
    ("spark", "column-mapping-id"): READ,
    ("spark", "timestamp-ntz"): READ,
    ("spark", "schema-evolution"): READ,
    ("spark", "change-data-feed"): READ,
    ("spark", "in-commit-timestamps"): READ,
    ("spark", "row-tracking"): READ,
    ("spark", "liquid-clustering"): READ,
    ("spark", "domain-metadata"): READ,
    ("spark", "type-widening"): READ,
    ("spark", "all-types"): READ,
    ("spark", "optimize-vacuum"): VACUUMED,
    ("spark", "restore"): READ,
    ("delta-rs", "default"): READ,
    ("delta-rs", "partitions"): READ,
    ("delta-rs", "checkpoint-classic"): READ,
    ("delta-rs", "timestamp-ntz"): READ,
    ("delta-rs", "schema-evolution"): READ,
    ("delta-rs", "change-data-feed"): READ,
    ("delta-rs", "all-types"): READ,
    ("delta-rs", "optimize-vacuum"): VACUUMED,
    ("delta-rs", "restore"): READ,
}
GONE_WORDS = "is gone"

CASES = {c.id: c for c in peers.CASES}
# The tables whose latest version is also read through the real `cli read`, as a user would.
CLI_READ = ["spark:all-types", "delta-rs:partitions", "spark:checkpoint-classic"]


def test_every_case_has_an_expectation():
    assert sorted(EXPECT) == sorted((c.writer, c.feature) for c in peers.CASES)
    assert not set(EXPECT) & set(peers.NOT_WRITTEN)
    assert sorted({f for _, f in EXPECT} | {f for _, f in peers.NOT_WRITTEN}) == sorted(peers.FEATURES)


# ---------------------------------------------------------------------------------------------
# Building and reading


@dataclass
class Version:
    version: int
    spark_rows: list | None = None  # normal rows, or None when Spark cannot read it
    spark_error: str = ""
    spark_schema: dict | None = None
    ours: dict | None = None  # the line of scripts/read-versions.ts


@dataclass
class Built:
    case: peers.Case
    path: str = ""
    error: str = ""
    versions: list = None
    protocol: dict = None


def _commit_versions(path):
    return sorted(int(p.name[:20]) for p in (Path(path) / "_delta_log").glob("*.json") if re.fullmatch(r"\d{20}\.json", p.name))


def _protocol(path):
    """The protocol at the latest version, from the commits."""
    proto = None
    for v in _commit_versions(path):
        for line in (Path(path) / "_delta_log" / f"{v:020d}.json").read_text().splitlines():
            if '"protocol"' in line:
                proto = json.loads(line).get("protocol", proto)
    return proto


def _spark_read(spark, path, version):
    out = Version(version)
    try:
        df = spark.read.format("delta").option("versionAsOf", version).load(path)
        schema = df.schema.jsonValue()
        out.spark_rows = [normal.normal_row(r, schema["fields"], "spark") for r in df.collect()]
        out.spark_schema = schema
    except Exception as err:  # noqa: BLE001 — what Spark says is recorded and checked against EXPECT
        out.spark_error = str(err).strip().splitlines()[0][:300]
    return out


def _read_versions(paths):
    """Every version of every table, read by our reader in one process."""
    proc = subprocess.run(["npx", "tsx", "scripts/read-versions.ts", *paths], cwd=READER, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = {}
    for line in proc.stdout.splitlines():
        r = json.loads(line, parse_float=Decimal)
        out[(r["table"], r["version"])] = r
    return out


def _selected(session):
    # Other files parametrize by "case" too: only this file's cases count.
    ids = [item.callspec.params["case"] for item in session.items if hasattr(item, "callspec") and item.callspec.params.get("case") in CASES]
    return [CASES[i] for i in dict.fromkeys(ids)] or list(CASES.values())


@pytest.fixture(scope="module")
def their_tables(request, tmp_path_factory):
    cases = _selected(request.session)
    root = tmp_path_factory.mktemp("their-tables")
    spark = request.getfixturevalue("spark")  # writes, and reads every table as the reference
    built = {}
    clock = {"write": 0.0, "spark read": 0.0}
    for case in cases:
        b = built[case.id] = Built(case)
        start = time.monotonic()
        try:
            b.path = peers.build(case, root, spark)
        except Exception as err:  # noqa: BLE001 — a case its writer cannot write fails its test
            b.error = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:300]}"
            continue
        finally:
            clock["write"] += time.monotonic() - start
        start = time.monotonic()
        b.protocol = _protocol(b.path)
        b.versions = [_spark_read(spark, b.path, v) for v in _commit_versions(b.path)]
        clock["spark read"] += time.monotonic() - start
    start = time.monotonic()
    ours = _read_versions([b.path for b in built.values() if b.path])
    clock["our read"] = time.monotonic() - start
    print("their tables: " + ", ".join(f"{k} {v:.1f} s" for k, v in clock.items()), file=sys.stderr)
    for b in built.values():
        for v in b.versions or []:
            v.ours = ours.get((b.path, v.version))
    yield built
    if len(cases) == len(CASES) and READER == ROOT:
        write_section("their-tables", render(built, str(root)))


# ---------------------------------------------------------------------------------------------
# Judging


def _problems(b, expect, root="", detail=True):
    """What is wrong with our read of a built case, against its expectation; [] when all is as expected."""
    if b.error:
        return [f"the writer failed: {b.error}"]
    problems = [f"the table lacks {what}" for what in peers.missing_evidence(b.case, b.path)]
    for v in b.versions:
        got = v.ours
        tag = f"v{v.version}"
        if got is None:
            problems.append(f"{tag}: our reader printed nothing for it")
            continue
        error = got.get("error")
        if v.version in expect.gone:
            if v.spark_rows is not None:
                problems.append(f"{tag}: meant to be vacuumed, but Spark reads it")
            if not error or GONE_WORDS not in error:
                problems.append(f"{tag}: expected a refusal saying the file {GONE_WORDS}, got {_short(error, root) if error else 'rows'}")
            continue
        if v.spark_rows is None:
            problems.append(f"{tag}: Spark cannot read it: {v.spark_error}")
            continue
        if expect.outcome == "refused":
            if not error or expect.words not in error:
                problems.append(f"{tag}: expected a refusal with {expect.words!r}, got {_short(error, root) if error else 'rows'}")
            continue
        if error:
            problems.append(f"{tag}: refused: {_short(error, root)}")
            continue
        spark_fields = v.spark_schema["fields"]
        if normal.shape(v.spark_schema) != normal.shape(got["schema"]):
            problems.append(f"{tag}: schema {json.dumps(normal.shape(got['schema']))} != Spark's {json.dumps(normal.shape(v.spark_schema))}")
            continue
        want_types = [[f["name"], normal.duckdb_type(f["type"])] for f in spark_fields]
        got_types = [[n, normal.unquoted(t)] for n, t in got["columns"]]
        if want_types != got_types:
            diff = [f"{w[0]}: {g[1]} (want {w[1]})" for w, g in zip(want_types, got_types) if w != g]
            problems.append(f"{tag}: column types {'; '.join(diff) or got_types}")
        ours_rows = [normal.normal_row(r, spark_fields, "ours") for r in got["rows"]]
        missing = Counter(v.spark_rows) - Counter(ours_rows)
        extra = Counter(ours_rows) - Counter(v.spark_rows)
        if missing or extra:
            problems.append(
                f"{tag}: {len(ours_rows)} rows, Spark {len(v.spark_rows)}; values differ in {', '.join(_columns_differing(v.spark_rows, ours_rows)) or 'no column'}"
                + (f"\n    missing {sorted(missing.elements())[:2]}\n    unexpected {sorted(extra.elements())[:2]}" if detail else "")
            )
    return problems


def _columns_differing(want, got):
    """The columns whose values, as multisets, differ between two lists of normal rows."""
    want, got = [json.loads(r) for r in want], [json.loads(r) for r in got]
    names = sorted({k for r in want + got for k in r})
    values = lambda rows, k: Counter(json.dumps(r.get(k), sort_keys=True) for r in rows)  # noqa: E731
    return [k for k in names if values(want, k) != values(got, k)]


def _short(message, root):
    """An error without the temporary folder (so the matrix does not change from run to run)."""
    text = message.replace(root, "…") if root else message
    return re.sub(r"^delta: ", "", text)


@pytest.mark.parametrize("case", list(CASES))
def test_reads_like_spark(their_tables, case):
    b = their_tables[case]
    expect = EXPECT[(b.case.writer, b.case.feature)]
    problems = _problems(b, expect)
    assert problems == [], f"{case} (expected: {expect.outcome})\n" + "\n".join(problems)


@pytest.mark.parametrize("case", CLI_READ)
def test_cli_read_prints_the_same_rows(their_tables, case):
    """The user's path, `cli read TABLE`, on the latest version: the batch reader's rows, line for line."""
    b = their_tables[case]
    assert not b.error, b.error
    latest = b.versions[-1]
    assert "error" not in latest.ours, latest.ours.get("error")
    proc = subprocess.run(["npx", "tsx", "src/cli/main.ts", "read", b.path], cwd=READER, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    printed = [json.loads(line, parse_float=Decimal) for line in proc.stdout.splitlines()]
    text = lambda rows: sorted(json.dumps(r, default=str, sort_keys=True) for r in rows)  # noqa: E731
    assert len(printed) == len(latest.spark_rows)
    assert text(printed) == text(latest.ours["rows"])
    fields = latest.spark_schema["fields"]
    assert Counter(normal.normal_row(r, fields, "ours") for r in printed) == Counter(latest.spark_rows)


# ---------------------------------------------------------------------------------------------
# The matrix


def _cell(b, expect, root):
    if b is None:
        return "—"
    problems = _problems(b, expect, root, detail=False)
    if b.error:
        return f"✗ not written: {_md(b.error)}"
    readable = [v for v in b.versions if v.version not in expect.gone]
    rows = sum(len(v.spark_rows or []) for v in readable)
    n = len(b.versions)
    if not problems:
        if expect.outcome == "refused":
            return f"✓ refused as expected ({n} versions)"
        gone = f"; v{min(expect.gone)}–v{max(expect.gone)} refused: data files vacuumed" if expect.gone else ""
        return f"✓ read: {len(readable)} of {n} versions equal to Spark's ({rows} rows){gone}"
    refusals = sorted({_reason(v.ours.get("error", ""), root) for v in b.versions if v.ours and v.ours.get("error") and v.version not in expect.gone})
    if refusals and all(v.ours and v.ours.get("error") for v in readable):
        return f"✗ refused ({n} versions): {_md('; '.join(refusals))}"
    ok = len(readable) - len({m.group(0) for p in problems if (m := re.match(r"v\d+", p))})
    return f"✗ {ok} of {len(readable)} versions as expected; {_md(problems[0])}"


def _reason(error, root):
    """The reason of a refusal, without the table's path and the per-file detail."""
    text = _short(error, root)
    m = re.search(r'needs the reader feature "([^"]+)"', text)
    return f'reader feature "{m.group(1)}" not supported' if m else re.sub(r"file \S+", "file …", text)[:160]


def _md(text):
    return text.replace("|", "\\|").replace("\n", " ")


def render(built, root):
    by = {(b.case.writer, b.case.feature): b for b in built.values()}
    writers = [("spark", f"Spark {pyspark.__version__} + delta-spark {DELTA_SPARK}"), ("delta-rs", f"delta-rs (deltalake {deltalake.__version__})")]
    lines = [
        "## Tables written by Spark and delta-rs, read by this reader",
        "",
        "From `interop/test_their_tables.py` (`bash interop/run.sh test_their_tables.py`). Each table is written fresh by the peer (`interop/peers.py`), then every",
        "version is read by this project's reader (`scripts/read-versions.ts`, the code of `cli read`) and",
        "compared with Spark's read of the same version: rows as multisets (decimals and 64-bit integers exact,",
        "timestamps as UTC micros, binary as base64, NaN as text, nested values recursively), the schema and",
        "the DuckDB column types. ✓: as expected (`EXPECT` in the test); ✗: not (yet) — the reason follows.",
        "",
        "| feature | " + " | ".join(name for _, name in writers) + " |",
        "|---|" + "---|" * len(writers),
    ]
    for feature, title in peers.FEATURES.items():
        cells = []
        for w, _ in writers:
            if (w, feature) in peers.NOT_WRITTEN:
                cells.append(f"— ({peers.NOT_WRITTEN[(w, feature)]})")
            else:
                cells.append(_cell(by.get((w, feature)), EXPECT[(w, feature)], root))
        lines.append(f"| **{feature}**: {_md(title)} | " + " | ".join(cells) + " |")
    lines += ["", "### The tables", "", "| table | protocol (reader, writer, features) | versions | rows per version (Spark) |", "|---|---|---|---|"]
    for b in sorted(built.values(), key=lambda b: (b.case.writer != "spark", list(peers.FEATURES).index(b.case.feature))):
        if b.error:
            continue
        p = b.protocol or {}
        feats = sorted(set(p.get("readerFeatures", [])) | set(p.get("writerFeatures", [])))
        proto = f"{p.get('minReaderVersion')}, {p.get('minWriterVersion')}" + (f", {', '.join(feats)}" if feats else "")
        counts = ", ".join(str(len(v.spark_rows)) if v.spark_rows is not None else "gone" for v in b.versions)
        lines.append(f"| {b.case.id} | {proto} | {len(b.versions)} | {counts} |")
    return "\n".join(lines) + "\n"
