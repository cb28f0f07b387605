"""The whole recipe, stages 0-5, on a very small built-in corpus (CPU, a few minutes); then a
training run killed mid-stage-2 resumes from its checkpoint through exp/<tag>/run.sh; and the
second recipe (egs/folder_demo) runs stages 0-1 on a generated folder corpus.

Outputs go to a temporary folder through --data-dir/--dump-dir/--exp-root and VAS_SYNTH.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.media import make_video
from vs_plugin.utils.files import read_scp

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def recipe_env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "VS_SKIP_INSTALL_CHECK": "true", "VAS_SYNTH": str(tmp / "synth"),
            "OMP_NUM_THREADS": "1", "VAS": ""}


def common(tmp: Path, tag: str) -> list[str]:
    return ["--data-dir", str(tmp / "data"), "--dump-dir", str(tmp / "dump"),
            "--exp-root", str(tmp / "exp"), "--tag", tag, "--duration", "2",
            "--corpus", "vas_synth",
            "--video-feature-opts", "image_size=64",
            "--local-data-opts",
            "--synth-train 3 --synth-valid 1 --synth-test 2 --synth-categories 'drum bell'"]


def run_recipe(tmp: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    out = subprocess.run([str(REPO / "egs" / "vas" / "run.sh"), *args], env=recipe_env(tmp),
                         capture_output=True, text=True, timeout=timeout, check=False)
    (tmp / f"run.{time.time():.0f}.log").write_text(out.stdout + out.stderr)
    return out


def demo_args(tmp: Path) -> list[str]:
    return [*common(tmp, "e2e"), "--infer-policies", "same shuffled cross",
            "--eval-policies", "shuffled cross",
            "--train-overrides", "train.epochs=2 train.batch_size=2"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    out = run_recipe(tmp, *demo_args(tmp))
    assert out.returncode == 0, out.stderr[-4000:]
    return tmp, out


def test_every_stage_leaves_valid_outputs(demo):
    tmp, out = demo
    assert "BUILT-IN SYNTHETIC" in out.stderr and "Successfully finished" in out.stderr
    for s in ("train", "valid", "test"):
        wavs = read_scp(tmp / "data" / s / "wav.scp")
        assert len(wavs) == {"train": 6, "valid": 2, "test": 4}[s]
        for utt, shape in read_scp(tmp / "dump" / s / "video" / "feats_shape").items():
            t_vid = int(shape.split(",")[0])
            t_mel = int(read_scp(tmp / "dump" / s / "mel" / "feats_shape")[utt].split(",")[0])
            assert t_mel == 4 * t_vid == 4 * 43
    exp = tmp / "exp" / "e2e"
    for f in ("config.yaml", "train.log", "model/model.pt", "model/card.yaml", "run.sh"):
        assert (exp / f).is_file(), f
    assert list((exp / "tensorboard").glob("events.out.tfevents.*"))
    for policy in ("same", "shuffled", "cross", "gt"):
        d = exp / f"infer_test_{policy}"
        wavs = read_scp(d / "wav.scp")
        assert len(wavs) == 4
        for path in wavs.values():
            audio, sr = sf.read(path)
            assert sr == 22050 and abs(len(audio) / sr - 2.0) < 0.05
            assert np.isfinite(audio).all() and np.abs(audio).max() > 0
        if policy != "gt":
            assert len(list((d / "mp4").glob("*.mp4"))) == 4
            pairs = (d / "pairs.tsv").read_text().splitlines()
            assert len([p for p in pairs if p and not p.startswith("utt")]) == 4
    results = (exp / "RESULTS.md").read_text()
    assert "built-in synthetic corpus" in results
    assert "## Reference policy: shuffled" in results and "## Reference policy: cross" in results
    for metric in ("mcd", "timbre_sim", "onset_f1", "mfcc_leakage", "sfx_leakage", "ref_match"):
        assert metric in results
    for policy in ("shuffled", "cross"):
        for scorer in ("mcd", "timbre_similarity", "mfcc_similarity", "sfx_similarity",
                       "reference_match", "onset", "disentanglement"):
            assert (exp / "scores" / policy / f"{scorer}.tsv").is_file(), (policy, scorer)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", results)
    assert any("/bars_" in x for x in links) and any("/pair_" in x for x in links)
    assert all((exp / link).is_file() for link in links), links
    assert (tmp / "data" / "test" / "utt2timbre").is_file()  # the corpus knows its sources
    kit = exp / "listening_test"
    assert (kit / "items.csv").is_file() and (kit / "key.csv").is_file()
    assert (kit / "instructions.md").is_file() and (kit / "manifest.json").is_file()
    assert (kit / "index.html").is_file() and (kit / "mturk" / "hit.html").is_file()


def test_finished_stages_are_a_quick_no_op(demo):
    tmp, _ = demo
    t0 = time.time()
    out = run_recipe(tmp, *common(tmp, "e2e"), "--infer-policies", "same shuffled cross",
                     "--stop-stage", "4")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr.count("already") >= 5
    assert time.time() - t0 < 60


def test_killed_training_resumes_through_exp_run_sh(demo):
    tmp, _ = demo
    args = [*common(tmp, "resume"), "--stage", "2", "--stop-stage", "2",
            "--train-overrides", "train.epochs=12 train.batch_size=2 train.checkpoint_every=2"]
    proc = subprocess.Popen([str(REPO / "egs" / "vas" / "run.sh"), *args], env=recipe_env(tmp),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    ckpts = tmp / "exp" / "resume" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and not list(ckpts.glob("checkpoint_*.pt")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(ckpts.glob("checkpoint_*.pt")), "no checkpoint before the kill"
    assert not (tmp / "exp" / "resume" / "model" / "model.pt").exists()
    resume = tmp / "exp" / "resume" / "run.sh"
    out = subprocess.run([str(resume)], env=recipe_env(tmp), capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    log = (tmp / "exp" / "resume" / "train.log").read_text()
    assert "resumed from" in log
    # 6 training clips, batch 2: 3 iterations per epoch, 12 epochs in all
    assert "epoch 12 iteration 36:" in log
    assert (tmp / "exp" / "resume" / "model" / "model.pt").is_file()


def test_second_recipe_runs_stages_0_1_on_a_folder_corpus(tmp_path):
    folder = tmp_path / "my corpus"
    for cat in ("clap", "tick"):
        for i in range(5):
            make_video(folder / cat / f"clip {i}.mp4", seconds=1.5, events=(0.2 + 0.1 * i, 0.9))
    env = {**recipe_env(tmp_path), "FOLDER": str(folder)}
    out = subprocess.run(
        [str(REPO / "egs" / "folder_demo" / "run.sh"), "--stage", "0", "--stop-stage", "1",
         "--duration", "1.5", "--video-feature-opts", "image_size=64",
         "--data-dir", str(tmp_path / "data"), "--dump-dir", str(tmp_path / "dump"),
         "--exp-root", str(tmp_path / "exp"), "--local-data-opts",
         "--valid-size 1 --test-size 1"],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "BUILT-IN SYNTHETIC" not in out.stderr
    counts = {
        s: len(read_scp(tmp_path / "data" / s / "wav.scp")) for s in ("train", "valid", "test")
    }
    assert counts == {"train": 6, "valid": 2, "test": 2}
    assert (tmp_path / "dump" / "train" / "video" / "stats.npz").is_file()


def _outputs(root: Path) -> dict[str, object]:
    """Every output under data/, dump/ and exp/e2e/, comparable across two roots: text with the
    root replaced, arrays for npy/wav/pt, bytes for media. Logs and timings are left out."""
    out: dict[str, object] = {}
    skip = {".log", ".done", ".sh"}
    for top in ("data", "dump", "exp/e2e"):
        for path in sorted((root / top).rglob("*")):
            rel = str(path.relative_to(root))
            if not path.is_file() or path.suffix in skip or "/log/" in rel or "tensorboard" in rel:
                continue
            if "/checkpoints/" in rel or rel.endswith(("train.log", ".json")):
                continue  # checkpoints of a resumed run differ in the iterations they keep
            if path.suffix == ".npy":
                out[rel] = np.load(path)
            elif path.suffix == ".wav":
                out[rel] = sf.read(path)[0]
            elif path.suffix == ".pt":
                import torch

                state = torch.load(path, map_location="cpu", weights_only=True)
                flat = state.get("generator", state) if isinstance(state, dict) else state
                out[rel] = {k: v.numpy() for k, v in flat.items() if hasattr(v, "numpy")}
            elif path.suffix in (".mp4", ".npz"):
                out[rel] = path.read_bytes()
            else:
                try:
                    out[rel] = path.read_text(encoding="utf-8").replace(str(root), "<root>")
                except UnicodeDecodeError:
                    out[rel] = path.read_bytes()
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    return a == b


def test_every_stage_killed_at_a_random_point_reruns_to_the_same_outputs(demo, tmp_path):
    """Kill -9 each stage (0-5) at a random point, rerun it: the outputs equal an
    uninterrupted run's, and no temporary file is left under data/, dump/ or exp/."""
    import random

    from vs_plugin.utils.files import TEMP_MARK

    ref, _ = demo
    rng = random.Random(1)
    for stage in range(6):
        args = [*demo_args(tmp_path), "--stage", str(stage), "--stop-stage", str(stage)]
        proc = subprocess.Popen([str(REPO / "egs" / "vas" / "run.sh"), *args],
                                env=recipe_env(tmp_path), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(1.0, 8.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        out = run_recipe(tmp_path, *args)
        assert out.returncode == 0, (stage, out.stderr[-3000:])
        left = [p for top in ("data", "dump", "exp") for p in (tmp_path / top).rglob("*")
                if TEMP_MARK in p.name or (p.name.startswith("tmp") and "checkpoints" in str(p))]
        assert left == [], (stage, left)
    mine, theirs = _outputs(tmp_path), _outputs(ref)
    assert sorted(mine) == sorted(theirs)
    differ = [k for k in mine if not _same(mine[k], theirs[k])]
    assert differ == []
