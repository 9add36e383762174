#!/usr/bin/env bash
# Installs the interop suite's Python peers: Spark and the runner's packages (spark/requirements.txt)
# plus this suite's own (requirements.txt: delta-rs, pytest), all into the one venv spark/.venv
# (first use only; again when a requirements file changes); checks that Java is there for Spark.
# Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")"
exec bash ../spark/setup.sh requirements.txt
