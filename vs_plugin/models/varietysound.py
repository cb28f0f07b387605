"""A trained model as inference uses it: the generator plus its normalisation and features.

:class:`VarietySoundModel` wraps any registered generator with the per-channel statistics
of its training set (registered buffers, so they live in the same state dict as the
weights) and the feature spec it was trained on (plain attributes): a caller feeds it the
raw features an extractor gives and gets back a raw log-mel for the vocoder. It is what
``load_exported`` returns, what ``vs-generate`` runs, and the class of the fairseq2
``varietysound`` model family (built from :class:`VarietySoundModelConfig`).

Layouts: video features are ``(T, video_dim)`` or ``(B, T, video_dim)`` (frames first, as
extractors and the dump give them); mels are ``(n_mels, frames)`` or ``(B, n_mels, frames)``
(bins first, as the generator takes them), natural-log magnitudes of the ``mel`` analysis.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vs_plugin.audio.mel import MelConfig
from vs_plugin.data.normalize import Normalizer
from vs_plugin.features.spec import DEFAULT_VIDEO_FEATURE
from vs_plugin.interfaces import Generator
from vs_plugin.registry import GENERATORS

ArrayOrTensor = np.ndarray | torch.Tensor


def _paper_generator_spec() -> dict[str, object]:
    from vs_plugin.models.presets import generator_spec

    return generator_spec("paper")


def _default_video_feature() -> dict[str, object]:
    return {"name": DEFAULT_VIDEO_FEATURE}


@dataclass(kw_only=True)
class VarietySoundModelConfig:
    """Everything that builds a :class:`VarietySoundModel` before its state is loaded.

    ``generator`` is the registry spec ``{"name": ..., **config}``; ``n_mels`` and
    ``video_dim`` size the normalisation buffers (they must equal the generator's);
    ``video_feature`` (``{"name": ..., **config}``) and ``mel`` are the features the model
    was trained on, as the training dump recorded them.
    """

    generator: dict[str, object] = field(default_factory=_paper_generator_spec)
    n_mels: int = 80
    video_dim: int = 2048
    video_feature: dict[str, object] = field(default_factory=_default_video_feature)
    mel: MelConfig = field(default_factory=MelConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML-able values (``mel`` as a mapping of its fields)."""
        return dataclasses.asdict(self)


def config_for(
    generator: Generator,
    spec: dict[str, Any],
    video_feature: dict[str, Any],
    mel: MelConfig | None = None,
) -> VarietySoundModelConfig:
    """The config of an already built ``generator`` (its dims are read from it)."""
    return VarietySoundModelConfig(
        generator=dict(spec),
        n_mels=int(generator.n_mels),
        video_dim=int(generator.video_dim),
        video_feature=dict(video_feature),
        mel=mel or MelConfig(),
    )


def _statistics_buffer(dim: int) -> torch.Tensor:
    """NaN until statistics are set or loaded: a model used without them fails loudly."""
    return torch.full((dim,), float("nan"))


class VarietySoundModel(nn.Module):
    """Raw features in, raw log-mel out: normalise, run the generator, de-normalise.

    Buffers (float, saved in the state dict next to ``generator.*``): ``mel_mean``,
    ``mel_scale`` ``(n_mels,)`` and ``video_mean``, ``video_scale`` ``(video_dim,)`` in the
    units of the raw features (``x_normalised = (x - mean) / scale``). The normalised mel
    of digital silence, when the generator uses one, is the generator's own
    ``silence_mel`` buffer. Attributes: ``config``, ``video_feature`` (the extractor spec),
    ``mel`` (the analysis of the training mels and of references), ``directory`` (where
    ``load_exported`` read it from, else None).

    :meth:`forward` runs the whole input in one generator call. ``vs-generate`` cuts videos
    longer than the training clips (215 frames) into overlapping windows and crops long
    references: ``vs_plugin.infer.generation.generate_mel(model, video, ref_mel.T)`` (numpy,
    frames first) does that with this model; inside one window both give the same output.
    """

    def __init__(self, generator: Generator, config: VarietySoundModelConfig) -> None:
        super().__init__()
        _check_dims(generator, config)
        self.generator = generator
        self.config = config
        self.video_feature: dict[str, Any] = dict(config.video_feature)
        self.mel: MelConfig = config.mel
        self.directory: Path | None = None
        self.register_buffer("mel_mean", _statistics_buffer(config.n_mels))
        self.register_buffer("mel_scale", _statistics_buffer(config.n_mels))
        self.register_buffer("video_mean", _statistics_buffer(config.video_dim))
        self.register_buffer("video_scale", _statistics_buffer(config.video_dim))

    @classmethod
    def from_config(cls, config: VarietySoundModelConfig) -> VarietySoundModel:
        """A model with fresh generator weights and unset (NaN) statistics."""
        return cls(GENERATORS.build(dict(config.generator)), config)

    @property
    def spec(self) -> dict[str, Any]:
        """The generator spec ``{"name": ..., **config}``."""
        return dict(self.config.generator)

    @property
    def upsample(self) -> int:
        """Mel frames per video frame."""
        return int(self.generator.upsample)

    @property
    def mel_stats(self) -> Normalizer:
        """The mel statistics as a :class:`Normalizer` (numpy, on the CPU)."""
        return _normalizer(self.mel_mean, self.mel_scale)

    @property
    def video_stats(self) -> Normalizer:
        """The video-feature statistics as a :class:`Normalizer` (numpy, on the CPU)."""
        return _normalizer(self.video_mean, self.video_scale)

    def set_statistics(self, mel_stats: Normalizer, video_stats: Normalizer) -> None:
        """Copy the training set's statistics into the buffers (dims must match)."""
        for prefix, stats in (("mel", mel_stats), ("video", video_stats)):
            mean, scale = getattr(self, f"{prefix}_mean"), getattr(self, f"{prefix}_scale")
            if stats.dim != mean.numel():
                raise ValueError(
                    f"{prefix} statistics have {stats.dim} channels; the model has {mean.numel()}"
                )
            mean.copy_(torch.from_numpy(stats.mean))
            scale.copy_(torch.from_numpy(stats.scale))

    def normalise_video(self, video: ArrayOrTensor) -> torch.Tensor:
        """Raw ``(B, T, video_dim)`` -> normalised ``(B, video_dim, T)``, the generator's input."""
        x = self._as_input(video)
        return ((x - self.video_mean) / self.video_scale).transpose(1, 2)

    def normalise_mel(self, mel: ArrayOrTensor) -> torch.Tensor:
        """Raw log-mel ``(B, n_mels, frames)`` -> normalised, same shape."""
        x = self._as_input(mel)
        return (x - self.mel_mean[:, None]) / self.mel_scale[:, None]

    def denormalise_mel(self, mel: torch.Tensor) -> torch.Tensor:
        """Normalised ``(B, n_mels, frames)`` -> raw log-mel, same shape."""
        return mel * self.mel_scale[:, None].to(mel.dtype) + self.mel_mean[:, None].to(mel.dtype)

    def forward(
        self,
        video: ArrayOrTensor,
        ref_mel: ArrayOrTensor,
        bg_mel: ArrayOrTensor | None = None,
        *,
        drop_temporal: str | None = None,
        drop_timbre: str | None = None,
    ) -> torch.Tensor:
        """Raw log-mel ``(B, n_mels, upsample * T)``, or ``(n_mels, upsample * T)`` unbatched.

        ``video`` raw features ``(T, video_dim)`` / ``(B, T, video_dim)``; ``ref_mel`` raw
        log-mel ``(n_mels, T_ref)`` / ``(B, n_mels, T_ref)`` (an unbatched reference serves
        every item); ``bg_mel`` likewise, None for a silent background (the paper's
        inference). ``drop_temporal`` / ``drop_timbre`` are the generator's ablations.
        """
        self._check_statistics()
        batched = video.ndim == 3
        v = self.normalise_video(_batch(video, 2))
        r = self.normalise_mel(_batch(ref_mel, 2, size=v.shape[0]))
        b = None if bg_mel is None else self.normalise_mel(_batch(bg_mel, 2, size=v.shape[0]))
        out = self.generator(v, r, b, **_ablations(drop_temporal, drop_timbre))
        mel = self.denormalise_mel(out)
        return mel if batched else mel[0]

    @torch.inference_mode()
    def generate(
        self,
        video: ArrayOrTensor,
        ref_mel: ArrayOrTensor,
        *,
        drop_temporal: str | None = None,
        drop_timbre: str | None = None,
    ) -> torch.Tensor:
        """:meth:`forward` with a silent background and no autograd (inference)."""
        return self(video, ref_mel, drop_temporal=drop_temporal, drop_timbre=drop_timbre)

    def _as_input(self, x: ArrayOrTensor) -> torch.Tensor:
        return torch.as_tensor(x, dtype=self.mel_mean.dtype, device=self.mel_mean.device)

    def _check_statistics(self) -> None:
        for name in ("mel_mean", "mel_scale", "video_mean", "video_scale"):
            if not bool(torch.isfinite(getattr(self, name)).all()):
                raise RuntimeError(
                    f"VarietySoundModel: {name} is not set; load an exported state dict or "
                    "call set_statistics"
                )


def _check_dims(generator: Generator, config: VarietySoundModelConfig) -> None:
    """The config's dims must be the generator's and the mel analysis's."""
    found = {"n_mels": int(generator.n_mels), "video_dim": int(generator.video_dim)}
    wanted = {"n_mels": config.n_mels, "video_dim": config.video_dim}
    if found != wanted:
        raise ValueError(f"VarietySoundModel: config dims {wanted}, generator dims {found}")
    if config.mel.n_mels != config.n_mels:
        raise ValueError(
            f"VarietySoundModel: the mel analysis has {config.mel.n_mels} bins, the generator "
            f"{config.n_mels}"
        )


def _normalizer(mean: torch.Tensor, scale: torch.Tensor) -> Normalizer:
    return Normalizer(mean.detach().double().cpu().numpy(), scale.detach().double().cpu().numpy())


def _batch(x: ArrayOrTensor, unbatched_ndim: int, size: int | None = None) -> ArrayOrTensor:
    """Add a batch axis to an unbatched ``x`` (repeated ``size`` times when given)."""
    if x.ndim == unbatched_ndim + 1:
        return x
    if x.ndim != unbatched_ndim:
        raise ValueError(
            f"VarietySoundModel: expected {unbatched_ndim} or {unbatched_ndim + 1} axes, got "
            f"shape {tuple(x.shape)}"
        )
    x = torch.as_tensor(x)[None]
    return x.expand(size, *x.shape[1:]) if size is not None else x


def _ablations(drop_temporal: str | None, drop_timbre: str | None) -> dict[str, str]:
    """Only the ablations asked for (generators without ablations take no such keywords)."""
    asked = {"drop_temporal": drop_temporal, "drop_timbre": drop_timbre}
    return {k: v for k, v in asked.items() if v}
