"""Random resampling R: identity in eval, order destroyed but values kept in training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vs_plugin.models.resampling import RandomResampling, ResamplingConfig


def _ramp(t: int = 400, channels: int = 3, batch: int = 2) -> torch.Tensor:
    """A signal whose value is its own time index: order is trivially measurable."""
    return torch.arange(t, dtype=torch.float32).repeat(batch, channels, 1)


def test_eval_mode_is_identity() -> None:
    r = RandomResampling().eval()
    x = torch.randn(2, 5, 97)
    assert r(x) is x


def test_train_mode_destroys_order_but_keeps_values() -> None:
    r = RandomResampling().train()
    x = _ramp(batch=16)
    torch.manual_seed(0)
    y = r(x)
    assert y.shape == x.shape
    t = np.arange(x.shape[-1])
    corr = np.array([np.corrcoef(t, y[b, 0].numpy())[0, 1] for b in range(16)])
    assert np.abs(corr).mean() < 0.35, corr  # the input's correlation with time is 1.0
    # every output value is an interpolation of neighbouring inputs: same range and spread
    q = torch.tensor([0.1, 0.5, 0.9])
    assert torch.allclose(torch.quantile(y[0, 0], q), torch.quantile(x[0, 0], q), atol=40)
    assert y.min() >= x.min() and y.max() <= x.max()
    # channels share the plan: a frame is resampled as a whole
    assert torch.equal(y[:, 0], y[:, 2])


def test_per_sample_plans_differ() -> None:
    torch.manual_seed(1)
    y = RandomResampling().train()(_ramp())
    assert not torch.equal(y[0], y[1])


def test_without_swap_order_is_kept() -> None:
    cfg = ResamplingConfig(swap=False)
    torch.manual_seed(0)
    y = RandomResampling(cfg).train()(_ramp())
    assert (y[0, 0].diff() >= -1e-4).all()  # stretched/shrunk but still monotone


def test_free_length_follows_the_scale_range() -> None:
    cfg = ResamplingConfig(keep_length=False, min_scale=1.5, max_scale=2.0)
    torch.manual_seed(0)
    y = RandomResampling(cfg).train()(_ramp(300))
    assert 1.4 * 300 <= y.shape[-1] <= 2.0 * 300 + 20
    cfg = ResamplingConfig(keep_length=False, min_scale=0.5, max_scale=0.6)
    y = RandomResampling(cfg).train()(_ramp(300))
    assert 0.45 * 300 <= y.shape[-1] <= 0.65 * 300


def test_short_inputs_and_gradients() -> None:
    r = RandomResampling().train()
    x = torch.randn(1, 4, 3, requires_grad=True)
    y = r(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="min_segment"):
        RandomResampling(ResamplingConfig(min_segment=10, max_segment=5))
    with pytest.raises(ValueError, match="min_scale"):
        RandomResampling(ResamplingConfig(min_scale=0.0))
