#!/usr/bin/env bash
# Bootstrap the environment if needed, lint, then run the test suite.
# Extra arguments go to pytest (e.g. tools/test.sh -m "not slow" tests/test_registry.py).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VS_VENV:-${repo}/tools/venv}"
"${repo}/tools/install.sh"
cd "${repo}"
echo "[test] ruff check"
"${venv}/bin/ruff" check .
echo "[test] pytest"
export FAIRSEQ2_EXTENSION_TRACE=1
exec "${venv}/bin/python" -m pytest "$@"
