"""Two lakehouses compared table by table, as this project reads them (scripts/interop/versions.ts,
the code of `cli read`): the latest version of every table, rows and column types.

Rows are compared as multisets, every value exact, except: `silver/rejects.rejected_at` (the clock
of the run that rejected the line) is left out, and gold's doubles — aggregates whose last bits
depend on the order an engine adds them in — are equal within a relative 1e-12. Gold rows are
compared in the models' order (each ends with ORDER BY)."""
import math
from collections import Counter

from delta_compare import our_tables, row_tuple

SILVER_TABLES = ["bronze/events", "silver/events", "silver/rejects", "silver/quality"]
GOLD_TABLES = ["gold/writing_velocity_daily", "gold/revision_churn_daily", "gold/engagement_bands", "gold/dropoff_rate",
               "gold/stage_bottlenecks", "gold/post_release_engagement"]
TABLES = SILVER_TABLES + GOLD_TABLES
LEFT_OUT = {"silver/rejects": {"rejected_at"}}
REL = 1e-12


def latest(root, tables=TABLES) -> dict:
    """{table: (schema fields, rows as dicts)} at each table's latest version."""
    out = {}
    for name, t in our_tables(root, tables).items():
        v = t.versions[max(t.versions)]
        assert v.rows is not None, f"{root}/{name} at version {v.version} cannot be read: {v.error}"
        out[name] = (v.schema, v.rows)
    return out


def fields(schema) -> list:
    return [(f["name"], f["type"] if isinstance(f["type"], str) else f["type"]["type"]) for f in schema["fields"]]


def _kept(schema, table):
    drop = LEFT_OUT.get(table, set())
    return {"fields": [f for f in schema["fields"] if f["name"] not in drop]}


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=REL, abs_tol=0.0)
    return a == b


def assert_same_table(table, ours, theirs, what=("ours", "theirs")):
    (s1, r1), (s2, r2) = ours, theirs
    assert fields(s1) == fields(s2), f"{table}: columns differ: {what[0]} {fields(s1)}, {what[1]} {fields(s2)}"
    schema = _kept(s1, table)
    a = [row_tuple(r, schema) for r in r1]
    b = [row_tuple(r, schema) for r in r2]
    if not table.startswith("gold/"):
        ca, cb = Counter(a), Counter(b)
        if ca != cb:
            only_a = list((ca - cb).elements())[:3]
            only_b = list((cb - ca).elements())[:3]
            raise AssertionError(f"{table}: {len(a)} rows ({what[0]}) vs {len(b)} ({what[1]}); {what[0]} only (first 3): {only_a}; {what[1]} only: {only_b}")
        return len(a)
    assert len(a) == len(b), f"{table}: {len(a)} rows ({what[0]}) vs {len(b)} ({what[1]})"
    for i, (x, y) in enumerate(zip(a, b)):
        assert all(_close(p, q) for p, q in zip(x, y)), f"{table} row {i}: {what[0]} {x} vs {what[1]} {y}"
    return len(a)


def assert_same_lakehouse(root_a, root_b, what=("ours", "theirs")) -> dict:
    """Every table equal; the row count of each."""
    a, b = latest(root_a), latest(root_b)
    assert sorted(a) == sorted(TABLES), f"{root_a} holds {sorted(a)}"
    assert sorted(b) == sorted(TABLES), f"{root_b} holds {sorted(b)}"
    return {t: assert_same_table(t, a[t], b[t], what) for t in TABLES}
