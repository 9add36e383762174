"""Contract v1 for one raw line, as src/pipeline/contract.ts checks it: JSON.parse (V8's values and
messages, v8json.py), then contracts/event_schema.json evaluated as ajv 8 evaluates it with
allErrors (the same errors, in the same order), then the same reason names, messages, ordering and
limits. The schema file stays the only definition of the contract: this reads it."""
import json
import math
import re
from dataclasses import dataclass

from . import jsvalues as js
from .v8json import JsonParseError, parse

MAX_ERRORS = 20
ECHO_CHARS = 200
ATTRIBUTES_MAX_DEPTH = 64

# The keywords this evaluator implements; a schema using another one is refused, not half-checked.
_ANNOTATIONS = {"$schema", "$id", "title", "description", "$comment"}
_KEYWORDS = {"type", "required", "additionalProperties", "properties", "allOf", "if", "then", "const", "enum",
             "minimum", "maximum", "minLength", "maxLength", "pattern"}
# ajv evaluates untyped keywords first, then each type's group, each in its vocabulary's order
_UNTYPED = ["const", "enum", "allOf", "if"]
_GROUPS = {"number": ["maximum", "minimum"], "string": ["maxLength", "minLength", "pattern"],
           "object": ["required", "additionalProperties", "properties"]}


class ContractError(ValueError):
    pass


@dataclass
class AjvError:
    keyword: str
    path: str  # the field, decoded (ajv's instancePath without its leading /)
    params: dict
    in_then: bool = False


def _is_number(v) -> bool:
    return isinstance(v, float)


def _type_ok(t: str, v) -> bool:
    if t == "string":
        return isinstance(v, str)
    if t == "number":
        return _is_number(v) and math.isfinite(v)  # strictNumbers
    if t == "integer":
        return _is_number(v) and math.isfinite(v) and v.is_integer()
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    raise ContractError(f"contract: type {t!r} is not supported")


