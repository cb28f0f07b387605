"""Hydra presets and overrides, model specs, the learning-rate schedule."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

import vs_plugin.train.config  # noqa: F401  (registers the schema)
from vs_plugin.errors import ConfigError
from vs_plugin.models import presets
from vs_plugin.train.engine import check_model, model_specs, system_spec, train
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


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_every_preset_composes_to_its_table_entry(name):
    """``preset=X`` builds exactly the table's models: the YAML restates none of them."""
    model = OmegaConf.to_container(_compose(f"preset={name}").model)
    assert model["preset"] == name
    assert model_specs(model) == (presets.generator_spec(name), presets.discriminator_specs(name))
    assert system_spec(model) == presets.system_spec(name)


def test_generator_fields_need_no_plus_and_a_misspelt_one_is_named():
    """Any field of the generator's parts overrides without ``+``; ``+`` still works."""
    plain = _compose(
        "preset=tiny", "model.generator.decoder.n_blocks=2",
        "model.generator.acoustic_encoder.lstm_hidden=48", "model.generator.use_background=false",
    )  # fmt: skip
    gspec, _ = model_specs(OmegaConf.to_container(plain.model))
    assert gspec["decoder"]["n_blocks"] == 2 and gspec["acoustic_encoder"]["lstm_hidden"] == 48
    assert gspec["use_background"] is False
    assert gspec["decoder"]["hidden"] == presets.generator_spec("tiny")["decoder"]["hidden"]
    plus = _compose("preset=tiny", "+model.generator.decoder.n_blocks=2")
    assert model_specs(OmegaConf.to_container(plus.model))[0]["decoder"]["n_blocks"] == 2
    check_model(OmegaConf.to_container(plain.model))
    bad = _compose("preset=tiny", "model.generator.decoder.n_blcks=2")
    with pytest.raises(ConfigError, match=r"model\.generator\.decoder\.n_blcks: .*n_blocks"):
        check_model(OmegaConf.to_container(bad.model))
    with pytest.raises(ConfigCompositionException, match="model.generatr"):
        _compose("model.generatr.decoder.n_blocks=2")  # the rest of the config stays closed


def test_training_refuses_a_misspelt_generator_field_before_reading_data(tmp_path):
    job = {"dump_dir": str(tmp_path / "no_dump"), "exp_dir": str(tmp_path / "exp"),
           "model": {"preset": "tiny", "generator": {"decoder": {"n_blcks": 2}}}}  # fmt: skip
    with pytest.raises(ConfigError, match=r"model\.generator\.decoder\.n_blcks"):
        train(job)
    assert not (tmp_path / "exp").exists()


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
