"""The page (the built app in headless Chromium) driven from the tests: the build, a lakehouse
opened in it (scripts/interop/open-in-page.ts), and the text the dashboard draws for a value."""
import json
import os
import subprocess
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from conftest import ROOT, TSX

OPEN_SCRIPT = "scripts/interop/open-in-page.ts"


def build_app(out: Path) -> Path:
    """The production build, as the e2e tests make it (test/e2e/harness.ts: buildApp), into `out`."""
    proc = subprocess.run(
        ["node", str(ROOT / "node_modules" / "vite" / "bin" / "vite.js"), "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NODE_ENV": "production"},
    )
    if proc.returncode != 0:
        raise AssertionError(f"vite build failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    return out


def zip_folder(folder: Path, target: Path, top: str) -> Path:
    """Every file below `folder` in a plain .zip (deflate) under `top/`, as a user zips a folder."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, f"{top}/{f.relative_to(folder).as_posix()}")
    return target


def open_in_page(archive: Path, dist: Path) -> dict:
    """`archive` imported into a fresh profile; what the Explorer and the dashboard then show."""
    proc = subprocess.run([*TSX, OPEN_SCRIPT, str(archive)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "E2E_DIST": str(dist)})
    if proc.returncode != 0:
        raise AssertionError(f"{OPEN_SCRIPT} failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def count(n: int) -> str:
    return f"{n:,}"


def shown(value):
    """A cell as a KPI card draws it (KpiCard's `cell`, format.ts's `num`: Intl en-US, rounding half
    away from zero on the double's exact value): null as null, integers in full with grouping,
    other numbers to 3 significant digits below 100 and to whole numbers from 100, text as is."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        d = Decimal(value)
        if abs(d) >= 100:
            return count(int(d.quantize(Decimal(1), ROUND_HALF_UP)))
        return format(d.quantize(Decimal(1).scaleb(d.adjusted() - 2), ROUND_HALF_UP).normalize(), "f")
    return str(value)


def shown_near(value, rel: float) -> set:
    """What `shown` may draw for a double known to a relative `rel` (summation order, the form of an
    interpolation): the texts of the interval's two ends, as rounding is monotonic."""
    if not isinstance(value, float) or value.is_integer():
        return {shown(value)}
    return {shown(value * (1 - rel)), shown(value * (1 + rel))}
