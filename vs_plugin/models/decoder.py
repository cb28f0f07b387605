"""Mel decoder: the concatenated codes -> a mel at ``2**n_upsample`` x the video frame rate."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import rearrange
from torch import nn

from vs_plugin.interfaces import Decoder
from vs_plugin.models.layers import sinusoidal_positions, upsampler
from vs_plugin.registry import DECODERS


@dataclass
class FFTDecoderConfig:
    n_upsample: int = 2  # ConvTranspose1d layers, each exactly 2x
    upsample_channels: int = 1024
    upsample_kernel: int = 4
    n_blocks: int = 4
    hidden: int = 512
    heads: int = 2
    conv_kernel: int = 9
    conv_filter: int = 512
    dropout: float = 0.1
    negative_slope: float = 0.2
    # Not in the paper: FiLM, a scale and shift of every block's output computed from the
    # time average of the codes (the timbre and background codes are constant over time), so
    # that the reference conditions every block instead of only the input (docs/QUALITY.md).
    film: bool = False
    # Not in the paper: after every block, the decoder attends over the reference's own mel
    # frames (cross-attention, no positions on the reference side: a set of frames, so the
    # reference's timing cannot pass), and can copy the spectra of the reference's events to
    # the instants the video asks for, rather than rebuild them from one vector
    # (docs/QUALITY.md). The output projection of each attention starts at zero, so training
    # starts from the plain decoder.
    reference_attention: bool = False


class ReferenceAttention(nn.Module):
    """``h (B, T, hidden)`` attends over the reference's frames ``memory (B, Tr, hidden)``:
    ``LayerNorm(h + Dropout(MHA(h, memory, memory)))``, the MHA's output projection zeroed."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        nn.init.zeros_(self.attn.out_proj.weight)
        nn.init.zeros_(self.attn.out_proj.bias)
        self.norm = nn.LayerNorm(hidden)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        a, _ = self.attn(h, memory, memory, need_weights=False)
        return self.norm(h + self.drop(a))


class FFTBlock(nn.Module):
    """Feed-forward Transformer block (FastSpeech): self-attention, then a conv net.

    Each sub-layer is followed by dropout, a residual connection and LayerNorm.
    """

    def __init__(self, hidden: int, heads: int, kernel: int, filt: int, dropout: float) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"fft: conv_kernel must be odd, got {kernel}")
        self.attn = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(hidden)
        self.conv = nn.Sequential(
            nn.Conv1d(hidden, filt, kernel, padding=kernel // 2),
            nn.ReLU(),
            nn.Conv1d(filt, hidden, 1),
        )
        self.norm2 = nn.LayerNorm(hidden)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, hidden)
        a, _ = self.attn(x, x, x, need_weights=False)
        x = self.norm1(x + self.drop(a))
        c = self.conv(x.transpose(1, 2)).transpose(1, 2)
        return self.norm2(x + self.drop(c))


@DECODERS.register("fft", config=FFTDecoderConfig)
class FFTDecoder(Decoder):
    """ConvTranspose1d upsampling, sinusoidal positions, FFT blocks, Linear to mel bins.

    ``forward(codes (B, in_channels, T), reference=None) -> (B, n_mels, upsample * T)`` with
    ``upsample = 2**n_upsample`` exactly, for any T >= 1. With ``reference_attention``,
    ``reference`` is the (normalised) reference mel ``(B, n_mels, T_ref)``, T_ref >= 1, whose
    frames every block attends over (``uses_reference`` is then True); None skips that path
    (the timbre ablation at inference).
    """

    def __init__(self, cfg: FFTDecoderConfig, in_channels: int, n_mels: int) -> None:
        super().__init__(cfg, in_channels, n_mels)
        self.upsample = 2**cfg.n_upsample
        self.up = upsampler(
            in_channels,
            cfg.upsample_channels,
            cfg.n_upsample,
            cfg.upsample_kernel,
            cfg.negative_slope,
        )
        up_out = cfg.upsample_channels if cfg.n_upsample else in_channels
        self.proj_in = nn.Linear(up_out, cfg.hidden)
        self.blocks = nn.ModuleList(
            FFTBlock(cfg.hidden, cfg.heads, cfg.conv_kernel, cfg.conv_filter, cfg.dropout)
            for _ in range(cfg.n_blocks)
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.proj_out = nn.Linear(cfg.hidden, n_mels)
        self.film = None
        if cfg.film:
            # one (scale, shift) pair per block; zero-initialised: training starts unmodulated
            self.film = nn.Linear(in_channels, 2 * cfg.hidden * cfg.n_blocks)
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        self.uses_reference = cfg.reference_attention
        if cfg.reference_attention:
            self.reference_in = nn.Sequential(
                nn.Conv1d(n_mels, cfg.hidden, 3, padding=1),
                nn.LeakyReLU(cfg.negative_slope),
                nn.Conv1d(cfg.hidden, cfg.hidden, 1),
            )
            self.reference_attn = nn.ModuleList(
                ReferenceAttention(cfg.hidden, cfg.heads, cfg.dropout)
                for _ in range(cfg.n_blocks)
            )

    def forward(self, codes: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
        h = self.proj_in(rearrange(self.up(codes), "b c t -> b t c"))  # (B, T', hidden)
        h = h + sinusoidal_positions(h.shape[1], h.shape[2], device=h.device, dtype=h.dtype)
        h = self.drop(h)
        films = None
        if self.film is not None:  # one (scale, shift) per block from the codes' time average
            films = rearrange(
                self.film(codes.mean(dim=-1)),
                "b (block film c) -> b block film 1 c",
                block=len(self.blocks),
                film=2,
            )
        memory = None
        if self.uses_reference and reference is not None:
            memory = rearrange(self.reference_in(reference.to(h.dtype)), "b c t -> b t c")
        for i, block in enumerate(self.blocks):
            h = block(h)
            if memory is not None:
                h = self.reference_attn[i](h, memory)
            if films is not None:
                h = h * (1 + films[:, i, 0]) + films[:, i, 1]
        return rearrange(self.proj_out(h), "b t mel -> b mel t")
