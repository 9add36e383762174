#!/usr/bin/env bash
# Installs the interop suite's Python peers into interop/.venv (first use only; again when
# requirements.txt changes) and checks that Java is there for Spark. Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")"
venv=.venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s requirements.txt "$stamp"; then
  echo "interop: installing $(grep -c '==' requirements.txt) pinned Python packages into interop/$venv (first use)…" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt >&2
  cp requirements.txt "$stamp"
fi
if ! command -v java >/dev/null 2>&1; then
  echo "interop: Spark needs Java 17 (java is not on PATH): install a JDK 17, e.g. apt-get install -y openjdk-17-jre-headless" >&2
  exit 1
fi
echo "$PWD/$venv/bin/python"
