"""Acoustic encoder: a reference mel -> one timbre vector, with its timing scrambled away.

Random resampling R runs on the input and inside every Self-Gated Acoustic Unit (paper,
Appendix A), so the final BiLSTM state can describe *what* the reference sounds like but not
*when* its events happen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from vs_plugin.interfaces import AcousticEncoder
from vs_plugin.models.layers import BiLSTM, expand_time
from vs_plugin.models.resampling import RandomResampling, ResamplingConfig
from vs_plugin.registry import ACOUSTIC_ENCODERS


@dataclass
class SGAUAcousticConfig:
    n_units: int = 5
    channels: int = 512
    input_kernel_1: int = 5
    input_kernel_2: int = 7
    output_kernel: int = 3
    skip_kernel: int = 5
    norm_groups: int = 8  # GroupNorm groups of the output and skip gates (paper: unstated)
    lstm_layers: int = 2
    lstm_hidden: int = 256
    resampling: ResamplingConfig = field(default_factory=ResamplingConfig)
    resample_input: bool = True  # R on the reference before the first unit
    # Inference (eval mode): 0 = R off (the identity); K > 0 = the timbre vector is the mean
    # over K seeded draws of R, as the encoder saw references in training (docs/QUALITY.md).
    eval_draws: int = 0
    eval_seed: int = 0  # the draws are seeded: the same reference always gives one vector
    # Not in the paper: the encoder hears only the reference's louder frames (those above this
    # quantile of its frame energies; the rest become the mel's minimum), the complement of
    # the background encoder's energy masking, so the timbre code describes the sound events
    # rather than the reference's room tone. 0 = off (the paper).
    event_quantile: float = 0.0
    # How the BiLSTM's frames become one vector: "last" = the final hidden states of both
    # directions (the paper); "last+mean" = those and the time average of its per-frame
    # outputs, twice the width (not in the paper: an average over frames is as blind to
    # timing as the final state, and keeps a steady spectral colour that the final state,
    # ending on whatever frame the reference ends on, can lose; docs/QUALITY.md).
    pooling: str = "last"


POOLINGS = ("last", "last+mean")


def _conv(c_in: int, c_out: int, k: int) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, k, padding=k // 2)


class SelfGatedAcousticUnit(nn.Module):
    """One SGAU: (x_i, c_i) -> (x_o, c_o), Appendix A equations (8) and (9).

    x_o = R[tanh(W_s*c_i + V_i*x_i) * sigmoid(W_o*c_i + V_i*x_i)],  c_o = R[W_s*c_i],
    with V_i two convs (k5, k7) + InstanceNorm, W_o conv k3 + GroupNorm, W_s conv k5 +
    GroupNorm. Both outputs go through the *same* draw of R so they stay frame-aligned for
    the next unit.
    """

    def __init__(self, in_channels: int, cfg: SGAUAcousticConfig, resample: RandomResampling):
        super().__init__()
        ch = cfg.channels
        for k in (cfg.input_kernel_1, cfg.input_kernel_2, cfg.output_kernel, cfg.skip_kernel):
            if k % 2 == 0:
                raise ValueError(f"sgau: convolution kernels must be odd, got {k}")
        self.input_gate = nn.Sequential(
            _conv(in_channels, ch, cfg.input_kernel_1),
            _conv(ch, ch, cfg.input_kernel_2),
            nn.InstanceNorm1d(ch, affine=True),
        )
        self.output_gate = nn.Sequential(
            _conv(in_channels, ch, cfg.output_kernel), nn.GroupNorm(cfg.norm_groups, ch)
        )
        self.skip_gate = nn.Sequential(
            _conv(in_channels, ch, cfg.skip_kernel), nn.GroupNorm(cfg.norm_groups, ch)
        )
        self.resample = resample

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v = self.input_gate(x)
        s = self.skip_gate(c)
        x_o = torch.tanh(s + v) * torch.sigmoid(self.output_gate(c) + v)
        both = self.resample(torch.cat([x_o, s], dim=1))
        return both.split(x_o.shape[1], dim=1)  # type: ignore[return-value]


@ACOUSTIC_ENCODERS.register("sgau", config=SGAUAcousticConfig)
class SGAUAcousticEncoder(AcousticEncoder):
    """R, N Self-Gated Acoustic Units, 2-layer BiLSTM; the last hidden state over time.

    ``forward(ref_mel (B, n_mels, T_ref), length) -> (B, 2 * lstm_hidden, length)``.
    The first unit receives the (resampled) reference on both inputs. References of at least
    ``min_frames`` frames are accepted (InstanceNorm needs two frames).
    """

    min_frames = 2

    def __init__(self, cfg: SGAUAcousticConfig, n_mels: int) -> None:
        super().__init__(cfg, n_mels)
        if cfg.n_units < 1:
            raise ValueError("sgau: n_units must be >= 1")
        self.resample = RandomResampling(cfg.resampling)
        self.units = nn.ModuleList(
            SelfGatedAcousticUnit(n_mels if i == 0 else cfg.channels, cfg, self.resample)
            for i in range(cfg.n_units)
        )
        if cfg.pooling not in POOLINGS:
            raise ValueError(f"sgau: pooling must be one of {POOLINGS}, got {cfg.pooling!r}")
        self.lstm = BiLSTM(cfg.channels, cfg.lstm_hidden, cfg.lstm_layers)
        self.out_channels = 2 * cfg.lstm_hidden * (2 if cfg.pooling == "last+mean" else 1)

    def encode(self, ref_mel: torch.Tensor) -> torch.Tensor:
        """The timbre vector ``(B, out_channels)``.

        In eval mode with ``eval_draws = K > 0``: the mean of K vectors, each from its own
        seeded draw of R (the global random state is left untouched).
        """
        if ref_mel.shape[-1] < self.min_frames:
            raise ValueError(
                f"sgau: the reference has {ref_mel.shape[-1]} frames; at least "
                f"{self.min_frames} are needed"
            )
        if self.training or self.cfg.eval_draws <= 0:
            return self._encode_once(ref_mel)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.cfg.eval_seed)
            self.resample.forced = True
            try:
                draws = [self._encode_once(ref_mel) for _ in range(self.cfg.eval_draws)]
            finally:
                self.resample.forced = False
        return torch.stack(draws).mean(dim=0)

    def _events_only(self, ref_mel: torch.Tensor) -> torch.Tensor:
        q = self.cfg.event_quantile
        if q <= 0:
            return ref_mel
        energy = ref_mel.float().mean(dim=1)
        threshold = torch.quantile(energy, q, dim=1, keepdim=True, interpolation="lower")
        quiet = (energy <= threshold).unsqueeze(1)
        return torch.where(quiet, ref_mel.amin(dim=(1, 2), keepdim=True), ref_mel)

    def _encode_once(self, ref_mel: torch.Tensor) -> torch.Tensor:
        ref_mel = self._events_only(ref_mel)
        x = self.resample(ref_mel) if self.cfg.resample_input else ref_mel
        c = x
        for unit in self.units:
            x, c = unit(x, c)
        if self.cfg.pooling == "last":
            return self.lstm.summary(x)
        frames, last = self.lstm.outputs_and_summary(x)
        return torch.cat([last, frames.mean(dim=-1)], dim=-1)

    def forward(self, ref_mel: torch.Tensor, length: int) -> torch.Tensor:
        return expand_time(self.encode(ref_mel), length)
