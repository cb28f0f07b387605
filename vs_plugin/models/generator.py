"""The VarietySound generator: three encoders and a decoder, each chosen by registry name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from einops import repeat

from vs_plugin.interfaces import Generator, silent_mel_like
from vs_plugin.registry import (
    ACOUSTIC_ENCODERS,
    BACKGROUND_ENCODERS,
    DECODERS,
    GENERATORS,
    TEMPORAL_ENCODERS,
)

DROP_MODES = (None, "zeros", "noise")


@dataclass
class VarietySoundConfig:
    # Each part is a registry spec: {"name": ..., **config overrides}.
    temporal_encoder: dict[str, Any] = field(default_factory=lambda: {"name": "conv_lstm"})
    acoustic_encoder: dict[str, Any] = field(default_factory=lambda: {"name": "sgau"})
    background_encoder: dict[str, Any] = field(default_factory=lambda: {"name": "energy_mask_lstm"})
    decoder: dict[str, Any] = field(default_factory=lambda: {"name": "fft"})
    n_mels: int = 80
    video_dim: int = 2048
    upsample: int = 4  # mel frames per video frame; must match the decoder
    use_background: bool = True  # False: train without the background encoder (ablation)
    # Training only: the probability that an example's background input is replaced by
    # silence (the inference condition). 0 = the paper (the target itself, energy-masked,
    # every step); > 0 keeps the background path from carrying the target's own timbre,
    # which the decoder would otherwise take instead of the reference's (docs/QUALITY.md).
    background_dropout: float = 0.0


def _default_silence(module, state_dict, prefix, *args) -> None:
    """Older checkpoints have no ``silence_mel``: load them with it unset (NaN)."""
    key = prefix + "silence_mel"
    if key not in state_dict:
        state_dict[key] = torch.full_like(module.silence_mel, float("nan"))


@GENERATORS.register("varietysound", config=VarietySoundConfig)
class VarietySoundGenerator(Generator):
    """G(video, reference mel, background mel) -> mel (paper Fig. 3a).

    ``forward(video (B, video_dim, T), ref_mel (B, n_mels, T_ref), bg_mel (B, n_mels, T_bg))``
    returns ``(B, n_mels, upsample * T)``: always exactly ``upsample`` x the video length.
    The reference may have any length >= ``min_reference_frames``; the background any length
    (``None`` = silent, as at inference). Ablations at inference, as keyword arguments:
    ``drop_temporal`` / ``drop_timbre`` = ``"zeros"`` or ``"noise"`` put zeros or standard
    Gaussian noise in place of that code; passing a real ``bg_mel`` adds the background back.
    """

    def __init__(self, cfg: VarietySoundConfig) -> None:
        super().__init__()
        if not 0.0 <= cfg.background_dropout <= 1.0:
            raise ValueError(
                f"varietysound: background_dropout must be in [0, 1], got {cfg.background_dropout}"
            )
        self.cfg = cfg
        self.n_mels = cfg.n_mels
        self.video_dim = cfg.video_dim
        self.upsample = cfg.upsample
        self.temporal_encoder = TEMPORAL_ENCODERS.build(cfg.temporal_encoder, cfg.video_dim)
        self.acoustic_encoder = ACOUSTIC_ENCODERS.build(cfg.acoustic_encoder, cfg.n_mels)
        self.background_encoder = (
            BACKGROUND_ENCODERS.build(cfg.background_encoder, cfg.n_mels)
            if cfg.use_background
            else None
        )
        bg_ch = self.background_encoder.out_channels if self.background_encoder else 0
        in_ch = self.temporal_encoder.out_channels + self.acoustic_encoder.out_channels + bg_ch
        self.decoder = DECODERS.build(cfg.decoder, in_ch, cfg.n_mels)
        if self.decoder.upsample != cfg.upsample:
            raise ValueError(
                f"varietysound: the decoder upsamples {self.decoder.upsample}x but "
                f"upsample={cfg.upsample}"
            )
        # The normalised log-mel of digital silence, per bin (NaN until set_silence is
        # called, e.g. by the trainer from the training statistics); saved with the weights.
        self.register_buffer("silence_mel", torch.full((cfg.n_mels,), float("nan")))
        self._register_load_state_dict_pre_hook(_default_silence, with_module=True)

    def set_silence(self, silence: torch.Tensor) -> None:
        """Set the normalised mel of digital silence, ``(n_mels,)``, used for silent inputs.

        It is what the background encoder sees at inference and what energy masking fills
        in, independent of the batch (paper Sec. 3.2: the background input is a silent mel).
        """
        silence = torch.as_tensor(silence, dtype=self.silence_mel.dtype).reshape(-1)
        if silence.numel() != self.n_mels or not torch.isfinite(silence).all():
            raise ValueError(
                f"varietysound: silence must be {self.n_mels} finite values, got "
                f"{tuple(silence.shape)}"
            )
        self.silence_mel.copy_(silence.to(self.silence_mel.device))
        if self.background_encoder is not None and hasattr(self.background_encoder, "silence"):
            self.background_encoder.silence.copy_(silence.to(self.silence_mel.device))

    @property
    def has_silence(self) -> bool:
        return bool(torch.isfinite(self.silence_mel).all())

    @property
    def min_reference_frames(self) -> int:
        """The shortest reference mel (in frames) the acoustic encoder accepts."""
        return int(getattr(self.acoustic_encoder, "min_frames", 1))

    def silent_background(self, ref_mel: torch.Tensor, length: int) -> torch.Tensor:
        """An all-silent background mel ``(B, n_mels, length)``.

        The per-bin silence of :meth:`set_silence` when set (independent of the batch); else
        the background encoder's configured level, else the reference's minimum (models
        exported before the silence was recorded).
        """
        if self.has_silence:
            b = ref_mel.shape[0]
            return repeat(self.silence_mel.to(ref_mel.dtype), "mel -> b mel t", b=b, t=length)
        value = getattr(getattr(self.background_encoder, "cfg", None), "silence_value", None)
        return silent_mel_like(ref_mel, length, value)

    def _drop_background(self, bg: torch.Tensor, ref_mel: torch.Tensor) -> torch.Tensor:
        """Training: each example's background becomes silent with ``background_dropout``."""
        p = self.cfg.background_dropout
        if not self.training or p <= 0:
            return bg
        keep = torch.rand(bg.shape[0], 1, 1, device=bg.device) >= p
        return torch.where(keep, bg, self.silent_background(ref_mel, bg.shape[-1]).to(bg.dtype))

    def _check(self, video: torch.Tensor, ref_mel: torch.Tensor, bg: torch.Tensor | None):
        if video.dim() != 3 or video.shape[1] != self.video_dim:
            raise ValueError(
                f"varietysound: video must be (B, {self.video_dim}, T), got {tuple(video.shape)}"
            )
        if ref_mel.dim() != 3 or ref_mel.shape[1] != self.n_mels:
            raise ValueError(
                f"varietysound: ref_mel must be (B, {self.n_mels}, T), got {tuple(ref_mel.shape)}"
            )
        if ref_mel.shape[-1] < self.min_reference_frames:
            raise ValueError(
                f"varietysound: the reference has {ref_mel.shape[-1]} frames; at least "
                f"{self.min_reference_frames} are needed"
            )
        if bg is not None and (bg.dim() != 3 or bg.shape[1] != self.n_mels or bg.shape[-1] < 1):
            raise ValueError(
                f"varietysound: bg_mel must be (B, {self.n_mels}, T>=1), got {tuple(bg.shape)}"
            )
        if ref_mel.shape[0] != video.shape[0] or (bg is not None and bg.shape[0] != video.shape[0]):
            raise ValueError("varietysound: video, ref_mel and bg_mel batch sizes differ")

    @staticmethod
    def _drop(code: torch.Tensor, mode: str | None) -> torch.Tensor:
        if mode is None:
            return code
        if mode == "zeros":
            return torch.zeros_like(code)
        if mode == "noise":
            return torch.randn_like(code)
        raise ValueError(f"varietysound: drop mode must be one of {DROP_MODES}, got {mode!r}")

    def encode(
        self,
        video: torch.Tensor,
        ref_mel: torch.Tensor,
        bg_mel: torch.Tensor | None = None,
        *,
        drop_temporal: str | None = None,
        drop_timbre: str | None = None,
    ) -> torch.Tensor:
        """The decoder's input: the three codes concatenated, ``(B, C, T)``."""
        self._check(video, ref_mel, bg_mel)
        length = video.shape[-1]
        codes = [
            self._drop(self.temporal_encoder(video), drop_temporal),
            self._drop(self.acoustic_encoder(ref_mel, length), drop_timbre),
        ]
        if self.background_encoder is not None:
            if bg_mel is None:
                bg_mel = self.silent_background(ref_mel, length * self.upsample)
            else:
                bg_mel = self._drop_background(bg_mel, ref_mel)
            codes.append(self.background_encoder(bg_mel, length))
        return torch.cat([c.to(codes[0].dtype) for c in codes], dim=1)

    def forward(
        self,
        video: torch.Tensor,
        ref_mel: torch.Tensor,
        bg_mel: torch.Tensor | None = None,
        *,
        drop_temporal: str | None = None,
        drop_timbre: str | None = None,
    ) -> torch.Tensor:
        codes = self.encode(
            video, ref_mel, bg_mel, drop_temporal=drop_temporal, drop_timbre=drop_timbre
        )
        if getattr(self.decoder, "uses_reference", False):
            # the decoder also attends over the reference's frames (not when timbre is dropped)
            return self.decoder(codes, None if drop_timbre else ref_mel)
        return self.decoder(codes)

    @torch.no_grad()
    def generate(
        self,
        video: torch.Tensor,
        ref_mel: torch.Tensor,
        bg_mel: torch.Tensor | None = None,
        *,
        drop_temporal: str | None = None,
        drop_timbre: str | None = None,
    ) -> torch.Tensor:
        """Inference: a silent background unless ``bg_mel`` is given; no gradients."""
        return self(video, ref_mel, bg_mel, drop_temporal=drop_temporal, drop_timbre=drop_timbre)
