#!/usr/bin/env bash
# The interoperability suite: Spark and delta-rs against this project's Delta reader and writer.
# `bash interop/run.sh [pytest args]`; installs what it needs on first use.
set -euo pipefail
cd "$(dirname "$0")"
python=$(bash setup.sh)
exec "$python" -m pytest -q "$@"
