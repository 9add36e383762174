"""One normal form for a row, whoever read it: Spark's collected Python values, or the JSON lines
this project's reader prints (`cli read`, scripts/read-versions.ts). Driven by the Delta type of
each column (Spark's `schema.jsonValue()` and a Delta schemaString have the same shape).

- integers of any width: exact Python ints
- decimal(p,s): the exact digits at scale s, as text
- float: the value rounded to 32 bits, as text; double as text; NaN, Infinity, -Infinity, -0.0 as text
- date: YYYY-MM-DD; timestamp: YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC); timestamp_ntz: the same without Z
- binary: base64
- struct: {name: value} over the type's fields; array: a list; map: [key, value] pairs sorted
A value that is not in a form this knows for its type becomes {"unreadable": repr}, so it can
only ever differ.
"""
import base64
import datetime as dt
import decimal
import json
import math
import struct

_CTX = decimal.Context(prec=100)


class Bad(Exception):
    pass


def _bad(value):
    return {"unreadable": repr(value)}


def _float_text(f):
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return repr(f)


def _number(value):
    if isinstance(value, bool):
        raise Bad
    if isinstance(value, (int, float, decimal.Decimal)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    raise Bad


def _iso(d):
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _iso_time(t):
    return f"{_iso(t)}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}"


def _primitive(value, t, side):
    if t in ("byte", "short", "integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise Bad
        return int(value)
    if t == "float":
        return _float_text(struct.unpack("<f", struct.pack("<f", _number(value)))[0])
    if t == "double":
        return _float_text(_number(value))
    if t.startswith("decimal("):
        scale = int(t[len("decimal("):-1].split(",")[1])
        if isinstance(value, (bool, float)) or not isinstance(value, (int, str, decimal.Decimal)):
            raise Bad
        return str(decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-scale), context=_CTX))
    if t == "string":
        if not isinstance(value, str):
            raise Bad
        return value
    if t == "boolean":
        if not isinstance(value, bool):
            raise Bad
        return value
    if t == "binary":
        if side == "spark" and isinstance(value, (bytes, bytearray)):
            return base64.b64encode(bytes(value)).decode()
        if side == "ours" and isinstance(value, str):
            base64.b64decode(value, validate=True)
            return value
        raise Bad
    if t == "date":
        if side == "spark" and isinstance(value, dt.date):
            return _iso(value)
        if side == "ours" and isinstance(value, str):
            return _iso(dt.date.fromisoformat(value))
        raise Bad
    if t in ("timestamp", "timestamp_ntz"):
        zone = "Z" if t == "timestamp" else ""
        if side == "spark" and isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return _iso_time(value) + zone
        if side == "ours" and isinstance(value, str):
            if zone and not value.endswith("Z"):
                raise Bad
            return _iso_time(dt.datetime.fromisoformat(value.removesuffix("Z"))) + zone
        raise Bad
    raise Bad


def normal(value, t, side):
    """`value` of Delta type `t` (a string or a dict), as read by `side` ("spark" or "ours")."""
    if value is None:
        return None
    try:
        if isinstance(t, str):
            return _primitive(value, t, side)
        kind = t["type"]
        if kind == "struct":
            if side == "spark":
                value = value.asDict(recursive=False) if hasattr(value, "asDict") else value
            if not isinstance(value, dict) or set(value) != {f["name"] for f in t["fields"]}:
                raise Bad
            return {f["name"]: normal(value[f["name"]], f["type"], side) for f in t["fields"]}
        if kind == "array":
            if not isinstance(value, list):
                raise Bad
            return [normal(v, t["elementType"], side) for v in value]
        if kind == "map":
            if not isinstance(value, dict):
                raise Bad
            pairs = [[normal(k, t["keyType"], side), normal(v, t["valueType"], side)] for k, v in value.items()]
            return sorted(pairs, key=lambda kv: json.dumps(kv[0], sort_keys=True))
    except (Bad, ValueError, TypeError, decimal.InvalidOperation, struct.error):
        return _bad(value)
    return _bad(value)


def normal_row(row, fields, side):
    """A row (Spark's Row or our dict) as one JSON text, its columns by name."""
    if side == "spark":
        row = row.asDict(recursive=False)
    if set(row) != {f["name"] for f in fields}:
        return json.dumps({"columns": sorted(row)})
    return json.dumps({f["name"]: normal(row[f["name"]], f["type"], side) for f in fields}, sort_keys=True, ensure_ascii=False)


def shape(t):
    """A Delta type without metadata and nullability: names and types only."""
    if isinstance(t, str):
        return t
    kind = t["type"]
    if kind == "struct":
        return {"struct": [[f["name"], shape(f["type"])] for f in t["fields"]]}
    if kind == "array":
        return {"array": shape(t["elementType"])}
    if kind == "map":
        return {"map": [shape(t["keyType"]), shape(t["valueType"])]}
    return t


_DUCK = {
    "byte": "TINYINT", "short": "SMALLINT", "integer": "INTEGER", "long": "BIGINT", "float": "FLOAT", "double": "DOUBLE",
    "string": "VARCHAR", "binary": "BLOB", "boolean": "BOOLEAN", "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP",
}


def duckdb_type(t):
    """The DuckDB column type a correct read gives a column of Delta type `t` (as DESCRIBE prints it, unquoted)."""
    if isinstance(t, str):
        if t.startswith("decimal("):
            return "DECIMAL" + t[len("decimal"):].replace(" ", "")
        return _DUCK[t]
    kind = t["type"]
    if kind == "struct":
        return "STRUCT(" + ", ".join(f"{f['name']} {duckdb_type(f['type'])}" for f in t["fields"]) + ")"
    if kind == "array":
        return duckdb_type(t["elementType"]) + "[]"
    if kind == "map":
        return f"MAP({duckdb_type(t['keyType'])}, {duckdb_type(t['valueType'])})"
    raise KeyError(kind)


def unquoted(duck):
    """DuckDB quotes some struct field names in DESCRIBE; compare without the quotes."""
    return duck.replace('"', "")