def _equal(a, b) -> bool:
    """fast-deep-equal on JSON values (true is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def _js_pattern(pattern: str) -> re.Pattern:
    # JS: `$` only at the very end (Python's also before a final newline); \d and \w are ASCII.
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern), re.ASCII)


class Schema:
    """One schema node, its keywords checked once."""

    def __init__(self, node, where="#"):
        self.node = node
        if isinstance(node, bool):
            return
        unknown = set(node) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise ContractError(f"contract: {where} uses {', '.join(sorted(unknown))}, which the Spark runner's evaluator does not implement")
        self.type = node.get("type")
        self.props = {k: Schema(v, f"{where}/properties/{k}") for k, v in node.get("properties", {}).items()}
        self.all_of = [Schema(s, f"{where}/allOf/{i}") for i, s in enumerate(node.get("allOf", []))]
        self.if_ = Schema(node["if"], f"{where}/if") if "if" in node else None
        self.then = Schema(node["then"], f"{where}/then") if "then" in node else None
        self.pattern = _js_pattern(node["pattern"]) if "pattern" in node else None
        # ajv checks the type up front unless the type has a group of its own with keywords here
        # ("integer" has none: it is always checked up front)
        self.type_up_front = self.type is not None and not (self.type in _GROUPS and any(k in node for k in _GROUPS[self.type]))

    def errors(self, data, path="", in_then=False) -> list:
        out = []
        self._evaluate(data, path, in_then, out)
        return out

    def _evaluate(self, data, path, in_then, out):
        if self.node is False:
            out.append(AjvError("false schema", path, {}, in_then))
            return
        if self.node is True:
            return
        n = self.node
        if self.type_up_front and not _type_ok(self.type, data):
            out.append(AjvError("type", path, {"type": self.type}, in_then))
        for k in _UNTYPED:
            if k not in n:
                continue
            if k == "const" and not _equal(data, n["const"]):
                out.append(AjvError("const", path, {"allowedValue": n["const"]}, in_then))
            elif k == "enum" and not any(_equal(data, e) for e in n["enum"]):
                out.append(AjvError("enum", path, {"allowedValues": n["enum"]}, in_then))
            elif k == "allOf":
                for s in self.all_of:
                    s._evaluate(data, path, in_then, out)
            elif k == "if" and self.then is not None and not self.if_.errors(data, path):
                before = len(out)
                self.then._evaluate(data, path, True, out)
                if len(out) > before:
                    out.append(AjvError("if", path, {"failingKeyword": "then"}, in_then))
        for group, keywords in _GROUPS.items():
            if not any(k in n for k in keywords):
                continue
            if not _type_ok(group, data):
                if self.type == group and not self.type_up_front:
                    out.append(AjvError("type", path, {"type": self.type}, in_then))
                continue
            for k in keywords:
                if k not in n:
                    continue
                v = n[k]
                if k == "maximum" and not data <= v:
                    out.append(AjvError(k, path, {"comparison": "<=", "limit": v}, in_then))
                elif k == "minimum" and not data >= v:
                    out.append(AjvError(k, path, {"comparison": ">=", "limit": v}, in_then))
                elif k == "maxLength" and len(data) > v:
                    out.append(AjvError(k, path, {"limit": v}, in_then))
                elif k == "minLength" and len(data) < v:
                    out.append(AjvError(k, path, {"limit": v}, in_then))
                elif k == "pattern" and not self.pattern.search(data):
                    out.append(AjvError(k, path, {"pattern": v}, in_then))
                elif k == "required":
                    for p in v:
                        if p not in data:
                            out.append(AjvError(k, path, {"missingProperty": p}, in_then))
                elif k == "additionalProperties" and v is False:
                    for key in js.keys(data):
                        if key not in self.props:
                            out.append(AjvError(k, path, {"additionalProperty": key}, in_then))
                elif k == "properties":
                    for p, s in self.props.items():
                        if p in data:
                            s._evaluate(data[p], p, in_then, out)


@dataclass
class Violation:
    reason: str
    field: str
    message: str


class Contract:
    """checkLine of src/pipeline/contract.ts for this schema."""

    def __init__(self, schema: dict):
        self.schema = Schema(schema)
        self.field_order = list(schema.get("properties", {}))
        self.order = {f: i for i, f in enumerate(self.field_order)}

    @classmethod
    def load(cls, path: str) -> "Contract":
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def check(self, raw: str, line_no: int):
        """("ok", typed event dict) or ("parse"|"schema", event_id, reasons, errors)."""
        try:
            data = parse(raw)
        except JsonParseError as e:
            return self._reject("parse", None, [Violation("invalid_json", "", f"line {line_no}: invalid JSON: {js.clip(str(e), ECHO_CHARS)}")])
        if not isinstance(data, dict):
            return self._reject("schema", None, [Violation("not_object", "", f"(root): must be a JSON object (got {preview(data)})")])
        event_id = _readable_id(data.get("event_id"))
        errors = self.schema.errors(data)
        violations = self._from_ajv(data, errors) if errors else []
        occurred = data.get("occurred_at")
        occurred_us = rfc3339_to_micros(occurred) if isinstance(occurred, str) else None
        if isinstance(occurred, str) and occurred_us is None and not any(v.reason == "format:occurred_at" for v in violations):
            violations.append(_format_violation(occurred))
        if "attributes" in data and _depth_exceeds(data["attributes"], ATTRIBUTES_MAX_DEPTH):
            violations.append(Violation("maxDepth:attributes", "attributes", f"/attributes: must be nested at most {ATTRIBUTES_MAX_DEPTH} levels deep"))
        if violations or occurred_us is None:
            return self._reject("schema", event_id, violations)
        return ("ok", _typed(data, occurred_us))

    def _reject(self, stage, event_id, violations):
        n = len(self.field_order)
        ranked = sorted(enumerate(violations), key=lambda iv: (self.order.get(iv[1].field, n), iv[0]))
        ordered = [v for _, v in ranked]
        kept = ordered[:MAX_ERRORS]
        errors = [v.message for v in kept]
        if len(ordered) > len(kept):
            errors.append(f"… and {len(ordered) - len(kept)} more errors")
        reasons = list(dict.fromkeys(v.reason for v in kept))
        wf = js.well_formed
        return (stage, wf(event_id) if event_id is not None else None, [wf(r) for r in reasons], [wf(e) for e in errors])

    def _from_ajv(self, record, errors):
        typed = {e.path for e in errors if e.keyword == "type"}
        event_type = record.get("event_type")
        return [_describe(e, record, event_type) for e in errors
                if e.keyword != "if" and not (e.keyword != "type" and e.path in typed)]


def _got(record, field):
    return f"(got {preview(record.get(field))})"


def _js_str(v) -> str:
    """String(v) of a schema value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return js.number_str(float(v))
    return str(v)


