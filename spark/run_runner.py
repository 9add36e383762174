"""Entry point of the Spark runner: `python spark/run_runner.py --lakehouse DIR [--master 'local[*]']`,
or a Databricks spark_python_task (spark/databricks-job.json). See docs/scale-out.md."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from creatorops_spark.runner import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
