"""Multi-window mel discriminator: judges local mel texture at three time scales."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from einops import repeat
from torch import nn

from vs_plugin.interfaces import Discriminator
from vs_plugin.registry import DISCRIMINATORS


@dataclass
class MultiWindowMelConfig:
    windows: list[int] = field(default_factory=lambda: [32, 64, 128])  # frames
    channels: int = 128
    n_convs: int = 3
    kernel_size: int = 3
    negative_slope: float = 0.2
    dropout: float = 0.25


class WindowDiscriminator(nn.Module):
    """Conv2d stack (stride 2 on time and frequency) on one ``(window, n_mels)`` crop.

    The features are averaged over time (so a clipped, shorter window still fits) and a
    Linear layer over channels x frequency gives one score per example.
    """

    def __init__(self, cfg: MultiWindowMelConfig, n_mels: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        freq = n_mels
        for i in range(cfg.n_convs):
            layers.append(
                nn.Conv2d(
                    1 if i == 0 else cfg.channels,
                    cfg.channels,
                    cfg.kernel_size,
                    stride=2,
                    padding=cfg.kernel_size // 2,
                )
            )
            if i:
                layers.append(nn.BatchNorm2d(cfg.channels))
            layers += [nn.LeakyReLU(cfg.negative_slope), nn.Dropout2d(cfg.dropout)]
            freq = (freq + 2 * (cfg.kernel_size // 2) - cfg.kernel_size) // 2 + 1
        self.convs = nn.Sequential(*layers)
        self.head = nn.Linear(cfg.channels * freq, 1)

    def forward(self, crop: torch.Tensor) -> torch.Tensor:  # (B, n_mels, W) -> (B, 1)
        h = self.convs(crop.unsqueeze(1))  # (B, C, F', W')
        return self.head(h.mean(dim=-1).flatten(1))


def random_crops(mel: torch.Tensor, window: int) -> torch.Tensor:
    """One random ``window``-frame crop per example (clipped to the mel's length)."""
    b, c, t = mel.shape
    w = min(window, t)
    start = torch.randint(0, t - w + 1, (b, 1), device=mel.device)
    idx = repeat(start + torch.arange(w, device=mel.device), "b w -> b c w", c=c)
    return torch.gather(mel, 2, idx)


@DISCRIMINATORS.register("multi_window_mel", config=MultiWindowMelConfig)
class MultiWindowMelDiscriminator(Discriminator):
    """D_m(mel), SyntaSpeech-style: one sub-discriminator per window length.

    Each sub-discriminator scores a random crop of its window length (windows longer than the
    mel are clipped to it; real and fake get independent crops).
    ``forward(mel (B, n_mels, T), video=None) -> (B, len(windows))``, one score per window.
    """

    needs_video = False

    def __init__(self, cfg: MultiWindowMelConfig, n_mels: int, video_dim: int, upsample: int):
        super().__init__(cfg, n_mels, video_dim, upsample)
        if not cfg.windows or min(cfg.windows) < 1:
            raise ValueError(f"multi_window_mel: windows must be positive, got {cfg.windows}")
        self.windows = list(cfg.windows)
        self.subs = nn.ModuleList(WindowDiscriminator(cfg, n_mels) for _ in self.windows)

    def forward(self, mel: torch.Tensor, video: torch.Tensor | None = None) -> torch.Tensor:
        scores = [d(random_crops(mel, w)) for w, d in zip(self.windows, self.subs)]
        return torch.cat(scores, dim=1)
