"""Hydra presets and overrides, model specs, the learning-rate schedule."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

import vs_plugin.train.config  # noqa: F401  (registers the schema)
from vs_plugin.models import presets
from vs_plugin.train.engine import model_specs
from vs_plugin.train.schedule import regnet_milestones, regnet_scheduler


def _compose(*overrides: str):
    with initialize_config_module("vs_plugin.conf", version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=True)


def test_paper_defaults_and_hydra_run_dir():
    cfg = _compose("exp_dir=exp/x")
    t = cfg.train
    assert (t.batch_size, t.epochs, t.lr, t.hold_epochs) == (48, 500, 2e-4, 100)
    assert list(t.betas) == [0.5, 0.999] and t.eps == 1e-8
    assert (cfg.loss.lambda_m, cfg.loss.lambda_a, cfg.loss.shift_target) == (1e4, 1.0, "real")
    assert cfg.hydra.run.dir == "exp/x/hydra" and cfg.hydra.job.chdir is False
    gspec, dspecs = model_specs(OmegaConf.to_container(cfg.model))
    assert gspec == presets.generator_spec("paper")
    assert [d["name"] for d in dspecs] == ["time_alignment", "multi_window_mel"]


def test_tiny_preset_overrides_and_ablations():
    cfg = _compose(
        "preset=tiny", "ablation=no_mel_disc", "train.batch_size=3",
        "model.generator.temporal_encoder.name=other", "+model.generator.decoder.n_blocks=2",
    )  # fmt: skip
    assert cfg.model.preset == "tiny" and cfg.train.batch_size == 3
    gspec, dspecs = model_specs(OmegaConf.to_container(cfg.model))
    assert gspec["temporal_encoder"] == {"name": "other"}  # a new name drops the old fields
    assert gspec["decoder"]["n_blocks"] == 2
    assert gspec["decoder"]["hidden"] == presets.generator_spec("tiny")["decoder"]["hidden"]
    # The ablation keeps the preset's fields of the discriminator it keeps.
    assert dspecs == [presets.discriminator_specs("tiny")[0]]
    cfg = _compose("preset=tiny", "ablation=no_align_disc")
    assert [d["name"] for d in model_specs(OmegaConf.to_container(cfg.model))[1]] == [
        "multi_window_mel"
    ]


@pytest.mark.parametrize("epoch_length", [1, 7])
def test_regnet_schedule_holds_then_decays_to_zero(epoch_length):
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=2e-4)
    sched = regnet_scheduler(opt, 2e-4, hold_epochs=100, epochs=500, epoch_length=epoch_length)
    knots = regnet_milestones(2e-4, 100, 500, epoch_length)
    assert knots == [(0, 2e-4), (100 * epoch_length, 2e-4), (500 * epoch_length, 0.0)]
    seen = []
    for _ in range(500 * epoch_length):
        sched(None)
        seen.append(opt.param_groups[0]["lr"])
    assert seen[100 * epoch_length - 1] == pytest.approx(2e-4)
    assert seen[300 * epoch_length] == pytest.approx(1e-4, rel=1e-2)
    assert 0 < seen[-1] < 2e-4 / 400 / epoch_length * 1.01
    assert all(a >= b for a, b in zip(seen, seen[1:]))
