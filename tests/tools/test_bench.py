"""The benchmark harness and the prepared GPU check, dry-run on the CPU so they cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_check_dry_run_on_cpu_writes_every_table(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        ["bash", str(REPO / "tools" / "gpu_check.sh"), "--device", "cpu", "--small",
         "--out", str(tmp_path), "--python", sys.executable],
        capture_output=True, text=True, timeout=900, env=env, check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "gpu_check summary" in out.stdout
    for name in ("train", "infer", "floor"):
        payload = json.loads((tmp_path / f"{name}.json").read_text())
        assert payload["machine"]["device"] == "cpu" and payload["rows"]
    train = json.loads((tmp_path / "train.json").read_text())["rows"][0]
    assert train["clips_per_s"] > 0 and train["tflop_per_iter"] > 0
    assert 0 < train["floor_fraction"] < 1
    floor = json.loads((tmp_path / "floor.json").read_text())["rows"]
    assert {r["what"].split(" (")[0] for r in floor} == {"train iteration", "generation"}


def test_bench_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "tools.bench", "--help"], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True)
    for sub in ("train", "train-steps", "infer", "fresh-generate", "prep", "score", "floor",
                "vocoder"):
        assert sub in out.stdout


def test_vocoder_bench_times_each_path_against_torch_fp32():
    from tools.bench.vocoder import bench_vocoder

    rows = bench_vocoder(0.5, ["torch-fp32", "openvino-fp32"], repeats=1)
    assert [r["path"] for r in rows] == ["torch-fp32", "openvino-fp32"]
    assert rows[0]["frames"] == 43 and rows[0]["ratio"] == 1.0 and rows[0]["logmel_l1"] == 0
    assert rows[1]["s_per_audio_s"] > 0 and rows[1]["logmel_l1"] < 1e-3


def test_fresh_generate_reads_each_variants_report_from_whole_processes():
    from tools.bench.infer import bench_fresh

    rows = bench_fresh("tiny", 2.0, "effnet_rgb_flow", [{"image_size": 64}], runs=1)
    parts = {r["part"]: r for r in rows}
    assert set(parts) == {"features", "generator", "vocoder", "mux", "timed parts", "loading",
                          "wall"}
    assert {r["variant"] for r in rows} == {"image_size=64"}
    timed = sum(parts[p]["median_s"] for p in ("features", "generator", "vocoder", "mux"))
    assert abs(parts["timed parts"]["median_s"] - timed) < 0.05  # the report's own total
    # the process's wall time holds the timed parts, the loading and the start-up
    inside = parts["timed parts"]["median_s"] + parts["loading"]["median_s"]
    assert parts["wall"]["median_s"] > inside
