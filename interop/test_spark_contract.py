"""The Spark runner's contract check rejects exactly what ours rejects, with the same words
(issue 17): spark/creatorops_spark/contract.py (V8's JSON.parse, ajv's errors over
contracts/event_schema.json) against src/pipeline/contract.ts's checkLine, line by line — first in
Python alone on many lines, then through Spark (the check runs on the executors) against `cli
ingest` on a file of the generator's bad lines and hostile ones."""
import json
from collections import Counter

import pytest

from conftest import ROOT, cli
from hostile_lines import hostile_lines
from lakehouse_compare import assert_same_lakehouse, latest
from spark_runner import copy_bronze, generated_lines, run_on_spark, steps

from creatorops_spark.contract import Contract  # spark_runner put spark/ on the path
from creatorops_spark.jsvalues import well_formed


def stored(v):
    """A value of checkLine's result as a table stores it (UTF-8: a lone surrogate becomes U+FFFD)."""
    if isinstance(v, str):
        return well_formed(v)
    if isinstance(v, list):
        return [stored(x) for x in v]
    if isinstance(v, dict):
        return {k: stored(x) for k, x in v.items()}
    return v


@pytest.fixture(scope="module")
def lines():
    generated = generated_lines(8000, 17, 0.3)  # 30 % bad, every kind the generator makes
    valid = [g for g in generated if g.startswith("{")][:2000]
    return generated + hostile_lines(valid, 8000, seed=17)


def test_every_line_checks_as_contract_ts_checks_it(lines, tmp_path):
    file = tmp_path / "lines.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    ours = [stored(json.loads(x)) for x in steps("check", file).split("\n") if x]
    assert len(ours) == len(lines)
    contract = Contract.load(ROOT / "contracts" / "event_schema.json")
    outcomes = Counter()
    for i, (line, want) in enumerate(zip(lines, ours)):
        r = contract.check(line, i + 1)
        if r[0] == "ok":
            ev = {k: v for k, v in r[1].items() if k != "occurred_at"}
            ev["occurred_at_us"] = str(r[1]["occurred_at"])
            assert "ok" in want, f"line {i + 1} accepted here, rejected by contract.ts {want}: {line[:300]!r}"
            expected = {k: v for k, v in want["ok"].items() if k != "schema_version"}
            assert ev == expected, f"line {i + 1}: {ev} vs contract.ts {expected}"
        else:
            got = {"stage": r[0], "eventId": r[1], "reasons": r[2], "errors": r[3]}
            assert got == want, f"line {i + 1}: {line[:300]!r}\n  here        {got}\n  contract.ts {want}"
        outcomes[r[0]] += 1
    # the premise: every outcome, in numbers
    assert outcomes["ok"] > 5000 and outcomes["parse"] > 1000 and outcomes["schema"] > 5000, outcomes


def test_spark_rejects_what_cli_ingest_rejects(spark, lines, tmp_path):
    file = tmp_path / "events.jsonl"
    # a line is what the file holds between newlines: none of these has one inside
    file.write_text("\n".join(lines[::4]) + "\n", encoding="utf-8")
    ours = tmp_path / "ours"
    cli("ingest", file, "--out", ours, env={"LAKEHOUSE_CHECK_THREADS": "0"})
    theirs = copy_bronze(ours, tmp_path / "spark")
    summary = run_on_spark(spark, theirs)
    assert [b["bronzeVersion"] for b in summary["silver"]] == [0]
    counts = assert_same_lakehouse(ours, theirs, ("cli ingest", "Spark"))
    rejects = latest(theirs, ["silver/rejects"])["silver/rejects"][1]
    stages = Counter(r["stage"] for r in rejects)
    assert counts["bronze/events"] == len(lines[::4])
    assert counts["silver/rejects"] == summary["silver"][0]["rejectedRows"] == sum(stages.values())
    assert stages["parse"] > 200 and stages["schema"] > 1000 and stages["duplicate"] > 0, stages
