"""Background encoder: what is left of a mel once its loud frames are removed.

Energy masking EM sets every frame louder than the mel's median frame to silence, so only the
quiet floor (background noise, room tone) reaches the BiLSTM; neither the events' timing nor
their timbre survive. At inference the input is an all-silent mel, which asks for a clean
output.

Frame energy is the mean over mel bins of the mel as the model sees it. For log-mels, raw or
per-bin standardised, that is a monotone proxy of loudness (the log of a geometric mean of the
band magnitudes), which is all a median split needs; ``energy="exp_sum"`` uses the sum of
``exp(mel)`` instead (the linear band energy, meaningful for raw log-mels).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vs_plugin.interfaces import BackgroundEncoder
from vs_plugin.models.layers import BiLSTM, expand_time
from vs_plugin.registry import BACKGROUND_ENCODERS


@dataclass
class EnergyMaskLSTMBackgroundConfig:
    lstm_layers: int = 2
    lstm_hidden: int = 128
    out_channels: int = 16  # paper: a Linear "dimensionality reduction", size unstated
    energy: str = "mean"  # "mean" (mean of the mel over bins) or "exp_sum"
    # The value a masked frame gets, in the space the mel is in (e.g. the normalised
    # silence level). None: each mel's own minimum, the level of an all-silent mel made by
    # ``vs_plugin.interfaces.silent_mel_like``.
    silence_value: float | None = None
    mask: bool = True
    # Not in the paper (which masks above the median): frames above this quantile of the
    # mel's frame energies are masked; lower = stricter.
    quantile: float = 0.5
    # Not in the paper: also mask this many frames after every masked frame, where an
    # event's decaying tail would otherwise reach the encoder. 0 = the paper.
    tail_frames: int = 0


def frame_energy(mel: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    """``(B, n_mels, T)`` -> ``(B, T)`` per-frame energy (see the module docstring)."""
    if kind == "mean":
        return mel.float().mean(dim=1)
    if kind == "exp_sum":
        return mel.float().exp().sum(dim=1)
    raise ValueError(f"energy must be 'mean' or 'exp_sum', got {kind!r}")


def energy_mask(
    mel: torch.Tensor,
    silence_value: float | torch.Tensor | None = None,
    energy: str = "mean",
    quantile: float = 0.5,
    tail_frames: int = 0,
) -> torch.Tensor:
    """EM: frames whose energy is strictly above that mel's median frame energy -> silence.

    The median is per example (``torch.median``: the lower of the two middle values for an
    even count). A constant (silent) mel has no frame above its median and comes back as is.
    ``silence_value``: the silent frame, a scalar or a per-bin ``(n_mels,)`` tensor; None =
    each mel's own minimum. ``quantile`` other than 0.5 masks above that quantile (lower
    value of the two neighbours) instead; ``tail_frames`` extends every masked run forward
    in time by that many frames.
    """
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"energy_mask: quantile must be in (0, 1], got {quantile}")
    e = frame_energy(mel, energy)
    if quantile == 0.5:
        threshold = e.median(dim=1, keepdim=True).values
    else:
        threshold = torch.quantile(e, quantile, dim=1, keepdim=True, interpolation="lower")
    loud = (e > threshold).unsqueeze(1)
    if tail_frames > 0:  # a frame is masked if any of the tail_frames before it is loud
        padded = torch.nn.functional.pad(loud.float(), (tail_frames, 0))
        loud = torch.nn.functional.max_pool1d(padded, tail_frames + 1, stride=1) > 0
    if silence_value is None:
        fill = mel.amin(dim=(1, 2), keepdim=True)
    elif torch.is_tensor(silence_value):
        fill = silence_value.to(mel)[None, :, None]
    else:
        fill = torch.full_like(mel[:, :1, :1], silence_value)
    return torch.where(loud, fill.to(mel.dtype), mel)


def _default_silence(module, state_dict, prefix, *args) -> None:
    """Older checkpoints have no ``silence`` buffer: load them with it unset (NaN)."""
    if prefix + "silence" not in state_dict:
        state_dict[prefix + "silence"] = torch.full_like(module.silence, float("nan"))


@BACKGROUND_ENCODERS.register("energy_mask_lstm", config=EnergyMaskLSTMBackgroundConfig)
class EnergyMaskLSTMBackgroundEncoder(BackgroundEncoder):
    """EM, 2-layer BiLSTM, Linear on the last hidden state, expanded over time (Fig. 3d).

    ``forward(bg_mel (B, n_mels, T_bg), length) -> (B, out_channels, length)``, T_bg >= 1.
    """

    def __init__(self, cfg: EnergyMaskLSTMBackgroundConfig, n_mels: int) -> None:
        super().__init__(cfg, n_mels)
        frame_energy(torch.zeros(1, 1, 1), cfg.energy)  # validate the choice early
        self.lstm = BiLSTM(n_mels, cfg.lstm_hidden, cfg.lstm_layers)
        self.proj = nn.Linear(2 * cfg.lstm_hidden, cfg.out_channels)
        self.out_channels = cfg.out_channels
        # Per-bin silence set by the generator (NaN = unset: cfg.silence_value is used).
        self.register_buffer("silence", torch.full((n_mels,), float("nan")))
        self._register_load_state_dict_pre_hook(_default_silence, with_module=True)

    def mask(self, mel: torch.Tensor) -> torch.Tensor:
        if not self.cfg.mask:
            return mel
        fill = self.silence if bool(torch.isfinite(self.silence).all()) else self.cfg.silence_value
        return energy_mask(
            mel, fill, self.cfg.energy, self.cfg.quantile, self.cfg.tail_frames
        )

    def forward(self, bg_mel: torch.Tensor, length: int) -> torch.Tensor:
        return expand_time(self.proj(self.lstm.summary(self.mask(bg_mel))), length)
