"""JSON.parse as V8 (Node 20) does it, for the lines Python's json module refuses or cannot take
(nesting deeper than its recursion limit): the same values, and on a bad line the same message,
position for position (positions count UTF-16 code units), so a reject's error reads as the
TypeScript pipeline's does."""
import json
import math

_WS = " \t\n\r"
_CONTEXT = 10  # characters each side of an unexpected token that V8 quotes
_SPECIAL = ("[object Object]", "undefined", "Infinity", "NaN")
_HEX = "0123456789abcdefABCDEF"
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonParseError(ValueError):
    pass


def _reject(_):
    raise ValueError("not JSON")


def parse(text: str):
    """JSON.parse(text): numbers are floats; raises JsonParseError with V8's message."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_reject)
    except (ValueError, RecursionError):
        return _Parser(text).parse()


def _utf16(text: str) -> str:
    if text.isascii() or max(text) <= "\uffff":
        return text
    b = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(b[i] | (b[i + 1] << 8)) for i in range(0, len(b), 2))


def _join(units: str) -> str:
    """A string of UTF-16 units back to a Python string (pairs combined, lone surrogates kept)."""
    if units.isascii():
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _token(c):
    """V8's JsonToken of a character (None: end of input)."""
    if c is None:
        return "EOS"
    if c == '"':
        return "STRING"
    if c == "-" or "0" <= c <= "9":
        return "NUMBER"
    if c in _WS:
        return "WHITESPACE"
    return {"t": "TRUE", "f": "FALSE", "n": "NULL", ":": "COLON", ",": "COMMA", "[": "LBRACK", "]": "RBRACK",
            "{": "LBRACE", "}": "RBRACE"}.get(c, "ILLEGAL") if ord(c) <= 0xFF else "ILLEGAL"


