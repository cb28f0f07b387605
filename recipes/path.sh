#!/usr/bin/env bash
# Sourced by every recipe: find the repository from this file's own location (so recipes run
# from any working directory), make sure the environment exists (installing it through
# tools/install.sh when missing), activate it, check ffmpeg, then source the recipe's own
# local/path.sh if it has one.
VS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VS_ROOT
VS_VENV="${VS_VENV:-${VS_ROOT}/tools/venv}"
export VS_VENV

if [[ ! -x "${VS_VENV}/bin/vs-list" ]] || [[ "${VS_SKIP_INSTALL_CHECK:-false}" != true && \
      "$(cat "${VS_VENV}/.vs_plugin-install-stamp" 2>/dev/null)" != \
      "$(cat "${VS_ROOT}/setup.cfg" "${VS_ROOT}/pyproject.toml" | sha256sum | cut -d' ' -f1)" ]]; then
  echo "path.sh: setting up the environment in ${VS_VENV} (tools/install.sh)" >&2
  "${VS_ROOT}/tools/install.sh" >&2
fi
# shellcheck disable=SC1091
. "${VS_VENV}/bin/activate"
export PATH="${VS_ROOT}/recipes/utils:${PATH}"
export PYTHONUNBUFFERED=1
export FAIRSEQ2_EXTENSION_TRACE=1
for tool in ffmpeg ffprobe; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "path.sh: ${tool} not found; run tools/install.sh as root or install ffmpeg" >&2
    return 1 2>/dev/null || exit 1
  fi
done
if [[ -f local/path.sh ]]; then
  # shellcheck disable=SC1091
  . local/path.sh
fi
