"""REGNET's learning-rate schedule: constant, then linear decay to zero at the last epoch."""

from __future__ import annotations

from ignite.handlers import PiecewiseLinear
from torch.optim import Optimizer


def regnet_milestones(
    lr: float, hold_epochs: int, epochs: int, epoch_length: int
) -> list[tuple[int, float]]:
    """(iteration, lr) knots: ``lr`` up to ``hold_epochs``, 0 after the last epoch's last step.

    The decay is applied per iteration (smoother than REGNET's per-epoch steps, same line).
    """
    if epochs < 1 or epoch_length < 1:
        raise ValueError(f"epochs and epoch_length must be >= 1, got {epochs}, {epoch_length}")
    total = epochs * epoch_length
    hold = min(max(hold_epochs, 0), epochs) * epoch_length
    if hold >= total:
        return [(0, lr), (total, lr)]
    return [(0, lr), (hold, lr), (total, 0.0)]


def regnet_scheduler(
    optimizer: Optimizer, lr: float, hold_epochs: int, epochs: int, epoch_length: int
) -> PiecewiseLinear:
    """An Ignite param scheduler (attach to ``Events.ITERATION_STARTED``); it has a state dict."""
    return PiecewiseLinear(
        optimizer, "lr", milestones_values=regnet_milestones(lr, hold_epochs, epochs, epoch_length)
    )
