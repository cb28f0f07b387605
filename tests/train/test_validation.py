"""Validation measures the inference condition: another clip's reference, a silent background.

Self-reconstruction validation (the target as its own reference, its real background) rewards
copying; these tests pin down that the trainer's validation does not do that.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.train.conftest import make_dump, tiny_job
from vs_plugin.data.dataset import DumpDataset, collate
from vs_plugin.data.normalize import Normalizer
from vs_plugin.models.presets import build_generator, generator_spec
from vs_plugin.train import engine
from vs_plugin.train.validation import InferenceConditionMetrics, resolve_select_metric
from vs_plugin.utils.files import write_scp


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    root = make_dump(tmp_path_factory.mktemp("vdump"), {"train": 6, "valid": 6}, frames=16)
    for name in ("train", "valid"):  # two sources per category, so pairs can differ in source
        lines = (root / name / "utt2category").read_text().splitlines()
        utts = sorted(line.split()[0] for line in lines if line.strip())
        write_scp(root / name / "utt2timbre", {u: f"src{i % 3}" for i, u in enumerate(utts)})
    return root


def _valid(dump: Path, reference: str = "other_timbre") -> DumpDataset:
    stats = {s: dump / "train" / s / "stats.npz" for s in ("mel", "video")}
    return DumpDataset(
        dump / "valid", stats["mel"], stats["video"], train=False, seed=3, reference=reference
    )


def test_validation_references_are_other_sources_and_fixed(dump):
    ds = _valid(dump)
    pairs = [(ex["utt"], ex["ref_utt"]) for ex in ds]
    assert all(u != r for u, r in pairs)
    assert all(ds.timbre[u] != ds.timbre[r] for u, r in pairs)
    ds.set_epoch(5)
    assert [(ex["utt"], ex["ref_utt"]) for ex in ds] == pairs  # the same pairs every epoch
    first = ds[0]
    own = np.load(ds.mel_paths[first["ref_utt"]]).astype(np.float32)
    assert np.allclose(ds.mel_norm.inverse(first["ref_mel"].numpy().T), own, atol=1e-3)


def test_cross_category_references(dump):
    ds = _valid(dump, "other_category")
    assert all(ds.category[ex["utt"]] != ds.category[ex["ref_utt"]] for ex in ds)


def test_evaluator_feeds_a_silent_background(dump):
    torch.manual_seed(0)
    gen = build_generator(generator_spec("tiny", video_dim=64)).eval()
    gen.set_silence(torch.full((80,), -2.0))
    batch = collate([_valid(dump)[i] for i in range(2)])
    out = engine.create_evaluator(gen, torch.device("cpu"), None).run([batch]).output
    expected = gen(batch["video"], batch["ref_mel"], None)
    assert torch.allclose(out["fake"], expected, atol=1e-5)
    recon = engine.create_evaluator(gen, torch.device("cpu"), None, "reconstruction")
    real_bg = recon.run([batch]).output["fake"]
    assert not torch.allclose(real_bg, expected)
    with pytest.raises(ValueError, match="train.validation"):
        engine.create_evaluator(gen, torch.device("cpu"), None, "copy")


def test_metrics_reward_the_reference_not_the_original(dump):
    ds = _valid(dump)
    stats = Normalizer.load(dump / "train" / "mel" / "stats.npz")
    batch = collate([ds[i] for i in range(len(ds))])
    as_ref, as_orig = InferenceConditionMetrics(stats, ds), InferenceConditionMetrics(stats, ds)
    t = batch["mel"].shape[-1]
    as_ref.update(batch, batch["ref_mel"][..., :t])  # an output that copies the reference
    as_orig.update(batch, batch["mel"])  # one that copies the video's own sound
    ref_m, orig_m = as_ref.compute(), as_orig.compute()
    assert ref_m["val_mfcc_leakage"] < 0 < orig_m["val_mfcc_leakage"]
    assert orig_m["val_mel_l1"] == pytest.approx(0.0)
    assert not math.isnan(orig_m["val_onset_f1"])
    assert resolve_select_metric("auto", ds, None) == "val_mfcc_leakage"
    with pytest.raises(ValueError, match="select_metric"):
        resolve_select_metric("val_nothing", ds, None)


def test_training_logs_inference_condition_metrics(dump, tmp_path):
    result = engine.train(tiny_job(dump, tmp_path / "exp", epochs=1, hold_epochs=0))
    last = result["history"][-1]
    assert {"val_mel_l1", "val_mfcc_leakage", "val_onset_f1"} <= set(last)
    gen = result["generator"]
    assert gen.has_silence  # the trainer recorded the normalised silence from the stats
    silence = engine.silence_mel(dump / "train" / "mel" / "stats.npz")
    assert np.allclose(gen.silence_mel.numpy(), silence)
