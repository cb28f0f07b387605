"""Temporal encoder: video features -> a narrow per-frame code saying *when* sound happens.

The 8-channel linear bottleneck is what keeps the video from also supplying timbre: with so
few dimensions per frame, the decoder must take the sound's character from the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vs_plugin.interfaces import TemporalEncoder
from vs_plugin.models.layers import BiLSTM
from vs_plugin.registry import TEMPORAL_ENCODERS


@dataclass
class ConvLSTMTemporalConfig:
    n_convs: int = 8
    channels: int = 512
    kernel_size: int = 5
    negative_slope: float = 0.2
    lstm_layers: int = 2
    lstm_hidden: int = 256
    out_channels: int = 8  # the bottleneck
    dropout: float = 0.0


@TEMPORAL_ENCODERS.register("conv_lstm", config=ConvLSTMTemporalConfig)
class ConvLSTMTemporalEncoder(TemporalEncoder):
    """Conv1d + BatchNorm + LeakyReLU stack, 2-layer BiLSTM, Linear bottleneck (paper Fig. 3b).

    ``(B, in_channels, T)`` -> ``(B, out_channels, T)``; any T >= 1.
    """

    def __init__(self, cfg: ConvLSTMTemporalConfig, in_channels: int) -> None:
        super().__init__(cfg, in_channels)
        if cfg.kernel_size % 2 == 0:
            raise ValueError(f"conv_lstm: kernel_size must be odd, got {cfg.kernel_size}")
        layers: list[nn.Module] = []
        for i in range(cfg.n_convs):
            layers += [
                nn.Conv1d(
                    in_channels if i == 0 else cfg.channels,
                    cfg.channels,
                    cfg.kernel_size,
                    padding=cfg.kernel_size // 2,
                ),
                nn.BatchNorm1d(cfg.channels),
                nn.LeakyReLU(cfg.negative_slope),
                nn.Dropout(cfg.dropout),
            ]
        self.convs = nn.Sequential(*layers)
        lstm_in = cfg.channels if cfg.n_convs else in_channels
        self.lstm = BiLSTM(lstm_in, cfg.lstm_hidden, cfg.lstm_layers)
        self.bottleneck = nn.Linear(2 * cfg.lstm_hidden, cfg.out_channels)
        self.out_channels = cfg.out_channels

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        h = self.lstm(self.convs(video))
        return self.bottleneck(h.transpose(1, 2)).transpose(1, 2)