def _describe(e: AjvError, record, event_type) -> Violation:
    p = e.params
    if e.keyword == "required":
        field = p["missingProperty"]
        by_type = f" for event_type {js.stringify(event_type)}" if e.in_then else ""
        return Violation(f"required:{field}", field, f"/{field}: is required{by_type}")
    if e.keyword == "additionalProperties":
        key = p["additionalProperty"]
        return Violation(f"additionalProperties:{js.clip(key, 64)}", key, f"{pointer(key)}: is not a field of contract v1 {_got(record, key)}")
    field = e.path
    got = _got(record, field)
    path = pointer(field)
    k = e.keyword
    if k == "false schema":
        return Violation(f"forbidden:{field}", field, f"{path}: is not allowed for event_type {js.stringify(event_type)} {got}")
    if k == "type":
        return Violation(f"type:{field}", field, f"{path}: must be {p['type']} {got}")
    if k == "enum":
        return Violation(f"enum:{field}", field, f"{path}: must be one of {', '.join(_js_str(v) for v in p['allowedValues'])} {got}")
    if k == "const":
        return Violation(f"const:{field}", field, f"{path}: must be {js.stringify(_json_value(p['allowedValue']))} {got}")
    if k in ("minimum", "maximum"):
        return Violation(f"{k}:{field}", field, f"{path}: must be {p['comparison']} {_js_str(p['limit'])} {got}")
    if k == "minLength":
        return Violation(f"minLength:{field}", field, f"{path}: must be at least {_js_str(p['limit'])} characters long {got}")
    if k == "maxLength":
        return Violation(f"maxLength:{field}", field, f"{path}: must be at most {_js_str(p['limit'])} characters long {got}")
    if k == "pattern":
        return _format_violation(record.get(field), field)
    raise ContractError(f"contract: no message for keyword {k}")


def _json_value(v):
    """A schema value as a parsed JSON value (numbers are floats)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    return {k: _json_value(x) for k, x in v.items()}


def _format_violation(value, field="occurred_at") -> Violation:
    return Violation(f"format:{field}", field, f"{pointer(field)}: must be an RFC 3339 date-time with an offset or Z (got {preview(value)})")


def _readable_id(v):
    if not isinstance(v, str):
        return None
    n = js.u16len(v)
    if n == 0 or n > 128:
        return None
    return v if n <= 64 or len(v) <= 64 else None


def _depth_exceeds(value, limit) -> bool:
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if not isinstance(v, (dict, list)):
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in (v.values() if isinstance(v, dict) else v))
    return False


def pointer(field: str) -> str:
    return "/" + js.clip(field.replace("~", "~0").replace("/", "~1"), 64)


def preview(value) -> str:
    out = _render(value, 3)
    return js.clip(out, ECHO_CHARS)


def _render(value, depth) -> str:
    if isinstance(value, str):
        return js.quote(js.clip(value, ECHO_CHARS - 20))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return js.number_str(value)
    is_array = isinstance(value, list)
    if depth == 0:
        return "[…]" if is_array else "{…}"
    parts = []
    length = 0
    for key in (range(len(value)) if is_array else js.keys(value)):
        if length > ECHO_CHARS:
            parts.append("…")
            break
        child = _render(value[key], depth - 1)
        part = child if is_array else f"{js.quote(js.clip(key, 64))}:{child}"
        parts.append(part)
        length += js.u16len(part) + 1
    return f"[{','.join(parts)}]" if is_array else "{" + ",".join(parts) + "}"


_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))\Z")


def _days_in_month(y, m):
    if m == 2:
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _days_from_civil(y, m, d):
    y = y - 1 if m <= 2 else y
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def rfc3339_to_micros(text: str):
    m = _RFC3339.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if month < 1 or month > 12 or day < 1 or day > _days_in_month(year, month):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    if m.group(8) is not None:
        oh, om = int(m.group(9)), int(m.group(10))
        if oh > 23 or om > 59:
            return None
        offset = (-1 if m.group(8) == "-" else 1) * (oh * 3600 + om * 60)
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    return seconds * 1_000_000 + int((m.group(7) or "")[:6].ljust(6, "0"))


_STRINGS = ("event_id", "event_type", "creator_id", "work_id", "stage", "reader_id")
_LONGS = ("words", "words_changed", "revision_no")
_DOUBLES = ("duration_minutes", "engagement_seconds", "progress_pct")


def _typed(r: dict, occurred_us: int) -> dict:
    out = {k: (js.well_formed(r[k]) if isinstance(r.get(k), str) else None) for k in _STRINGS}
    for k in _LONGS:
        v = r.get(k)
        out[k] = int(v) if isinstance(v, float) else None
    for k in _DOUBLES:
        v = r.get(k)
        out[k] = v if isinstance(v, float) else None
    out["occurred_at"] = occurred_us
    out["attributes"] = js.well_formed(js.stringify(r["attributes"])) if "attributes" in r else None
    return out
