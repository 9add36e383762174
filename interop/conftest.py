"""Shared fixtures of the interoperability suite: one local Spark session with Delta, and this
project's command line."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# tsx without npx in front (npx costs most of a second a call)
TSX = ["node", str(ROOT / "node_modules" / "tsx" / "dist" / "cli.mjs")]

# PySpark turns timestamps into Python datetimes in the process's local time: make that UTC.
os.environ["TZ"] = "UTC"
time.tzset()
# Python code that Spark runs on its executors (the Spark runner's contract check) runs in this venv.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def spark_session(app="creatorops-interop"):
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.databricks.delta.snapshotPartitions", "1")
        # Delta lists folders (VACUUM) with this many tasks, 10,000 by default
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@pytest.fixture(scope="session")
def spark():
    session = spark_session()
    yield session
    session.stop()


def cli(*args, check=True, env=None):
    """Run this project's command line (`npm run cli`) and return the completed process."""
    proc = subprocess.run(
        [*TSX, "src/cli/main.ts", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"cli {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def cli_rows(table, version=None):
    """The rows `cli read` prints for a table (at a version), as dicts."""
    args = ["read", table] + (["--version", version] if version is not None else [])
    out = cli(*args).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]
