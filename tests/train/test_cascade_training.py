"""The cascade baseline end to end at toy size: two runs of the same trainer, then one model."""

from __future__ import annotations

import torch

from vs_plugin.models.cascade import CascadeGenerator, export_cascade
from vs_plugin.models.export import load_exported
from vs_plugin.train.engine import train

from .conftest import tiny_job


def test_two_trainer_runs_join_into_a_cascade_that_stage3_can_load(tiny_dump, tmp_path):
    halves = {}
    for preset in ("regnet_tiny", "converter_tiny"):
        job = tiny_job(tiny_dump, tmp_path / preset, optimizer="adam", weight_decay=0.0)
        job["model"] = {"preset": preset}
        summary = train(job)
        assert summary["iteration"] == 6
        halves[preset] = tmp_path / preset / "model"
        assert (halves[preset] / "model.pt").is_file()
    card = export_cascade(halves["regnet_tiny"], halves["converter_tiny"], tmp_path / "cascade")
    model = load_exported(card.parent)
    assert isinstance(model.generator, CascadeGenerator) and model.spec["name"] == "cascade"
    video, ref = torch.randn(1, model.generator.video_dim, 10), torch.randn(1, 80, 30)
    torch.manual_seed(0)
    out = model.generator.generate(video, ref)
    assert out.shape == (1, 80, 40) and torch.isfinite(out).all()
    # the chain is exactly REGNET (regularizer zeroed) then the converter
    v2s, conv = load_exported(halves["regnet_tiny"]), load_exported(halves["converter_tiny"])
    torch.manual_seed(0)
    expected = conv.generator.convert(v2s.generator.generate(video, ref), ref)
    assert torch.allclose(out, expected, atol=1e-5)
