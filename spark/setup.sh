#!/usr/bin/env bash
# Installs the Spark runner's pinned Python packages into spark/.venv (first use only; again when a
# requirements file changes) and checks that Java is there for Spark. Prints the venv's python.
# `bash spark/setup.sh [more-requirements.txt …]` adds other pinned sets to the same venv (the
# interop suite adds its own), so one venv serves the runner and the tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
files=("$here/requirements.txt")
for f in "$@"; do files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done
if [ ! -x "$venv/bin/python" ]; then
  echo "spark: creating the Python venv spark/.venv (first use)…" >&2
  python3 -m venv "$venv"
fi
for f in "${files[@]}"; do
  stamp="$venv/.requirements-$(echo "$f" | sed 's|^.*/\([^/]*\)/\([^/]*\)$|\1-\2|')"
  if ! cmp -s "$f" "$stamp"; then
    echo "spark: installing $(grep -c '==' "$f") pinned Python packages from ${f#"$(dirname "$here")/"} into spark/.venv…" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$f" >&2
    cp "$f" "$stamp"
  fi
done
if ! command -v java >/dev/null 2>&1; then
  echo "spark: Spark needs Java 17 (java is not on PATH): install a JDK 17, e.g. apt-get install -y openjdk-17-jre-headless" >&2
  exit 1
fi
echo "$venv/bin/python"
