"""The runner: brings silver and gold of a lakehouse up to date on Spark.

    python spark/run_runner.py --lakehouse out/delta [--master 'local[*]'] [--summary-json]

Started by `cli run|ingest --engine spark` after it has written the batch to bronze, by hand, or as
a Databricks job (spark/databricks-job.json). Progress goes to stderr as `@progress {json}` lines;
with --summary-json the last line on stdout is the run's summary (or its error) as JSON."""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import project as project_mod
from .gold import refresh_gold
from .lake import Lake
from .silver import ExpectationFailed, process_pending

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent.parent


def progress(stage, done, total, message):
    event = {"stage": stage, "done": done}
    if total is not None:
        event["total"] = total
    if message:
        event["message"] = message
    print("@progress " + json.dumps(event), file=sys.stderr, flush=True)


def local_session(master: str, driver_memory: str, shuffle_partitions: int):
    """A local Spark with Delta (jars through Ivy, as the interop suite's session gets them)."""
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = (
        SparkSession.builder.master(master).appName("creatorops-spark-runner")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executorEnv.TZ", "UTC")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def ship_package(spark):
    """The executors' Python workers import this package: send it to them as a zip."""
    folder = tempfile.mkdtemp(prefix="creatorops-spark-")
    archive = shutil.make_archive(os.path.join(folder, "creatorops_spark"), "zip", PACKAGE.parent, PACKAGE.name)
    spark.sparkContext.addPyFile(archive)


def run(spark, lakehouse: str, project_root, on_progress=progress) -> dict:
    """Silver and gold of `lakehouse` brought up to date on `spark`; the run's summary."""
    started = time.time()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    project = project_mod.load(project_root)
    lake = Lake(spark, lakehouse)
    silver = []
    t = time.time()
    process_pending(lake, project, on_progress, silver)
    silver_s = time.time() - t
    t = time.time()
    gold = refresh_gold(lake, project, on_progress)
    return {"silver": silver, "gold": gold, "seconds": time.time() - started,
            "timings": {"silver": silver_s, "gold": time.time() - t}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="run_runner.py", description="CreatorOps silver and gold on Spark")
    p.add_argument("--lakehouse", required=True, help="the lakehouse root (holds bronze/, silver/, gold/): a path or a URI Spark reaches")
    p.add_argument("--project", default=str(REPO), help="the CreatorOps repository (contracts/, sql/); default: the one this runner is in")
    p.add_argument("--master", help="start a local Spark (e.g. 'local[*]'); without it the runner joins the cluster's session")
    p.add_argument("--driver-memory", default="4g")
    p.add_argument("--shuffle-partitions", type=int, default=4)
    p.add_argument("--summary-json", action="store_true", help="print the summary (or the error) as one JSON line on stdout")
    args = p.parse_args(argv)
    os.environ["TZ"] = "UTC"
    time.tzset()
    started = time.time()
    try:
        progress("silver", 0, None, "starting Spark")
        if args.master:
            spark = local_session(args.master, args.driver_memory, args.shuffle_partitions)
            lakehouse = str(Path(args.lakehouse).resolve()) if "://" not in args.lakehouse and not args.lakehouse.startswith("dbfs:") else args.lakehouse
        else:
            from pyspark.sql import SparkSession
            spark = SparkSession.builder.getOrCreate()
            lakehouse = args.lakehouse
        ship_package(spark)
        startup = time.time() - started
        summary = run(spark, lakehouse, args.project)
        summary["timings"]["startup"] = startup
        summary["seconds"] = time.time() - started
        summary["engine"] = f"Spark {spark.version}"
    except ExpectationFailed as e:
        return _fail(args, "EXPECTATION_FAILED", str(e), {"silver": [e.result]})
    except Exception as e:  # noqa: BLE001 — reported whole to the caller, with its kind
        return _fail(args, type(e).__name__, _sentence(e), {})
    if args.summary_json:
        print(json.dumps(summary))
    else:
        for b in summary["silver"]:
            print(f"silver (bronze v{b['bronzeVersion']}, {b['batchId']}): {b['silverRows']} accepted, {b['rejectedRows']} rejected")
        for g in summary["gold"]:
            print(f"{g['table']:<32} version {g['version']}  {g['rows']} rows")
        print(f"{summary['seconds']:.1f} s on {summary['engine']}")
    return 0


def _sentence(e: Exception) -> str:
    text = str(e).strip()
    lines = text.splitlines()
    if "Traceback (most recent call last)" in text:
        # an error in Python code on an executor: its own last line says what went wrong
        raised = [line.strip() for line in lines if re.match(r"\s*[A-Za-z_][\w.]*(Error|Exception)\b.*:", line)]
        if raised:
            return f"{lines[0].split('Traceback')[0].strip()} {raised[-1]}"
    # Py4J and Spark errors carry the JVM's stack trace: the first line says what went wrong.
    return lines[0] if lines else type(e).__name__


def _fail(args, code, message, extra) -> int:
    if args.summary_json:
        print(json.dumps({"error": {"code": code, "message": message}, **extra}))
    print(f"error: {message}", file=sys.stderr)
    return 1
