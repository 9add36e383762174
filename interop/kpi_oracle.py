"""The six gold KPIs computed in plain Python from silver/events rows, from their definitions in
docs/kpis.md and the comments of sql/gold/*.sql — an oracle written apart from both the DuckDB SQL
and its Spark translation. Rows come out in each model's order, as dicts of plain values: dates as
YYYY-MM-DD, timestamps as UTC datetimes, doubles as floats."""
from collections import defaultdict
from datetime import timedelta

MICROS = timedelta(microseconds=1)
BANDS = [("bounce", 0.0, 30.0), ("skim", 30.0, 300.0), ("read", 300.0, 1800.0), ("deep", 1800.0, None)]
LIFECYCLE = ["draft", "writing", "revision", "beta", "submission", "edit", "scheduled", "released", "engagement"]


def quantile_cont(values, q):
    xs = sorted(values)
    if not xs:
        return None
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    d = pos - lo
    return xs[lo] * (1 - d) + xs[hi] * d


def mean(values):
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def ratio(a, b):
    return None if a is None or not b else a / b


def distinct(values):
    return len({v for v in values if v is not None})


def total(values):
    xs = [v for v in values if v is not None]
    return sum(xs) if xs else None


def day(e):
    return e["occurred_at"].date().isoformat()


def by(events, key):
    groups = defaultdict(list)
    for e in events:
        groups[key(e)].append(e)
    return groups


def of_type(events, *types):
    return [e for e in events if e["event_type"] in types]


def writing_velocity_daily(events):
    rows = []
    for d, es in sorted(by(of_type(events, "writing_session"), day).items()):
        words, creators = total(e["words"] for e in es), distinct(e["creator_id"] for e in es)
        rows.append({"day": d, "sessions": len(es), "words": words, "active_creators": creators, "words_per_creator": ratio(words, creators)})
    return rows


def revision_churn_daily(events):
    written = {d: total(e["words"] for e in es) for d, es in by(of_type(events, "writing_session"), day).items()}
    rows = []
    for d, es in sorted(by(of_type(events, "revision"), day).items()):
        changed, w = total(e["words_changed"] for e in es), written.get(d) or 0
        rows.append({"day": d, "revisions": len(es), "works_revised": distinct(e["work_id"] for e in es), "words_changed": changed,
                     "words_written": w, "churn_ratio": ratio(changed, w)})
    return rows


def engagement_bands(events):
    es = [e for e in of_type(events, "reader_engagement") if e["engagement_seconds"] is not None]
    banded = [[e for e in es if lo <= e["engagement_seconds"] and (hi is None or e["engagement_seconds"] < hi)] for _, lo, hi in BANDS]
    n = sum(len(b) for b in banded)
    return [{"band": name, "sessions": len(b), "share": ratio(len(b), n), "avg_progress_pct": mean(e["progress_pct"] for e in b)}
            for (name, _, _), b in zip(BANDS, banded)]


def dropoff_rate(events):
    rows = []
    for work, es in sorted(by(of_type(events, "reader_engagement", "reader_dropoff"), lambda e: e["work_id"]).items()):
        drops = of_type(es, "reader_dropoff")
        readers, dropped = distinct(e["reader_id"] for e in es), distinct(e["reader_id"] for e in drops)
        rows.append({"work_id": work, "readers": readers, "dropped_readers": dropped, "dropoff_rate": ratio(dropped, readers),
                     "median_dropoff_progress_pct": quantile_cont([e["progress_pct"] for e in drops if e["progress_pct"] is not None], 0.5)})
    return rows


def stage_bottlenecks(events):
    visits = defaultdict(list)  # stage -> dwell hours of each visit, None while open
    for es in by(of_type(events, "stage_entered"), lambda e: e["work_id"]).values():
        es.sort(key=lambda e: (e["occurred_at"], e["event_id"]))
        for e, nxt in zip(es, es[1:] + [None]):
            visits[e["stage"]].append(None if nxt is None else ((nxt["occurred_at"] - e["occurred_at"]) // MICROS) / 3600e6)
    order = sorted(visits, key=lambda s: (LIFECYCLE.index(s) if s in LIFECYCLE else len(LIFECYCLE), s))
    rows = []
    for s in order:
        done = [h for h in visits[s] if h is not None]
        rows.append({"stage": s, "completed_visits": len(done), "open_visits": len(visits[s]) - len(done), "avg_dwell_hours": mean(done),
                     "median_dwell_hours": quantile_cont(done, 0.5), "p90_dwell_hours": quantile_cont(done, 0.9)})
    ranked = sorted(rows, key=lambda r: (r["median_dwell_hours"] is None, -(r["median_dwell_hours"] or 0.0), order.index(r["stage"])))
    for r in rows:
        r["is_bottleneck"] = r is ranked[0] and r["completed_visits"] > 0
    return rows


def post_release_engagement(events):
    released = {}
    for e in events:
        if e["event_type"] == "stage_entered" and e["stage"] == "released":
            released[e["work_id"]] = min(released.get(e["work_id"], e["occurred_at"]), e["occurred_at"])
    readers = by(of_type(events, "reader_engagement", "reader_dropoff"), lambda e: e["work_id"])
    rows = []
    for work in sorted(released):
        at, es = released[work], readers.get(work, [])
        week = [e for e in es if at <= e["occurred_at"] < at + timedelta(days=7)]
        engaged = of_type(week, "reader_engagement")
        later = [e["occurred_at"] for e in of_type(es, "reader_engagement") if e["occurred_at"] >= at]
        rows.append({"work_id": work, "released_at": at, "readers_7d": distinct(e["reader_id"] for e in engaged), "sessions_7d": len(engaged),
                     "avg_engagement_seconds_7d": mean(e["engagement_seconds"] for e in engaged),
                     "dropoffs_7d": distinct(e["reader_id"] for e in of_type(week, "reader_dropoff")),
                     "readers_total": distinct(e["reader_id"] for e in of_type(es, "reader_engagement")),
                     "days_to_first_reader": ((min(later) - at) // MICROS) / 86400e6 if later else None})
    return rows


KPIS = {f.__name__: f for f in (writing_velocity_daily, revision_churn_daily, engagement_bands, dropoff_rate, stage_bottlenecks,
                                post_release_engagement)}


def gold(events) -> dict:
    """{kpi: rows} for every gold table, from silver/events rows."""
    return {name: f(events) for name, f in KPIS.items()}
