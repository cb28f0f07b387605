#!/usr/bin/env bash
# One prepared check for a lent GPU machine: the cuda-marked tests, then the train and infer
# benchmarks of the paper preset (batch 48, 10 s clips) in fp32, bf16 and bf16 + compile.
# Prints a final table and writes JSON to $OUT (or --out). Finishes within ~8 minutes.
#
# On the GPU machine (after tools/gpu_wheels.sh here, carrying .whl):
#   tools/gpu_check.sh
# Dry run on this CPU (what the test suite does, small sizes):
#   tools/gpu_check.sh --device cpu --small --out /tmp/gpu_check
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
device=cuda
small=false
out="${OUT:-${repo}/.bench/gpu_check}"
python=python3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --small) small=true; shift ;;
    --out) out=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) echo "gpu_check.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
mkdir -p "${out}"
start=${SECONDS}
say() { echo "[gpu_check +$((SECONDS - start))s] $*"; }

if [[ -d .whl ]] && ! "${python}" -c "import hydra, ignite, librosa" 2>/dev/null; then
  say "installing carried wheels into /tmp/site"
  "${python}" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="${repo}:${PYTHONPATH:-}"
export PYTHONUNBUFFERED=1
"${python}" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"

if [[ "${small}" == true ]]; then
  preset=tiny; batch=2; frames=20; seconds=2; repeats=1; modes=fp32
else
  preset=paper; batch=48; frames=215; seconds=10; repeats=3; modes=fp32,bf16,bf16+compile
fi
status=0
if [[ "${device}" == cuda ]]; then
  say "cuda-marked tests"
  timeout 180 "${python}" -m pytest -q -m cuda -p no:cacheprovider tests 2>&1 | tail -15 \
    | tee "${out}/cuda_tests.txt" || status=1
fi
say "train benchmark (${preset}, batch ${batch}, ${modes})"
timeout 300 "${python}" -m tools.bench --device "${device}" --repeats "${repeats}" \
  --json "${out}/train.json" train --preset "${preset}" --batch "${batch}" --frames "${frames}" \
  --modes "${modes}" || status=1
say "infer benchmark (${preset}, ${seconds} s)"
timeout 120 "${python}" -m tools.bench --device "${device}" --repeats "${repeats}" \
  --json "${out}/infer.json" infer --preset "${preset}" --seconds "${seconds}" \
  --vocoders hifigan --skip-end-to-end || status=1
say "floor (FLOPs vs dense matmul)"
timeout 120 "${python}" -m tools.bench --device "${device}" --repeats "${repeats}" \
  --json "${out}/floor.json" floor --preset "${preset}" --batch $((batch < 8 ? batch : 8)) \
  --frames "${frames}" || status=1
"${python}" - "${out}" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
print("\n== gpu_check summary")
for name in ("train", "infer", "floor"):
    p = out / f"{name}.json"
    if not p.exists():
        print(f"{name}: missing"); continue
    d = json.loads(p.read_text())
    for r in d["rows"]:
        print(name, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
PY
say "done (status ${status}); results in ${out}"
exit ${status}
