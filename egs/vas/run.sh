#!/usr/bin/env bash
# VarietySound on VAS (or, without VAS, on the built-in synthetic corpus).
#   ./run.sh --stage 0 --stop-stage 5                     # the demo: tiny preset, ~12-14 min on 2 CPU cores
#   VAS=/data/VAS ./run.sh --conf conf/paper.sh           # the paper's setup (paper preset, 1 GPU)
set -euo pipefail
cd "$(dirname "$0")"

conf=conf/demo.sh
args=()
while [[ $# -gt 0 ]]; do
  if [[ "$1" == "--conf" ]]; then conf=$2; shift 2; else args+=("$1"); shift; fi
done
# shellcheck disable=SC1090
. "${conf}"   # sets recipe_opts: the VAS-specific defaults of this experiment

# shellcheck disable=SC2154
exec ../../recipes/vs.sh "${recipe_opts[@]}" "${args[@]}"
