"""REGNET (the cascade baseline's video-to-sound half): published sizes, the regularizer, losses."""

from __future__ import annotations

import math

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from vs_plugin.models import presets
from vs_plugin.models.discriminators.regnet import RegNetDiscriminator
from vs_plugin.models.regnet import RegNetGenerator
from vs_plugin.registry import DISCRIMINATORS, GENERATORS, SYSTEMS
from vs_plugin.train.systems.regnet import RegNetSystem, RegNetSystemConfig

CONF = __import__("pathlib").Path(__file__).parents[2] / "vs_plugin" / "conf" / "preset"


@pytest.fixture(scope="module")
def published() -> tuple[RegNetGenerator, RegNetDiscriminator]:
    torch.manual_seed(0)
    gen = GENERATORS.build(presets.generator_spec("regnet"))
    (dspec,) = presets.discriminator_specs("regnet")
    disc = DISCRIMINATORS.build({"name": dspec["name"]}, 80, 2048, 4)
    return gen, disc


def test_published_sizes(published):
    gen, disc = published
    cfg = gen.cfg
    assert (cfg.encoder_convs, cfg.encoder_lstm_layers, cfg.postnet_convs) == (3, 2, 5)
    assert (cfg.encoder_channels, cfg.decoder_channels, cfg.random_z_dim) == (2048, 1024, 512)
    assert cfg.auxiliary_dim == 32 and cfg.postnet_channels == 512
    convs = [m for m in gen.encoder.modules() if isinstance(m, nn.Conv1d)]
    assert [c.in_channels for c in convs] == [2048 + 512, 2048, 2048]
    assert gen.encoder.lstm.num_layers == 2 and gen.encoder.lstm.bidirectional
    transposed = [m for m in gen.decoder.modules() if isinstance(m, nn.ConvTranspose1d)]
    assert len(transposed) == 2 and all(t.stride == (2,) for t in transposed)
    assert len(gen.postnet.convs) == 5


def test_shapes_at_published_sizes(published):
    gen, disc = published
    video, mel = torch.randn(2, 2048, 20), torch.randn(2, 80, 80)
    out, dec = gen(video, target=mel, return_decoder=True)
    assert out.shape == dec.shape == (2, 80, 80)  # x4 in time
    assert disc(out, video).shape == (2, 1, 18)  # patch logits


def test_regularizer_sees_the_target_in_training_and_zeros_at_test():
    gen = GENERATORS.build(presets.generator_spec("regnet_tiny"))
    assert isinstance(gen, RegNetGenerator)
    video = torch.randn(2, 2048, 12)
    a, b = torch.randn(2, 80, 48), torch.randn(2, 80, 48) * 3

    def run(target):
        torch.manual_seed(1)  # the same noise z and dropout masks
        return gen(video, target=target)

    gen.train()
    assert not torch.allclose(run(a), run(b))
    gen.eval()
    assert torch.equal(run(a), run(b))
    torch.manual_seed(1)
    generated = gen.generate(video, a)  # the reference is ignored too
    assert torch.equal(run(a), generated)
    assert torch.equal(gen.auxiliary_input(video, a), torch.zeros(2, 80, 48))


def test_gradients_reach_every_part():
    torch.manual_seed(0)
    spec = presets.generator_spec("regnet_tiny")
    gen = GENERATORS.build(spec)
    (dspec,) = presets.discriminator_specs("regnet_tiny")
    disc = DISCRIMINATORS.build({k: v for k, v in dspec.items() if k != "weight"}, 80, 2048, 4)
    system = SYSTEMS.build("regnet")
    batch = {"video": torch.randn(2, 2048, 12), "mel": torch.randn(2, 80, 48)}
    out = system.forward(gen, batch)
    system.generator_losses(gen, [disc], [1.0], batch, out)["loss_g"].backward()
    for part in (gen.encoder, gen.auxiliary, gen.decoder, gen.postnet):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
    disc.zero_grad()
    detached = {k: v.detach() for k, v in out.items()}
    system.discriminator_losses([disc], [1.0], ["regnet"], batch, detached)["loss_d"].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in disc.parameters())


class _Constant(nn.Module):
    needs_video = True

    def __init__(self, logit: float) -> None:
        super().__init__()
        self.logit = nn.Parameter(torch.tensor(logit))

    def forward(self, mel, video):
        return self.logit.expand(mel.shape[0], 1, 5)


def test_loss_is_published_bce_gan_plus_1e4_times_both_mses():
    system = RegNetSystem(RegNetSystemConfig())
    real = torch.randn(2, 80, 16)
    dec, post = real + 0.1, real - 0.2
    batch = {"video": torch.randn(2, 4, 4), "mel": real}
    outputs = {"fake": post, "decoder": dec}
    losses = system.generator_losses(None, [_Constant(0.0)], [1.0], batch, outputs)
    mse = 0.1**2 + 0.2**2
    assert float(losses["loss_g"].detach()) == pytest.approx(math.log(2) + 1e4 * mse, rel=1e-4)
    d = system.discriminator_losses([_Constant(0.0)], [1.0], ["c"], batch, outputs)
    assert float(d["loss_d"].detach()) == pytest.approx(math.log(2))  # 0.5 * (ln 2 + ln 2)
    # a discriminator sure of "real" everywhere: the fake term dominates, the real one is ~0
    d = system.discriminator_losses([_Constant(20.0)], [1.0], ["c"], batch, outputs)
    assert float(d["loss_d"].detach()) == pytest.approx(0.5 * 20.0, rel=1e-3)


def test_preset_trains_with_published_optimiser():
    cfg = OmegaConf.load(CONF / "regnet.yaml")
    assert cfg.model.preset == "regnet"
    assert (cfg.train.optimizer, cfg.train.lr, cfg.train.betas[0]) == ("adam", 2e-4, 0.5)
    assert presets.system_spec("regnet") == {"name": "regnet"}


def test_published_initialisation(published):
    gen, disc = published
    for module in (gen.encoder.convs[0][0], gen.decoder.net[0], disc.score[-1]):
        assert abs(float(module.weight.detach().std()) - 0.02) < 0.004
        assert float(module.bias.detach().abs().max()) == 0.0
