"""The SpeechSplit-style converter: published sizes, the energy stream, gradients, overfit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vs_plugin.models import presets
from vs_plugin.models.converter import (
    ConverterConfig,
    InterpResample,
    SpeechSplitConverter,
    energy_contour,
)
from vs_plugin.registry import GENERATORS, SYSTEMS
from vs_plugin.train import systems as _systems  # noqa: F401


def test_published_sizes_and_shapes():
    torch.manual_seed(0)
    conv = GENERATORS.build(presets.generator_spec("converter"))
    cfg = conv.cfg
    assert (cfg.freq, cfg.content_neck, cfg.rhythm_neck, cfg.pitch_neck) == (8, 8, 1, 32)
    assert (cfg.content_channels, cfg.rhythm_channels, cfg.pitch_channels) == (512, 128, 256)
    assert (cfg.pitch_bins, cfg.embedding_dim, cfg.decoder_hidden) == (257, 82, 512)
    assert conv.content_lstm.num_layers == 2 and conv.decoder_lstm.num_layers == 3
    assert conv.decoder_lstm.input_size == 2 * (8 + 1 + 32) + 82
    for t in (64, 83):  # not a multiple of freq too
        out = conv.convert(torch.randn(2, 80, t), torch.randn(2, 80, 37))
        assert out.shape == (2, 80, t)
    with pytest.raises(ValueError, match="source"):
        conv(None, torch.randn(1, 80, 10))


def test_energy_contour_is_one_hot_per_clip_normalised_with_a_silent_bin():
    mel = torch.full((1, 80, 6), -4.0)
    mel[..., 2] = 1.0  # loudest frame
    mel[..., 3] = -1.5
    one_hot = energy_contour(mel)
    assert one_hot.shape == (1, 257, 6) and torch.equal(one_hot.sum(1), torch.ones(1, 6))
    idx = one_hot.argmax(1)[0]
    assert idx[0] == 0 and idx[2] == 256 and 0 < idx[3] < 256  # silent, top, in between
    # per-clip normalisation: a louder or quieter copy gives the same contour
    assert torch.equal(energy_contour(mel + 3.0), one_hot)
    assert torch.equal(energy_contour(torch.zeros(1, 80, 4)).argmax(1), torch.zeros(1, 4).long())


def test_resampling_is_speechsplit_style_in_training_and_identity_in_eval():
    r = InterpResample(ConverterConfig())
    x = torch.arange(96.0).expand(1, 3, -1).contiguous()
    r.train()
    y = r(x)
    assert y.shape == x.shape
    kept = y[0, 0][y[0, 0] > 0]
    assert torch.all(kept[1:] >= kept[:-1] - 1e-4)  # segments stay in order (no swapping)
    assert not torch.equal(y, x)
    r.eval()
    assert torch.equal(r(x), x)


def test_gradients_reach_every_stream():
    torch.manual_seed(0)
    conv = GENERATORS.build(presets.generator_spec("converter_tiny"))
    system = SYSTEMS.build("converter")
    mel = torch.randn(2, 80, 40)
    batch = {"video": torch.randn(2, 8, 10), "mel": mel, "ref_mel": mel[..., :24]}
    system.generator_losses(conv, [], [], batch, system.forward(conv, batch))["loss_g"].backward()
    parts = [conv.content_convs, conv.content_lstm, conv.pitch_convs, conv.pitch_lstm,
             conv.rhythm_conv, conv.rhythm_lstm, conv.timbre, conv.decoder_lstm]  # fmt: skip
    for part in parts:
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


def test_overfits_two_clips_by_self_reconstruction(event_batch):
    """Two clips (a tonal and a noisy timbre): the training loss must fall far below the
    start, and each clip's reconstruction must be nearer its own mel than the other's."""
    torch.manual_seed(0)
    conv: SpeechSplitConverter = GENERATORS.build(presets.generator_spec("converter_tiny"))
    system = SYSTEMS.build("converter")
    mel = event_batch["mel"][..., :96]
    batch = {"mel": mel, "ref_mel": mel, "video": event_batch["video"]}
    opt = torch.optim.Adam(conv.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        loss = system.generator_losses(conv, [], [], batch, system.forward(conv, batch))["loss_g"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss.detach())
    conv.eval()
    with torch.no_grad():
        out = conv.convert(mel, mel)
    err = nn.functional.mse_loss(out, mel).item()
    assert err < 0.25 * first, (first, err)
    own = [nn.functional.mse_loss(out[i], mel[i]).item() for i in range(2)]
    other = [nn.functional.mse_loss(out[i], mel[1 - i]).item() for i in range(2)]
    assert all(o < x for o, x in zip(own, other))
