"""Discriminators: output shapes, video conditioning, gradients back to the generator."""

from __future__ import annotations

import pytest
import torch

from vs_plugin.models.discriminators.multi_window_mel import random_crops
from vs_plugin.models.presets import (
    build_discriminators,
    build_generator,
    discriminator_specs,
    generator_spec,
)
from vs_plugin.registry import DISCRIMINATORS


def test_paper_preset_shapes_at_paper_sizes() -> None:
    torch.manual_seed(0)
    discs = build_discriminators(discriminator_specs("paper"), 80, 2048, 4)
    assert discs.names == ["time_alignment", "multi_window_mel"]
    assert discs.weights == [1.0, 1.0]
    mel, video = torch.randn(2, 80, 860), torch.randn(2, 2048, 215)
    with torch.no_grad():
        td = discs[0](mel, video)
        mw = discs[1](mel)
    assert td.shape[0] == 2 and td.dim() == 2 and td.shape[1] > 1
    assert ((td > 0) & (td < 1)).all()  # sigmoid output
    assert mw.shape == (2, 3)


@pytest.mark.parametrize("t_video", [3, 37])
def test_odd_lengths_and_short_mels(t_video: int) -> None:
    ta = DISCRIMINATORS.build({"name": "time_alignment", "channels": 8}, 10, 6, 4)
    mw = DISCRIMINATORS.build({"name": "multi_window_mel", "channels": 4}, 10, 6, 4)
    mel, video = torch.randn(2, 10, 4 * t_video), torch.randn(2, 6, t_video)
    assert ta(mel, video).shape[0] == 2
    assert mw(mel).shape == (2, 3)  # windows of 32/64/128 clipped to a 12-frame mel
    with pytest.raises(ValueError, match="frames"):
        ta(mel[..., :-1], video)
    with pytest.raises(ValueError, match="video"):
        ta(mel, None)


def test_time_alignment_depends_on_the_video() -> None:
    torch.manual_seed(0)
    ta = DISCRIMINATORS.build({"name": "time_alignment", "channels": 8}, 10, 6, 4).eval()
    mel = torch.randn(1, 10, 40)
    assert not torch.allclose(ta(mel, torch.randn(1, 6, 10)), ta(mel, torch.randn(1, 6, 10)))


def test_random_crops_are_windows_of_the_mel() -> None:
    mel = torch.arange(50.0).repeat(3, 2, 1)
    crops = random_crops(mel, 8)
    assert crops.shape == (3, 2, 8)
    assert (crops.diff(dim=-1) == 1).all()  # contiguous
    assert torch.equal(random_crops(mel, 80), mel)  # clipped to the mel's length


def test_gradient_reaches_the_generator_through_both() -> None:
    torch.manual_seed(0)
    gen = build_generator(generator_spec("tiny", video_dim=12))
    discs = build_discriminators(discriminator_specs("tiny"), 80, 12, 4)
    video, ref = torch.randn(2, 12, 9), torch.randn(2, 80, 36)
    for disc in discs:
        gen.zero_grad()
        fake = gen(video, ref, ref)
        score = disc(fake, video if disc.needs_video else None)
        ((1 - score) ** 2).mean().backward()
        for part in ("temporal_encoder", "acoustic_encoder", "decoder"):
            grads = [p.grad for p in getattr(gen, part).parameters() if p.grad is not None]
            assert grads and any(g.abs().sum() > 0 for g in grads), (type(disc).__name__, part)


def test_a_list_of_mels_is_scored_as_each_alone_with_the_same_gradients() -> None:
    torch.manual_seed(0)
    spec = {"name": "time_alignment", "channels": 8, "upsample_channels": 6}
    ta = DISCRIMINATORS.build(spec, 10, 6, 4).train()  # BatchNorm on batch statistics
    assert ta.scores_many
    mels = [torch.randn(3, 10, 48) for _ in range(3)]
    video = torch.randn(3, 6, 12)
    together = ta(mels, video)
    alone = [ta(m, video) for m in mels]
    assert len(together) == 3
    for a, b in zip(together, alone, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # each mel keeps its own batch stats
    grads = []
    for scores in (together, alone):
        ta.zero_grad()
        sum((s * (k + 1)).sum() for k, s in enumerate(scores)).backward(retain_graph=True)
        grads.append([p.grad.clone() for p in ta.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
