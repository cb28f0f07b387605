"""Abstract base classes: the contract every registered component of a kind honours.

Conventions shared by every kind:
- Waveforms are mono ``float32`` numpy arrays in [-1, 1] at the component's ``sample_rate``.
- Feature arrays on disk and from extractors are ``(frames, dims)`` (Kaldi order).
- Tensors inside models are ``(batch, channels, frames)``.
- Mel spectrograms are natural-log magnitudes (``log(clamp(|mel|, 1e-5))``), the analysis
  that the HiFi-GAN universal vocoder inverts; models see them normalised per corpus.
- Every component is built as ``cls(cfg, **runtime_kwargs)`` with ``cfg`` its dataclass config.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


class AudioFeature(abc.ABC):
    """Turns a waveform into a ``(frames, dim)`` feature array (the mel for the generator)."""

    sample_rate: int
    hop_length: int
    dim: int

    @abc.abstractmethod
    def __call__(self, wav: np.ndarray) -> np.ndarray:
        """``wav`` (samples,) float32 at ``sample_rate`` -> ``(frames, dim)`` float32."""


class VideoFeature(abc.ABC):
    """Turns decoded frames into a ``(frames, dim)`` feature array, one row per frame."""

    dim: int
    fps: float

    @abc.abstractmethod
    def __call__(self, frames: np.ndarray, *, source: str | Path | None = None) -> np.ndarray:
        """``frames`` (T, H, W, 3) uint8 RGB at ``fps`` -> ``(T, dim)`` float32.

        ``source`` names the clip (extractors that read precomputed arrays use it).
        """


class TemporalEncoder(nn.Module, abc.ABC):
    """Video features ``(B, in_channels, T)`` -> temporal code ``(B, out_channels, T)``."""

    out_channels: int

    def __init__(self, cfg: Any, in_channels: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.in_channels = in_channels


class AcousticEncoder(nn.Module, abc.ABC):
    """Reference mel ``(B, n_mels, T_ref)`` -> timbre code ``(B, out_channels, T)``.

    ``forward(ref_mel, length)`` expands the (time-invariant) code over ``length`` frames.
    """

    out_channels: int

    def __init__(self, cfg: Any, n_mels: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.n_mels = n_mels


class BackgroundEncoder(nn.Module, abc.ABC):
    """Background mel ``(B, n_mels, T_bg)`` -> background code ``(B, out_channels, T)``."""

    out_channels: int

    def __init__(self, cfg: Any, n_mels: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.n_mels = n_mels


class Decoder(nn.Module, abc.ABC):
    """Concatenated codes ``(B, in_channels, T)`` -> mel ``(B, n_mels, upsample * T)``."""

    upsample: int

    def __init__(self, cfg: Any, in_channels: int, n_mels: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.in_channels = in_channels
        self.n_mels = n_mels


class Generator(nn.Module, abc.ABC):
    """``forward(video, ref_mel, bg_mel) -> mel``; ``generate(video, ref_mel)`` for inference."""

    n_mels: int
    video_dim: int
    upsample: int  # mel frames per video frame

    @abc.abstractmethod
    def forward(
        self, video: torch.Tensor, ref_mel: torch.Tensor, bg_mel: torch.Tensor
    ) -> torch.Tensor: ...

    @torch.no_grad()
    def generate(self, video: torch.Tensor, ref_mel: torch.Tensor) -> torch.Tensor:
        """Inference: any video length, any reference length, a silent background."""
        bg = silent_mel_like(ref_mel, video.shape[-1] * self.upsample)
        return self(video, ref_mel, bg)


def silent_mel_like(ref_mel: torch.Tensor, length: int, value: float | None = None) -> torch.Tensor:
    """An all-silent mel of ``length`` frames shaped like ``ref_mel``'s batch and bins.

    ``value`` is the (normalised) silence level; by default the reference's minimum.
    """
    b, c, _ = ref_mel.shape
    fill = float(ref_mel.min()) if value is None else value
    return ref_mel.new_full((b, c, length), fill)


class Discriminator(nn.Module, abc.ABC):
    """Scores a mel (optionally given the video): ``forward(mel, video) -> scores``.

    Scores may have any shape; least-squares GAN losses average over them. ``needs_video``
    tells the trainer whether to pass video features (else ``None``).
    ``wants_misaligned_negative`` asks for a third, time-shifted negative in the
    discriminator's loss (paper eq. 6; the alignment discriminator sets it); a
    discriminator that takes video is not given one unless it asks.
    ``scores_many`` says that ``forward`` also takes a list of mels for the same video,
    ``forward([mel, ...], video) -> [scores, ...]``, each scored exactly as alone: what
    depends on the video alone is computed once for the discriminator's loss (real, fake and
    shifted mels), inside one ``forward`` so that a DDP wrapper still sees every use.
    """

    needs_video: bool = False
    wants_misaligned_negative: bool = False
    scores_many: bool = False

    def __init__(self, cfg: Any, n_mels: int, video_dim: int, upsample: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.n_mels = n_mels
        self.video_dim = video_dim
        self.upsample = upsample


class GANSystem(abc.ABC):
    """How one model family trains: what its generator is fed and every loss it is scored by.

    The trainer's step is generic: it asks the system for the generator's outputs on a batch,
    for the discriminators' loss (with the outputs detached) and for the generator's loss
    (with the discriminators frozen), and applies the updates. A system owns its losses, as
    ESPnet's GAN models do; its dataclass config holds their weights. Built as
    ``cls(cfg, loss_cfg)``, ``loss_cfg`` being the training job's ``loss`` section (systems
    that keep their weights in ``cfg`` ignore it).

    ``batch`` holds normalised tensors ``video (B, video_dim, T)``, ``mel (B, n_mels, 4T)``,
    ``ref_mel (B, n_mels, T_ref)``, ``bg_mel (B, n_mels, T_bg)``. Every returned loss is a
    scalar tensor.
    """

    def __init__(self, cfg: Any, loss_cfg: Any = None) -> None:
        self.cfg = cfg
        self.loss_cfg = loss_cfg

    @abc.abstractmethod
    def forward(self, generator: nn.Module, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Training forward pass: a dict with at least ``fake`` (the generated mel)."""

    @abc.abstractmethod
    def discriminator_losses(
        self, discs: Sequence[nn.Module], weights: Sequence[float], names: Sequence[str],
        batch: Mapping[str, Any], outputs: Mapping[str, torch.Tensor],
    ) -> dict[str, torch.Tensor]:  # fmt: skip
        """``{"loss_d": total, "d_<name>": part, ...}``; outputs must be used detached."""

    @abc.abstractmethod
    def generator_losses(
        self, generator: nn.Module, discs: Sequence[nn.Module], weights: Sequence[float],
        batch: Mapping[str, Any], outputs: Mapping[str, torch.Tensor],
    ) -> dict[str, torch.Tensor]:  # fmt: skip
        """``{"loss_g": total, ...parts}``; ``discs`` empty = no adversarial term (warm-up)."""

    @abc.abstractmethod
    def infer(self, generator: nn.Module, batch: Mapping[str, Any], condition: str) -> torch.Tensor:
        """Validation output (generator in eval mode, no gradients taken here).

        ``condition`` is ``"inference"`` (what users get) or ``"reconstruction"`` (the
        training condition); see ``vs_plugin.train.engine.create_evaluator``.
        """

    def loss_names(self, disc_names: Sequence[str]) -> list[str]:
        """The names the step returns every iteration (for running averages)."""
        return ["loss_g"] + (["loss_d", *(f"d_{n}" for n in disc_names)] if disc_names else [])


