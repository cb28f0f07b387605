"""GAN systems: the generic step trains any registered system; the engine names none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from ignite.engine import Engine

from vs_plugin.models import presets
from vs_plugin.registry import SYSTEMS
from vs_plugin.train import losses
from vs_plugin.train import systems as _systems  # noqa: F401
from vs_plugin.train.engine import GANStep, StepOptions, system_spec

ROOT = Path(__file__).parents[2] / "vs_plugin"


def test_engine_and_losses_special_case_no_system_by_name():
    names = set(SYSTEMS.names()) | {"cascade", "speechsplit_converter", "baseline"}
    quoted = "|".join(re.escape(n) for n in sorted(names))
    pattern = re.compile(
        rf"""(name\s*[!=]=|[!=]=\s*["']({quoted})["']|["']({quoted})["']\s*[!=]=)"""
    )
    for bad in ('if name == "x":', 'if spec["name"] == "regnet":', "'converter' != kind"):
        assert pattern.search(bad), bad  # the check itself would catch these
    for path in (ROOT / "train" / "engine.py", ROOT / "train" / "losses.py"):
        hits = [ln for ln in path.read_text().splitlines() if pattern.search(ln)]
        assert not hits, f"{path.name} special-cases a system by name: {hits}"


def test_preset_decides_the_system_unless_the_model_config_names_one():
    assert system_spec({"preset": "tiny"}) == {"name": "varietysound"}
    assert system_spec({"preset": "regnet_tiny"}) == {"name": "regnet"}
    assert system_spec({"preset": "converter_tiny"}) == {"name": "converter"}
    assert system_spec({"preset": "tiny", "system": "regnet"}) == {"name": "regnet"}


def _step(preset: str) -> tuple[GANStep, torch.nn.Module, torch.nn.ModuleList]:
    torch.manual_seed(0)
    gen = presets.build_generator(presets.generator_spec(preset, video_dim=16))
    discs = presets.build_discriminators(
        presets.discriminator_specs(preset), gen.n_mels, gen.video_dim, gen.upsample
    )
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(discs.parameters(), lr=1e-3) if len(discs) else None
    scalers = [torch.amp.GradScaler("cpu", enabled=False) for _ in range(2)]
    system = SYSTEMS.build(presets.system_spec(preset), losses.LossConfig())
    step = GANStep(
        gen, list(discs), discs.weights, discs.names, opt_g, opt_d, *scalers,
        torch.device("cpu"), StepOptions(loss=losses.LossConfig()), system,
    )  # fmt: skip
    return step, gen, discs


@pytest.mark.parametrize("preset", ["regnet_tiny", "converter_tiny", "tiny"])
def test_the_generic_step_updates_every_systems_models(preset):
    step, gen, discs = _step(preset)
    g = torch.Generator().manual_seed(1)
    mel = torch.randn(2, 80, 48, generator=g)
    batch = {
        "video": torch.randn(2, 16, 12, generator=g), "mel": mel,
        "ref_mel": mel.roll(5, -1), "bg_mel": mel.clone(),
    }  # fmt: skip
    before_g = [p.detach().clone() for p in gen.parameters()]
    before_d = [p.detach().clone() for p in discs.parameters()]
    engine = Engine(step)
    engine.state.iteration = 1
    out = step(engine, batch)
    assert set(step.system.loss_names(discs.names)) <= set(out)
    assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
    assert any(not torch.equal(a, b) for a, b in zip(before_g, gen.parameters()))
    if len(discs):
        assert any(not torch.equal(a, b) for a, b in zip(before_d, discs.parameters()))