class _Parser:
    def __init__(self, text: str):
        self.original = text
        self.s = _utf16(text)
        self.n = len(self.s)
        self.i = 0

    # errors
    def fail(self, message: str):
        raise JsonParseError(message)

    def at(self, message: str):
        self.fail(f"{message} in JSON at position {self.i}")

    def unexpected(self, token: str, message: str | None = None):
        if message is not None:
            self.at(message)
        if token == "EOS":
            self.fail("Unexpected end of JSON input")
        if token == "NUMBER":
            self.at("Unexpected number")
        if token == "STRING":
            self.at("Unexpected string")
        if self.original in _SPECIAL:
            self.fail(f'"{self.original}" is not valid JSON')
        c = _join(self.s[self.i]) if self.i < self.n else ""
        pos, length = self.i, self.n
        if length <= 2 * _CONTEXT:
            self.fail(f"Unexpected token '{c}', \"{_join(self.s)}\" is not valid JSON")
        if pos < _CONTEXT:
            self.fail(f"Unexpected token '{c}', \"{_join(self.s[:pos + _CONTEXT])}\"... is not valid JSON")
        if pos < length - _CONTEXT:
            self.fail(f"Unexpected token '{c}', ...\"{_join(self.s[pos - _CONTEXT:pos + _CONTEXT])}\"... is not valid JSON")
        self.fail(f"Unexpected token '{c}', ...\"{_join(self.s[pos - _CONTEXT:])}\" is not valid JSON")

    def unexpected_char(self):
        self.unexpected(_token(self.cur()))

    # scanning
    def cur(self):
        return self.s[self.i] if self.i < self.n else None

    def skip_ws(self):
        while self.i < self.n and self.s[self.i] in _WS:
            self.i += 1

    def peek(self):
        self.skip_ws()
        return _token(self.cur())

    def expect_next(self, token: str, message: str | None = None):
        if self.peek() != token:
            self.unexpected(self.peek(), message)
        self.i += 1

    def check(self, token: str) -> bool:
        if self.peek() == token:
            self.i += 1
            return True
        return False

    def parse(self):
        value = self.value()
        if self.peek() != "EOS":
            self.fail(f"Unexpected non-whitespace character after JSON at position {self.i}")
        return value

    def value(self):
        # Iterative, as V8's parser is: nesting depth is bounded only by memory.
        stack = []  # (container, pending key or None)
        while True:
            while True:
                t = self.peek()
                if t == "STRING":
                    self.i += 1
                    v = self.string()
                elif t == "NUMBER":
                    v = self.number()
                elif t == "LBRACE":
                    self.i += 1
                    if self.check("RBRACE"):
                        v = {}
                    else:
                        self.expect_next("STRING", "Expected property name or '}'")
                        key = self.string()
                        self.expect_next("COLON", "Expected ':' after property name")
                        stack.append(({}, key))
                        continue
                elif t == "LBRACK":
                    self.i += 1
                    if self.check("RBRACK"):
                        v = []
                    else:
                        stack.append(([], None))
                        continue
                elif t in ("TRUE", "FALSE", "NULL"):
                    word = {"TRUE": "true", "FALSE": "false", "NULL": "null"}[t]
                    self.literal(word)
                    v = {"true": True, "false": False, "null": None}[word]
                else:
                    self.unexpected_char()
                break
            while True:
                if not stack:
                    return v
                container, key = stack[-1]
                if isinstance(container, dict):
                    container[key] = v
                    if self.check("COMMA"):
                        self.expect_next("STRING", "Expected double-quoted property name")
                        key = self.string()
                        # V8 names the colon only after an object's first key
                        self.expect_next("COLON")
                        stack[-1] = (container, key)
                        break
                    if self.peek() != "RBRACE":
                        self.unexpected(self.peek(), "Expected ',' or '}' after property value")
                    self.i += 1
                else:
                    container.append(v)
                    if self.check("COMMA"):
                        break
                    if self.peek() != "RBRACK":
                        self.unexpected(self.peek(), "Expected ',' or ']' after array element")
                    self.i += 1
                stack.pop()
                v = container

    def literal(self, word: str):
        remaining = self.n - self.i
        if remaining >= len(word) and self.s[self.i:self.i + len(word)] == word:
            self.i += len(word)
            return
        self.i += 1
        for k in range(min(len(word) - 1, remaining - 1)):
            if word[1 + k] != self.s[self.i]:
                self.unexpected_char()
            self.i += 1
        self.unexpected("EOS")

    def string(self) -> str:
        """The string whose opening quote was just consumed; the cursor ends after its closing quote."""
        out = []
        s, n = self.s, self.n
        while True:
            start = self.i
            while self.i < n and s[self.i] not in '"\\' and s[self.i] >= " ":
                self.i += 1
            out.append(s[start:self.i])
            if self.i >= n:
                self.unexpected("ILLEGAL", "Unterminated string")
            c = s[self.i]
            if c == '"':
                self.i += 1
                return _join("".join(out))
            if c == "\\":
                self.i += 1
                e = self.cur()
                if e is None:
                    self.unexpected("EOS")
                if ord(e) > 0xFF:
                    self.unexpected_char()
                if e in _SIMPLE_ESCAPES:
                    out.append(_SIMPLE_ESCAPES[e])
                    self.i += 1
                    continue
                if e == "u":
                    value = 0
                    for _ in range(4):
                        self.i += 1
                        h = self.cur()
                        if h is None or h not in _HEX:
                            self.unexpected("ILLEGAL", "Bad Unicode escape")
                        value = value * 16 + int(h, 16)
                    out.append(chr(value))
                    self.i += 1
                    continue
                self.unexpected("ILLEGAL", "Bad escaped character")
            self.unexpected("ILLEGAL", "Bad control character in string literal")

    def number(self) -> float:
        s = self.s
        start = self.i
        if self.cur() == "-":
            self.i += 1
        c = self.cur()
        if c == "0":
            self.i += 1
            c = self.cur()
            if c is not None and "0" <= c <= "9":
                self.unexpected("NUMBER")
        else:
            if c is None or not ("0" <= c <= "9"):
                self.unexpected("ILLEGAL", "No number after minus sign")
            while self.cur() is not None and "0" <= self.cur() <= "9":
                self.i += 1
        if self.cur() == ".":
            self.i += 1
            c = self.cur()
            if c is None or not ("0" <= c <= "9"):
                self.unexpected("ILLEGAL", "Unterminated fractional number")
            while self.cur() is not None and "0" <= self.cur() <= "9":
                self.i += 1
        if self.cur() in ("e", "E"):
            self.i += 1
            if self.cur() in ("-", "+"):
                self.i += 1
            c = self.cur()
            if c is None or not ("0" <= c <= "9"):
                self.unexpected("ILLEGAL", "Exponent part is missing a number")
            while self.cur() is not None and "0" <= self.cur() <= "9":
                self.i += 1
        v = float(s[start:self.i])
        return v
