"""Least-squares GAN losses (paper eqs. 1-7) and the time-shift negative."""

from __future__ import annotations

import pytest
import torch

from vs_plugin.train.losses import (
    LossConfig,
    adversarial_loss,
    discriminator_loss,
    discriminator_step_loss,
    generator_loss,
    generator_step_loss,
    mel_loss,
    time_shift,
)


def test_defaults_are_the_papers() -> None:
    cfg = LossConfig()
    assert (cfg.lambda_m, cfg.lambda_a, cfg.shift_target) == (10000.0, 1.0, "real")


def test_ls_values_on_known_inputs() -> None:
    ones, zeros = torch.ones(2, 5), torch.zeros(2, 5)
    half = torch.full((2, 5), 0.5)
    assert discriminator_loss(ones, zeros) == 0
    assert discriminator_loss(zeros, ones) == 2
    assert discriminator_loss(ones, zeros, shifted_scores=ones) == 1
    assert discriminator_loss(half, half) == pytest.approx(0.5)
    assert adversarial_loss([ones, ones]) == 0
    assert adversarial_loss([zeros, half], weights=[2.0, 4.0]) == pytest.approx(2 + 4 * 0.25)
    with pytest.raises(ValueError, match="weights"):
        adversarial_loss([ones], weights=[1.0, 1.0])


def test_generator_loss_weights() -> None:
    real = torch.zeros(1, 4, 6)
    fake = torch.full((1, 4, 6), 0.5)
    assert mel_loss(fake, real) == pytest.approx(0.5)
    total, parts = generator_loss(fake, real, [torch.zeros(1, 3)], lambda_m=2.0, lambda_a=3.0)
    assert total.item() == pytest.approx(2 * 0.5 + 3 * 1.0)
    assert set(parts) == {"mel", "adv"}
    total, parts = generator_loss(fake, real)  # reconstruction only
    assert total.item() == pytest.approx(10000 * 0.5) and "adv" not in parts


def test_time_shift_really_shifts_and_keeps_shape() -> None:
    mel = torch.arange(40.0).repeat(3, 2, 1)
    g = torch.Generator().manual_seed(0)
    out = time_shift(mel, 5, 12, generator=g)
    assert out.shape == mel.shape
    for b in range(3):
        shift = int(-out[b, 0, 0].item()) % 40  # out = roll(mel, shift)
        assert torch.equal(out[b], torch.roll(mel[b], shift, dims=-1))
        assert 5 <= min(shift, 40 - shift) <= 12
    with pytest.raises(ValueError, match="cannot shift"):
        time_shift(torch.zeros(1, 2, 8), 5, 12)


def test_time_shift_is_reproducible_with_a_generator() -> None:
    mel = torch.randn(2, 3, 50)
    a = time_shift(mel, 3, 20, torch.Generator().manual_seed(7))
    b = time_shift(mel, 3, 20, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


class _Dummy(torch.nn.Module):
    """Scores a mel by its mean; records what it was given."""

    def __init__(self, needs_video: bool, misaligned: bool | None = None) -> None:
        super().__init__()
        self.needs_video = needs_video
        self.wants_misaligned_negative = needs_video if misaligned is None else misaligned
        self.seen: list = []

    def forward(self, mel, video=None):
        self.seen.append((mel, video))
        return mel.mean(dim=(1, 2)).unsqueeze(1)


@pytest.mark.parametrize("target", ["real", "fake"])
def test_discriminator_step_uses_a_shifted_negative(target: str) -> None:
    real = torch.arange(30.0).repeat(1, 2, 1)
    fake = -real
    video = torch.zeros(1, 4, 30)
    d = _Dummy(needs_video=True)
    cfg = LossConfig(shift_min=3, shift_max=10, shift_target=target)
    discriminator_step_loss(d, real, fake, video, cfg)
    assert len(d.seen) == 3 and all(v is video for _, v in d.seen)
    shifted = d.seen[2][0]
    source = real if target == "real" else fake
    assert not torch.equal(shifted, source)
    assert torch.equal(shifted.sort(dim=-1).values, source.sort(dim=-1).values)
    d2 = _Dummy(needs_video=False)
    discriminator_step_loss(d2, real, fake, video, cfg)
    assert len(d2.seen) == 2 and all(v is None for _, v in d2.seen)
    # a discriminator that takes video but does not ask for the negative gets eq. (7) only
    d3 = _Dummy(needs_video=True, misaligned=False)
    discriminator_step_loss(d3, real, fake, video, cfg)
    assert len(d3.seen) == 2 and all(v is video for _, v in d3.seen)


def test_only_the_alignment_discriminator_asks_for_the_misaligned_negative() -> None:
    from vs_plugin.interfaces import Discriminator
    from vs_plugin.registry import DISCRIMINATORS

    assert Discriminator.wants_misaligned_negative is False
    wanting = {
        name
        for name in DISCRIMINATORS.names()
        if getattr(DISCRIMINATORS.get(name).cls, "wants_misaligned_negative", False)
    }
    assert wanting == {"time_alignment"}


def test_generator_step_gradients_and_detach() -> None:
    real = torch.zeros(1, 2, 30)
    fake = torch.full((1, 2, 30), 0.25, requires_grad=True)
    discs = [_Dummy(True), _Dummy(False)]
    total, _ = generator_step_loss(discs, [1.0, 1.0], fake, real, torch.zeros(1, 4, 30))
    total.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    d_loss = discriminator_step_loss(_Dummy(False), real, fake, None)
    assert not d_loss.requires_grad  # the generated mel is detached for the D step


def test_the_discriminator_loss_is_the_same_with_one_call_for_all_mels() -> None:
    from vs_plugin.registry import DISCRIMINATORS

    torch.manual_seed(0)
    d = DISCRIMINATORS.build({"name": "time_alignment", "channels": 8}, 10, 6, 4).train()
    real, fake, video = torch.randn(4, 10, 48), torch.randn(4, 10, 48), torch.randn(4, 6, 12)
    cfg = LossConfig(shift_min=3, shift_max=10)
    results = []
    for many in (True, False):
        d.scores_many = many  # False: one forward per mel, as before
        d.zero_grad()
        loss = discriminator_step_loss(d, real, fake, video, cfg, torch.Generator().manual_seed(1))
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in d.parameters()]))
    (loss_a, grads_a), (loss_b, grads_b) = results
    torch.testing.assert_close(loss_a, loss_b, rtol=0, atol=0)
    for a, b in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