class Vocoder(abc.ABC):
    """Log-mel ``(frames, n_mels)`` (de-normalised) -> waveform at ``sample_rate``."""

    sample_rate: int
    hop_length: int
    n_mels: int

    @abc.abstractmethod
    def __call__(self, mel: np.ndarray) -> np.ndarray: ...

    def to(self, device: str | torch.device) -> Vocoder:  # noqa: B027 - optional override
        """Move to a device (no-op for CPU-only vocoders)."""
        return self

    def prepare(self, frames: int) -> None:  # noqa: B027 - optional override
        """Get ready for mels of about ``frames`` frames (e.g. compile a graph for their
        shape). ``vs-generate`` calls it in a background thread while the video features are
        computed, and waits for it before the first call. Default: nothing to do."""


@dataclass
class ScoringItem:
    """Everything a scorer may look at for one generated utterance (paths are wav files)."""

    utt: str
    generated: Path
    category: str = ""
    target: Path | None = None  # ground truth audio of the same video (vocoded GT mel)
    reference: Path | None = None  # the timbre reference that conditioned generation
    original: Path | None = None  # the video's own original sound track
    ideal: Path | None = None  # ground truth of the ideal output (built-in corpus, cross pairs)
    event_times: list[float] | None = None  # seconds, when the corpus knows them
    extra: dict[str, Any] = field(default_factory=dict)


class Scorer(abc.ABC):
    """Per-utterance metrics: ``score(item) -> {metric: value}``; NaN where undefined."""

    #: ScoringItem fields that must be set for this scorer (others are optional).
    requires: tuple[str, ...] = ()
    #: True if a lower value is better, per metric name (for RESULTS.md arrows).
    lower_is_better: Mapping[str, bool] = {}

    @abc.abstractmethod
    def score(self, item: ScoringItem) -> dict[str, float]: ...

    def describe(self) -> str:
        """One line saying how numbers were computed (printed next to every result)."""
        return type(self).__name__


@dataclass
class CorpusItem:
    """One clip of a corpus, before conforming."""

    utt: str
    path: Path
    category: str
    split: str | None = None  # train/valid/test when the corpus fixes it


class Corpus(abc.ABC):
    """Lists the clips of a corpus (and, for generated corpora, writes them first)."""

    @abc.abstractmethod
    def items(self) -> Iterable[CorpusItem]: ...

    def describe(self) -> str:
        return type(self).__name__
