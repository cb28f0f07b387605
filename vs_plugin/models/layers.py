"""Small building blocks shared by the encoders, the decoder and the discriminators."""

from __future__ import annotations

import math

import torch
from einops import rearrange, repeat
from torch import nn


class BiLSTM(nn.Module):
    """A batch-first bidirectional LSTM over ``(B, C, T)`` tensors (cuDNN-friendly).

    ``forward`` returns the per-frame outputs ``(B, 2H, T)``; ``summary`` returns the last
    layer's final hidden states of both directions, ``(B, 2H)``: the time-invariant code that
    the acoustic and background encoders expand over time.
    """

    def __init__(self, in_channels: int, hidden: int, num_layers: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.lstm = nn.LSTM(
            in_channels, hidden, num_layers=num_layers, batch_first=True, bidirectional=True
        )

    def _run(self, x: torch.Tensor):
        seq = x.transpose(1, 2)
        if seq.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # oneDNN has no bf16 LSTM on many CPUs: run it in float32 (CUDA keeps autocast).
            with torch.autocast("cpu", enabled=False):
                return self.lstm(seq.float())
        return self.lstm(seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self._run(x)
        return out.transpose(1, 2)

    def summary(self, x: torch.Tensor) -> torch.Tensor:
        return self.outputs_and_summary(x)[1]

    def outputs_and_summary(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``forward`` and ``summary`` from one pass: ``((B, 2H, T), (B, 2H))``."""
        out, (h_n, _) = self._run(x)
        # h_n: (num_layers * 2, B, H); the last two rows are the top layer's two directions.
        return out.transpose(1, 2), torch.cat([h_n[-2], h_n[-1]], dim=-1)


def expand_time(code: torch.Tensor, length: int) -> torch.Tensor:
    """``(B, C)`` -> ``(B, C, length)``: a time-invariant code repeated on every frame."""
    return repeat(code, "b c -> b c t", t=length)


def sinusoidal_positions(length: int, dim: int, device=None, dtype=None) -> torch.Tensor:
    """Transformer sine/cosine position table ``(length, dim)``, built for any length."""
    pos = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    half = (dim + 1) // 2
    freq = torch.exp(
        torch.arange(half, device=device, dtype=torch.float32) * (-math.log(10000.0) / half)
    )
    angles = pos * freq  # (length, half)
    table = rearrange([angles.sin(), angles.cos()], "sc t f -> t (f sc)")  # sin, cos interleaved
    return table[:, :dim].to(dtype or torch.float32)


def upsampler(
    in_channels: int, channels: int, n_layers: int, kernel: int, negative_slope: float
) -> nn.Sequential:
    """``n_layers`` x [ConvTranspose1d(stride 2) + LeakyReLU]: exactly ``2**n_layers`` x length.

    A transposed conv of stride 2 and kernel ``k`` gives ``2 L`` frames exactly when its
    padding is ``(k - 2) / 2``, so ``k`` must be even (the paper's 4 gives padding 1).
    """
    if kernel < 2 or kernel % 2:
        raise ValueError(f"upsampling kernel must be even and >= 2 for exact 2x, got {kernel}")
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [
            nn.ConvTranspose1d(
                in_channels if i == 0 else channels,
                channels,
                kernel,
                stride=2,
                padding=(kernel - 2) // 2,
            ),
            nn.LeakyReLU(negative_slope),
        ]
    return nn.Sequential(*layers)


def check_power_of_two(upsample: int, n_layers: int, what: str) -> None:
    """Fail early when a stack of stride-2 layers cannot give the asked-for upsampling."""
    if 2**n_layers != upsample:
        raise ValueError(
            f"{what}: {n_layers} stride-2 upsampling layers give {2**n_layers}x, "
            f"but upsample={upsample}"
        )
