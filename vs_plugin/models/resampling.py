"""Random resampling R: the acoustic encoder's way of destroying a reference's timing.

The time axis is cut into segments of random length, each segment is stretched or shrunk by
a random factor (linear interpolation between neighbouring frames), and the segments are put
back in a random order. Frame values are only ever interpolated between two adjacent source
frames, so the distribution of values (the timbre) survives while the temporal order (when
events happen, how long they last) does not. In eval mode R is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ResamplingConfig:
    min_segment: int = 19  # frames; segment lengths are uniform in [min_segment, max_segment]
    max_segment: int = 32
    min_scale: float = 0.5  # each segment's length is multiplied by a factor in this range
    max_scale: float = 1.5
    swap: bool = True  # shuffle the order of the segments
    # True: the result is read back at the input's length (nearest position on the
    # resampled time line), so shapes never change; False: the output has the resampled
    # length (sum of the stretched segments), one plan shared by the whole batch.
    keep_length: bool = True
    enabled: bool = True


class RandomResampling(nn.Module):
    """``(B, C, T)`` -> ``(B, C, T')`` in training, identity in eval mode.

    With ``keep_length`` every sample gets its own random plan and ``T' = T``; without it one
    plan is shared by the batch and ``T'`` is the plan's length.
    """

    def __init__(self, cfg: ResamplingConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or ResamplingConfig()
        c = self.cfg
        if not 1 <= c.min_segment <= c.max_segment:
            raise ValueError(f"need 1 <= min_segment <= max_segment, got {c}")
        if not 0 < c.min_scale <= c.max_scale:
            raise ValueError(f"need 0 < min_scale <= max_scale, got {c}")

    def plan(self, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Source positions (float, in frames) of every output frame for one random draw."""
        c = self.cfg
        pieces = []
        start = 0
        while start < length:
            seg = int(torch.randint(c.min_segment, c.max_segment + 1, (1,), generator=generator))
            seg = min(seg, length - start)
            scale = c.min_scale + (c.max_scale - c.min_scale) * float(
                torch.rand((), generator=generator)
            )
            n_out = max(1, round(seg * scale))
            pieces.append(torch.linspace(start, start + seg - 1, n_out))
            start += seg
        if c.swap and len(pieces) > 1:
            order = torch.randperm(len(pieces), generator=generator).tolist()
            pieces = [pieces[i] for i in order]
        positions = torch.cat(pieces)
        if c.keep_length:
            pick = torch.linspace(0, len(positions) - 1, length).round().long()
            positions = positions[pick]
        return positions

    @staticmethod
    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Read ``x`` (B, C, T) at float ``positions`` (T',) or (B, T') by linear interpolation."""
        b, ch, t = x.shape
        pos = positions.to(device=x.device, dtype=torch.float32)
        if pos.dim() == 1:
            pos = pos.unsqueeze(0).expand(b, -1)
        lo = pos.floor().long().clamp(0, t - 1)
        hi = (lo + 1).clamp(max=t - 1)
        frac = (pos - lo.float()).unsqueeze(1).to(x.dtype)
        lo_i = lo.unsqueeze(1).expand(-1, ch, -1)
        hi_i = hi.unsqueeze(1).expand(-1, ch, -1)
        return torch.gather(x, 2, lo_i) * (1 - frac) + torch.gather(x, 2, hi_i) * frac

    def draw(self, batch: int, length: int, generator: torch.Generator | None = None):
        """Positions for a batch: ``(batch, T)`` with ``keep_length``, else ``(T',)``."""
        if self.cfg.keep_length:
            return torch.stack([self.plan(length, generator) for _ in range(batch)])
        return self.plan(length, generator)

    #: Set by an owner (e.g. the acoustic encoder's eval-time draws) to resample in eval mode.
    forced: bool = False

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if not (self.training or self.forced) or not self.cfg.enabled:
            return x
        return self.apply(x, self.draw(x.shape[0], x.shape[-1], generator))
