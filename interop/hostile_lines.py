"""Event lines bad in the ways a hand-written or broken producer makes them, derived from valid
ones with a seeded random: fields of the wrong type, out of range, missing, forbidden for the event
type or unknown (integer-like keys, `__proto__`, long and astral-plane keys), numbers JSON allows
but JS prints its own way (1e400, -0, 1e21, 30 digits), strings with escapes, control characters,
lone surrogates and emoji across the 64-character limits, deep nesting, duplicate keys, and JSON
broken by a character deleted, inserted or cut off."""
import json
import random

FIELDS = ["event_id", "event_type", "occurred_at", "creator_id", "work_id", "schema_version", "stage", "words",
          "duration_minutes", "words_changed", "revision_no", "reader_id", "engagement_seconds", "progress_pct", "attributes"]
EVENT_TYPES = ["stage_entered", "writing_session", "revision", "reader_engagement", "reader_dropoff"]
RAW_NUMBERS = ["1e400", "-1e400", "-0", "1e21", "1.5", "123456789012345678901234567890", "0.000001", "1e-7", "50000",
               "50001", "100000.0", "-1", "86400", "86400.5", "1440", "1E2", "2.5e-3", "99.99999999999999", "100"]
TIMES = ["2026-02-30T00:00:00Z", "2026-01-01T00:00:00+24:00", "2026-01-01 00:00:00Z", "2026-01-01T00:00:60Z",
         "2026-01-01T00:00:00.1234567890Z", "2024-02-29T23:59:59-23:59", "2026-01-01T00:00:00z", "2026-01-01t00:00:00Z",
         "2026-01-01T00:00:00Z\n", "١٢٣٤-01-01T00:00:00Z", "2025-03-01T12:00:00Z"]
KEYS = ["extra", "1", "0", "10", "__proto__", "constructor", "toString", "a/b~c", "😀" * 40, "y" * 80, "4294967295", "4294967294", "01"]
BREAK = list('{}[]:,"\\ -+.0123456789eEtrufalsn\t\rxé😀\x01€')


def _object(line):
    try:
        o = json.loads(line)
    except ValueError:
        return None
    return o if isinstance(o, dict) else None


class Raw:
    """A number written as this text."""

    def __init__(self, text):
        self.text = text


def hostile_lines(valid: list, count: int, seed: int) -> list:
    """`count` lines made from the lines of `valid` that are JSON objects."""
    rnd = random.Random(seed)
    objects = [o for o in map(_object, valid) if o is not None]

    def text():
        k = rnd.random()
        if k < 0.2:
            return ""
        if k < 0.4:
            return "x" * rnd.choice([63, 64, 65, 128, 129, 300])
        if k < 0.6:
            return "😀" * rnd.choice([1, 32, 33, 64, 65, 100]) + "a"
        if k < 0.7:
            return rnd.choice(["draft", "released", "bogus", *EVENT_TYPES])
        if k < 0.8:
            return rnd.choice(TIMES)
        return "".join(rnd.choice('ab"\\/\n\t\x01é€😀~\ud800') for _ in range(rnd.randint(1, 30)))

    def value(depth=0):
        k = rnd.random()
        if k < 0.3:
            return Raw(rnd.choice(RAW_NUMBERS))
        if k < 0.55:
            return text()
        if k < 0.62:
            return rnd.choice([True, False, None])
        if k < 0.75 and depth < 3:
            return [value(depth + 1) for _ in range(rnd.randint(0, 4))]
        if k < 0.9 and depth < 3:
            return {rnd.choice(["a", "2", "1", "0", "__proto__", "b😀", "x" * 70]): value(depth + 1) for _ in range(rnd.randint(0, 4))}
        return rnd.randint(-5, 200000)

    def dump(v):
        if isinstance(v, Raw):
            return v.text
        if isinstance(v, list):
            return "[" + ",".join(dump(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ",".join(key(k) + ":" + dump(x) for k, x in v.items()) + "}"
        if isinstance(v, str):
            return key(v)
        return json.dumps(v)

    def key(k):
        # escaped or literal; a lone surrogate can only be written escaped
        return json.dumps(k, ensure_ascii=rnd.random() < 0.5 or any("\ud800" <= c <= "\udfff" for c in k))

    out = []
    for _ in range(count):
        items = list(rnd.choice(objects).items())
        for _ in range(rnd.randint(1, 4)):
            k = rnd.random()
            if k < 0.3 and items:
                i = rnd.randrange(len(items))
                items[i] = (items[i][0], value())
            elif k < 0.45 and items:
                items.pop(rnd.randrange(len(items)))
            elif k < 0.65:
                items.insert(rnd.randrange(len(items) + 1), (rnd.choice(FIELDS), value()))
            elif k < 0.8:
                items.insert(rnd.randrange(len(items) + 1), (rnd.choice(KEYS), value()))
            elif k < 0.9:
                items = [(a, rnd.choice(EVENT_TYPES)) if a == "event_type" else (a, b) for a, b in items]
            else:
                items.append(("attributes", Raw("[" * rnd.choice([63, 64, 65, 200]) + "]" * rnd.choice([63, 64, 65, 200]))))
        if rnd.random() < 0.05:
            items = items * 2
        line = "{" + ",".join(key(a) + ":" + dump(b) for a, b in items) + "}"
        if rnd.random() < 0.25:  # broken JSON
            for _ in range(rnd.randint(1, 2)):
                p = rnd.randrange(len(line) + 1)
                k = rnd.random()
                line = line[:p] + line[p + 1:] if k < 0.4 else line[:p] + rnd.choice(BREAK) + line[p:] if k < 0.8 else line[:p]
        out.append(line.replace("\n", "\\n"))
    return out
