#!/usr/bin/env bash
# Train and score one configuration with several training seeds, on the same data, features
# and test pairs (only the training seed changes), then report every metric's mean and spread
# over the seeds: exp/<tag>_seeds/SEEDS.md (and SEEDS.tsv). Run it from a corpus recipe folder
# with that recipe's options, e.g.
#   cd egs/vas && ../../recipes/seeds.sh --seeds "1 2 3" --tag demo -- --conf conf/demo.sh
# Stages 0-1 run once (their .done markers make a rerun instant); each seed is its own
# experiment exp/<tag>_seed<N> (resumable like any other; a finished one is not redone).
set -euo pipefail
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/utils/log.sh"

seeds="1 2 3"
tag=""
exp_root=exp
usage="Usage: $0 [--seeds \"1 2 3\"] [--tag NAME] [--exp-root DIR] [--] [run.sh options ...]"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --exp-root) exp_root=$2; shift 2 ;;
    -h|--help) echo "${usage}"; sed -n '2,8p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[[ -x ./run.sh ]] || { log "run it from a corpus recipe folder (no ./run.sh in $(pwd))"; exit 1; }
n=0; for s in ${seeds}; do
  [[ "${s}" =~ ^[0-9]+$ ]] || { log "--seeds: '${s}' is not a whole number"; exit 1; }
  n=$((n + 1))
done
((n >= 2)) || { log "--seeds: give at least two seeds (got '${seeds}')"; exit 1; }
[[ -n "${tag}" ]] || tag="$(basename "$(pwd)")"

log "seeds ${seeds} of ${tag}: data and features (stages 0-1, once)"
./run.sh "$@" --exp-root "${exp_root}" --stage 0 --stop-stage 1
exps=()
for s in ${seeds}; do
  log "seed ${s}: stages 2-5 -> ${exp_root}/${tag}_seed${s}"
  ./run.sh "$@" --exp-root "${exp_root}" --stage 2 --stop-stage 5 --tag "${tag}_seed${s}" \
    --train-seed "${s}" --results-name ""
  exps+=("${exp_root}/${tag}_seed${s}")
done
mkdir -p "${exp_root}/${tag}_seeds"
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/path.sh"  # the environment, for vs-seeds-report
vs-seeds-report --exp "${exps[@]}" --out "${exp_root}/${tag}_seeds"
log "seeds report: ${exp_root}/${tag}_seeds/SEEDS.md"
