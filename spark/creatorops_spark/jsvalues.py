"""JavaScript's view of values parsed from JSON, where the TypeScript pipeline's output depends on
it: numbers are doubles and print as Number#toString does, strings are measured and cut in UTF-16
code units, objects list integer-like keys first, and JSON.stringify escapes lone surrogates."""
import math
import re
from decimal import Decimal

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_INDEX = re.compile(r"(?:0|[1-9][0-9]*)\Z")


def number_str(x: float) -> str:
    """String(x) for a JS number (x is a Python float)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_str(-x)
    sign, digits, exp = Decimal(repr(x)).normalize().as_tuple()
    s = "".join(map(str, digits))
    k = len(s)
    n = exp + k  # x = 0.s * 10^n
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + s
    e = n - 1
    mantissa = s[0] + ("." + s[1:] if k > 1 else "")
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def u16len(s: str) -> int:
    """The length of s in UTF-16 code units (String#length)."""
    if s.isascii():
        return len(s)
    return len(s) + len(_ASTRAL.findall(s))


def u16clip(s: str, n: int) -> str:
    """s.slice(0, n) in UTF-16 code units: a cut through a pair leaves its lone high surrogate."""
    if s.isascii() or not _ASTRAL.search(s):
        return s[:n]
    out = []
    units = 0
    for c in s:
        w = 2 if ord(c) > 0xFFFF else 1
        if units + w > n:
            if units < n:  # half a pair
                out.append(chr(0xD800 + ((ord(c) - 0x10000) >> 10)))
            break
        out.append(c)
        units += w
    return "".join(out)


def clip(s: str, max_units: int) -> str:
    """`text.length > max ? text.slice(0, max) + '…' : text`"""
    return u16clip(s, max_units) + "…" if u16len(s) > max_units else s


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff]')


def quote(s: str) -> str:
    """JSON.stringify of a string (well-formed: a lone surrogate becomes \\udxxx)."""
    if not _NEEDS_ESCAPE.search(s):
        return '"' + s + '"'
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group()) or f"\\u{ord(m.group()):04x}", s) + '"'


def keys(obj: dict) -> list:
    """The keys of an object in JS property order: array indices ascending, then the others in order."""
    ks = list(obj)
    idx = [k for k in ks if _INDEX.match(k) and int(k) < 4294967295]
    if not idx:
        return ks
    rest = [k for k in ks if not (_INDEX.match(k) and int(k) < 4294967295)]
    return sorted(idx, key=int) + rest


def stringify(v) -> str:
    """JSON.stringify(v) of a value parsed from JSON (numbers are floats)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return number_str(v) if math.isfinite(v) else "null"
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, list):
        return "[" + ",".join(stringify(x) for x in v) + "]"
    return "{" + ",".join(quote(k) + ":" + stringify(v[k]) for k in keys(v)) + "}"


def well_formed(s: str) -> str:
    """The text as it is stored (UTF-8): a lone surrogate becomes U+FFFD, as TextEncoder makes it."""
    if s.isascii() or not _SURROGATE.search(s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
