"""One real GAN iteration of the paper-sized model (20 video frames instead of 215), on CPU."""

from __future__ import annotations

import math

import pytest
import torch
from ignite.engine import Engine

from vs_plugin.models import presets
from vs_plugin.train import losses
from vs_plugin.train.engine import GANStep, StepOptions


def _batch(gen, frames: int = 20, batch: int = 2) -> dict:
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(batch, gen.n_mels, frames * gen.upsample, generator=g)
    return {
        "video": torch.randn(batch, gen.video_dim, frames, generator=g),
        "mel": mel,
        "ref_mel": mel.roll(7, dims=-1),
        "bg_mel": mel.clone(),
    }


def _step(preset: str, **opts) -> tuple[GANStep, list]:
    torch.manual_seed(0)
    gen = presets.build_generator(presets.generator_spec(preset))
    discs = presets.build_discriminators(
        presets.discriminator_specs(preset), gen.n_mels, gen.video_dim, gen.upsample
    )
    kw = {"lr": 2e-4, "betas": (0.5, 0.999), "eps": 1e-8}
    opt_g = torch.optim.AdamW(gen.parameters(), **kw)
    opt_d = torch.optim.AdamW(discs.parameters(), **kw)
    scalers = [torch.amp.GradScaler("cpu", enabled=False) for _ in range(2)]
    step = GANStep(
        gen, list(discs), discs.weights, discs.names, opt_g, opt_d, *scalers,
        torch.device("cpu"), StepOptions(loss=losses.LossConfig(), **opts),
    )  # fmt: skip
    return step, [gen, discs]


def test_paper_preset_iteration_updates_both_nets_and_reaches_every_parameter():
    step, (gen, discs) = _step("paper")
    before = {
        n: p.detach().clone() for n, p in [*gen.named_parameters(), *discs.named_parameters()]
    }
    engine = Engine(step)
    engine.run([_batch(gen)], max_epochs=1)
    out = engine.state.output

    assert {"loss_g", "mel_l1", "adv_g", "loss_d", "d_time_alignment", "d_multi_window_mel"} <= set(
        out
    )
    assert all(math.isfinite(v) for v in out.values()), out
    # The generator's gradient (from its own step) reaches every parameter.
    no_grad = [n for n, p in gen.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad, f"generator parameters without gradient: {no_grad[:5]}"
    no_grad_d = [n for n, p in discs.named_parameters() if p.grad is None]
    assert not no_grad_d, f"discriminator parameters without gradient: {no_grad_d[:5]}"
    # Both optimisers stepped: AdamW state exists and the weights moved.
    for opt in (step.opt_g, step.opt_d):
        assert all(int(opt.state[p]["step"]) == 1 for g in opt.param_groups for p in g["params"])
    moved_g = [not torch.equal(p, before[n]) for n, p in gen.named_parameters()]
    moved_d = [not torch.equal(p, before[n]) for n, p in discs.named_parameters()]
    assert all(moved_g) and all(moved_d)


def test_warmup_trains_the_generator_alone_and_clipping_bounds_the_norm():
    step, (gen, discs) = _step("tiny", generator_warmup_steps=1, grad_clip=1e-3)
    before = [p.detach().clone() for p in discs.parameters()]
    engine = Engine(step)
    engine.run([_batch(gen, frames=12)], max_epochs=1)
    assert "loss_d" not in engine.state.output and "adv_g" not in engine.state.output
    assert all(torch.equal(a, b) for a, b in zip(before, discs.parameters()))
    norm = torch.nn.utils.get_total_norm([p.grad for p in gen.parameters()])
    assert float(norm) <= 1e-3 * 1.01


@pytest.mark.parametrize("disc_steps", [2])
def test_several_discriminator_steps_per_generator_step(disc_steps):
    step, (gen, _) = _step("tiny", disc_steps=disc_steps)
    engine = Engine(step)
    engine.run([_batch(gen, frames=12)], max_epochs=1)
    opt_d = step.opt_d
    assert all(int(opt_d.state[p]["step"]) == disc_steps for p in opt_d.param_groups[0]["params"])
    assert all(int(step.opt_g.state[p]["step"]) == 1 for p in step.opt_g.param_groups[0]["params"])
