"""``vs-train`` end to end through Hydra (a subprocess, as the recipe calls it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import yaml

from vs_plugin.audio.mel import MelConfig
from vs_plugin.features.spec import SPEC_FILE, make_spec


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "vs_plugin.bin.train", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_cli_trains_checkpoints_logs_and_exports(tiny_dump, tmp_path):
    dump = shutil.copytree(tiny_dump, tmp_path / "dump")
    video = {"name": "effnet_rgb_flow", "fps": 21.5, "image_size": 112}
    mel = {"name": "mel", **vars(MelConfig(fmax=7600.0))}
    for set_ in ("train", "valid"):  # what stage 1 records beside each stream
        for stream, feature in (("video", video), ("mel", mel)):
            text = yaml.safe_dump(make_spec(stream, feature, 21.5, 4))
            (dump / set_ / stream / SPEC_FILE).write_text(text, encoding="utf-8")
    exp = tmp_path / "exp" / "tiny"
    proc = _run(
        "preset=tiny", f"dump_dir={dump}", f"exp_dir={exp}", "device=cpu",
        "train.batch_size=2", "train.max_iters=2",
        "train.progress_bar=false", "ablation=no_align_disc",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = yaml.safe_load((exp / "config.yaml").read_text())
    kinds = {(c["kind"], c["name"]): c["provider"] for c in record["components"]}
    assert ("generator", "varietysound") in kinds and ("decoder", "fft") in kinds
    assert ("discriminator", "multi_window_mel") in kinds
    assert ("discriminator", "time_alignment") not in kinds  # the ablation took it out
    assert all(p.startswith("vs_plugin") for p in kinds.values())
    assert record["model"]["preset"] == "tiny" and record["train"]["max_iters"] == 2
    assert (exp / "checkpoints" / "checkpoint_2.pt").is_file()  # saved on the early stop
    assert (exp / "model" / "model.pt").is_file() and (exp / "model" / "card.yaml").is_file()
    exported = yaml.safe_load((exp / "model" / "generator.yaml").read_text())
    assert exported["video_feature"] == video  # the dump's spec, verbatim
    assert exported["mel"] == {k: v for k, v in mel.items() if k != "name"}
    assert list((exp / "tensorboard").glob("events.out.tfevents.*"))
    assert "val_mel_l1" in (exp / "train.log").read_text()
    assert (exp / "hydra" / ".hydra" / "config.yaml").is_file() or (exp / "hydra").is_dir()
    assert not (tmp_path / "outputs").exists()  # Hydra did not write into the cwd


def test_cli_missing_features_is_a_one_line_error(tmp_path):
    proc = _run(f"dump_dir={tmp_path / 'nowhere'}", f"exp_dir={tmp_path / 'exp'}", cwd=tmp_path)
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("vs-train: error: ") and "feats_shape: missing" in line
