#!/usr/bin/env bash
# VarietySound on any folder of categorised videos (or a manifest): the recipe-reuse example.
#   FOLDER=/data/my_sounds ./run.sh --stage 0 --stop-stage 5
#   MANIFEST=/data/list.tsv ./run.sh --local-data-opts "--valid-size 4 --test-size 4"
set -euo pipefail
cd "$(dirname "$0")"
exec ../../recipes/vs.sh --preset tiny --duration 10 --corpus folder "$@"
