"""The Spark runner (spark/) driven from the tests: in this pytest process on the suite's Spark
session, and this project's side of each step (scripts/interop/spark-steps.ts)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, TSX

sys.path.insert(0, str(ROOT / "spark"))

from creatorops_spark import runner  # noqa: E402

STEPS = "scripts/interop/spark-steps.ts"
_shipped = set()


def steps(*args, stdin_file=None) -> str:
    proc = subprocess.run([*TSX, STEPS, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          env={**__import__("os").environ, "LAKEHOUSE_CHECK_THREADS": "0"})
    if proc.returncode != 0:
        raise AssertionError(f"{STEPS} {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def generated_lines(n, seed, rate) -> list:
    return [json.loads(line) for line in steps("generate", n, seed, rate).split("\n") if line]


def run_on_spark(spark, lakehouse) -> dict:
    """Silver and gold of `lakehouse` brought up to date by the runner on this session."""
    if id(spark) not in _shipped:
        runner.ship_package(spark)
        _shipped.add(id(spark))
    return runner.run(spark, str(Path(lakehouse).resolve()), ROOT, on_progress=lambda *a: None)


def copy_bronze(src, dst):
    """A new lakehouse holding only `src`'s bronze/events (every commit, every file)."""
    shutil.copytree(Path(src) / "bronze", Path(dst) / "bronze")
    return Path(dst)
