"""docs/interop.md is written partly by the suite: each test file owns one section, between
`<!-- name -->` and `<!-- /name -->`, and rewrites only that one when it has run every case.
Everything outside those markers (the title, hand-written sections) is kept as it is."""
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "interop.md"
ORDER = ["their-tables", "our-tables"]
TITLE = ("# Interoperability with Spark and delta-rs\n\nThe sections between `<!-- … -->` markers are "
         "written by the interop suite (`npm run test:interop`) from its results; the rest by hand.\n")


def _markers(name):
    return f"<!-- {name} -->\n", f"<!-- /{name} -->\n"


def splice(body, name, text):
    """`body` with section `name` holding `text`: replaced where it stands, or else placed after the
    sections that come before it in ORDER (after the title when none does)."""
    start, end = _markers(name)
    block = f"{start}{text.rstrip(chr(10))}\n{end}"
    if start in body and end in body[body.index(start):]:
        i = body.index(start)
        j = body.index(end, i) + len(end)
        return body[:i] + block + body[j:]
    at = None
    for earlier in ORDER[:ORDER.index(name)] if name in ORDER else ORDER:
        e_end = _markers(earlier)[1]
        if e_end in body:
            at = body.index(e_end) + len(e_end)
    if at is None:
        later = [body.index(_markers(o)[0]) for o in ORDER if _markers(o)[0] in body]
        if later:
            return body[:min(later)] + block + "\n" + body[min(later):]
        return body.rstrip("\n") + "\n\n" + block
    return body[:at] + "\n" + block + body[at:]


def write_section(name, text):
    body = DOC.read_text() if DOC.exists() else TITLE
    DOC.write_text(splice(body, name, text))
