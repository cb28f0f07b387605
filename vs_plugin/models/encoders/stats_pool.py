"""Acoustic encoder by attentive statistics pooling: a reference mel -> one timbre vector.

Not the paper's encoder (that is ``sgau``, :mod:`vs_plugin.models.encoders.acoustic`). The
paper removes the reference's timing with random resampling R and an LSTM's final state; here
the timing is removed by construction: a few convolutions see about 0.1 s around each frame
(the spectrum and the decay of one event), and the frames are then pooled by a weighted mean
and standard deviation (attentive statistics pooling, Okabe et al., Interspeech 2018, as in
x-vector speaker embeddings). A pooled statistic does not change when the frames are put in
another order, so the vector cannot say *when* anything happens, and it does not depend on
which frames a random draw kept: the same reference always gives the same vector, in training
as at inference. The attention learns to weight the frames that carry the sound events over
silence and room tone. Measured against ``sgau`` in docs/QUALITY.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from vs_plugin.errors import ConfigError
from vs_plugin.interfaces import AcousticEncoder
from vs_plugin.models.layers import expand_time
from vs_plugin.models.resampling import RandomResampling, ResamplingConfig
from vs_plugin.registry import ACOUSTIC_ENCODERS


@dataclass
class StatsPoolAcousticConfig:
    channels: int = 256  # frame-level convolution channels
    kernels: list[int] = field(default_factory=lambda: [5, 3, 3])  # odd; 5+3+3 -> 9 frames
    attention_hidden: int = 64
    out_channels: int = 128  # the timbre vector's width
    # Optional augmentation in training only (identity at inference): R as in the paper's
    # encoder. Pooling is already blind to frame order, so R only varies the local tempo.
    resample: bool = False
    resampling: ResamplingConfig = field(default_factory=ResamplingConfig)

    def validate(self) -> None:
        """Raise ConfigError for a setting the encoder cannot build."""
        if not self.kernels or any(k < 1 or k % 2 == 0 for k in self.kernels):
            raise ConfigError(f"stats_pool: kernels must be odd and >= 1, got {self.kernels}")
        if min(self.channels, self.attention_hidden, self.out_channels) < 1:
            raise ConfigError("stats_pool: channels, attention_hidden, out_channels must be >= 1")


@ACOUSTIC_ENCODERS.register("stats_pool", config=StatsPoolAcousticConfig)
class StatsPoolAcousticEncoder(AcousticEncoder):
    """Frame convolutions, attentive mean + std pooling, a linear map; the vector over time.

    ``forward(ref_mel (B, n_mels, T_ref), length) -> (B, out_channels, length)``; references of
    at least ``min_frames`` frames (the std needs two). ``encode`` gives ``(B, out_channels)``.
    Raises ConfigError on a bad config, ValueError on a too-short reference.
    """

    min_frames = 2

    def __init__(self, cfg: StatsPoolAcousticConfig, n_mels: int) -> None:
        super().__init__(cfg, n_mels)
        cfg.validate()
        layers: list[nn.Module] = []
        c_in = n_mels
        for k in cfg.kernels:
            layers += [
                nn.Conv1d(c_in, cfg.channels, k, padding=k // 2),
                nn.GroupNorm(1, cfg.channels),  # per-example: no batch statistics
                nn.LeakyReLU(0.2),
            ]
            c_in = cfg.channels
        self.frames = nn.Sequential(*layers)
        self.attention = nn.Sequential(
            nn.Conv1d(cfg.channels, cfg.attention_hidden, 1),
            nn.Tanh(),
            nn.Conv1d(cfg.attention_hidden, 1, 1),
        )
        self.project = nn.Linear(2 * cfg.channels, cfg.out_channels)
        self.resample = RandomResampling(cfg.resampling) if cfg.resample else None
        self.out_channels = cfg.out_channels

    def encode(self, ref_mel: torch.Tensor) -> torch.Tensor:
        """The timbre vector ``(B, out_channels)`` of ``ref_mel`` ``(B, n_mels, T_ref)``."""
        if ref_mel.shape[-1] < self.min_frames:
            raise ValueError(
                f"stats_pool: the reference has {ref_mel.shape[-1]} frames; at least "
                f"{self.min_frames} are needed"
            )
        x = self.resample(ref_mel) if self.resample is not None else ref_mel
        h = self.frames(x)  # (B, C, T)
        w = torch.softmax(self.attention(h).float(), dim=-1).to(h.dtype)  # (B, 1, T)
        mean = (h * w).sum(dim=-1)
        var = (h.square() * w).sum(dim=-1) - mean.square()
        std = var.clamp_min(1e-6).sqrt()
        return self.project(torch.cat([mean, std], dim=-1))

    def forward(self, ref_mel: torch.Tensor, length: int) -> torch.Tensor:
        return expand_time(self.encode(ref_mel), length)
