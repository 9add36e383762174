"""docs/interop.md is written by the suite: each test file owns one section, between
`<!-- name -->` and `<!-- /name -->`, and rewrites only that one when it has run every case."""
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "interop.md"
ORDER = ["their-tables", "our-tables"]
TITLE = "# Interoperability with Spark and delta-rs\n\nWritten by the interop suite (`npm run test:interop`) from its results; do not edit by hand.\n"


def write_section(name, text):
    sections = {}
    if DOC.exists():
        body = DOC.read_text()
        for other in ORDER:
            start, end = f"<!-- {other} -->\n", f"<!-- /{other} -->\n"
            if start in body and end in body:
                sections[other] = body[body.index(start) + len(start):body.index(end)]
    sections[name] = text.rstrip("\n") + "\n"
    out = [TITLE]
    for other in ORDER:
        if other in sections:
            out.append(f"\n<!-- {other} -->\n{sections[other]}<!-- /{other} -->\n")
    DOC.write_text("".join(out))
