"""Sound-effects embedding similarity, and the ``sfx_similarity`` scorer.

The embedding is the convolutional network of Ma & Lerch, "Representation Learning for the
Automatic Indexing of Sound Effects Libraries" (ISMIR 2022), as published on PyPI in the
``aisfx`` package (version 0.1.2): its best model, *X-Sequential-CE*, was trained to classify
sounds of several commercial sound-effects libraries by their Universal Category System
classes, so its 512-d embedding describes what a sound effect *is* (a door, a whoosh, a
footstep on gravel), which neither a speaker embedding nor MFCC statistics were made for.
The trained weights ship inside the wheel (``aisfx/models/checkpoint.pth``); nothing is
downloaded.

What is computed here, following the package's settings (its ``inference`` module):

* audio at 44.1 kHz, mono; by default decoded at the project's 22.05 kHz first and then
  resampled, so that a vocoded 22.05 kHz output and a 44.1 kHz recording are compared on the
  same band (0 to 11.025 kHz); peak-normalised to 1 (as the package's librosa front end does);
* power spectrum of 2048-sample Hann frames (46 ms), hop 1024 (23.2 ms), frames centred on
  multiples of the hop (zero padding at both ends);
* 96 mel bands (HTK mel scale, 0 Hz to 22.05 kHz), triangles linear in mel, each normalised
  to unit sum (the Essentia ``MelBands`` settings of the paper);
* ``log10(1e4 * mel + 1)``, divided by 9.4578 (the maximum over the training spectrograms,
  the package's ``spec_norm='original'``);
* blocks of 100 frames (2.32 s), one every 50 frames (the package's default half-block hop),
  plus one block ending at the last frame so that the end of the clip is seen too; a clip
  shorter than a block is padded with silence (0 after the log compression);
* the network (four convolution blocks, 64 to 512 channels) gives per block the mean over
  frequency and the maximum over time of its last feature maps, a 512-d vector;
* the clip's embedding is the mean of its block vectors.

The network ends in a ReLU, so every embedding is non-negative and cosines lie in [0, 1],
with unrelated sounds usually well above 0: compare values with each other, not with 0.

Metrics of the scorer (cross pairs: the reference is another clip than the video's own),
laid out as those of ``mfcc_similarity``: ``sfx_sim_ref`` (output vs reference, higher is
better), ``sfx_sim_orig`` (output vs the video's original sound track) and
``sfx_leakage = sfx_sim_orig - sfx_sim_ref`` (below 0: the output is nearer the requested
sound than the one that the video came with).
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.signal
import torch

from vs_plugin.data.kaldi_dir import read_wav_scp
from vs_plugin.errors import ConfigError
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.audio import file_version, load
from vs_plugin.scoring.similarity import LeakageScorer
from vs_plugin.utils import runtimes

MODEL_RATE = 44100  # Hz, the network's input rate
N_FFT = 2048  # samples per analysis frame (46 ms)
HOP = 1024  # samples between frames (23.2 ms)
N_MELS = 96
F_MAX = 22050.0  # Hz, top of the mel filterbank
SPEC_MAX = 9.457798957824707  # the package's normalisation constant (log10 units)
BLOCK = 100  # frames per network input (2.32 s)
EMBED_DIM = 512
SILENCE_PEAK = 1e-4  # a clip whose peak stays below this has no sound to describe
_PREFIX = "embedding_net."  # the embedding part of the checkpoint's classifier
BACKENDS = ("auto", "torch", "openvino")
GRAPH_FORMAT = 1  # bump when the network's code or the export changes the cached graph


@dataclass
class SFXSimilarityConfig:
    input_rate: int = 22050  # Hz: files are decoded at this rate, then resampled to 44.1 kHz
    peak_normalize: bool = True  # scale each clip to peak 1 before the analysis
    block_hop: float = 0.5  # hop between 100-frame blocks, as a fraction of a block
    # "set": subtract the mean embedding of the scored set's recordings (data/<set>/wav.scp)
    # before the cosine. The network ends in a ReLU, so raw embeddings are non-negative and
    # every raw cosine lies near 0.8-0.95; centring spreads them. "none": raw cosines.
    center: str = "set"
    # Where the network runs: auto (OpenVINO on the CPU when installed, else torch), torch or
    # openvino. OpenVINO runs it in fp32 and gives the same embeddings to float rounding.
    backend: str = "auto"

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"sfx_similarity: backend must be one of {BACKENDS}, not {self.backend!r}"
            )
        if self.center not in ("set", "none"):
            raise ConfigError(f"sfx_similarity: center must be set or none, not {self.center!r}")
        if not 0 < self.input_rate <= MODEL_RATE:
            raise ConfigError(
                f"sfx_similarity: input_rate must be in (0, {MODEL_RATE}], not {self.input_rate}"
            )
        if not 0 < self.block_hop <= 1:
            raise ConfigError(f"sfx_similarity: block_hop must be in (0, 1], not {self.block_hop}")


def weights_path() -> Path:
    """The checkpoint inside the installed ``aisfx`` package (about 25 MB)."""
    return Path(str(importlib.resources.files("aisfx.models").joinpath("checkpoint.pth")))


def _numpy_scalar_globals() -> list:
    """The numpy globals that the checkpoint's dataset table needs, allowlisted by name.

    Besides the tensors, the file holds ``{dataset: (index, n_classes)}`` whose indices were
    pickled as numpy int64 scalars (``numpy.core.multiarray.scalar`` and a dtype); numpy 2
    moved that function to ``numpy._core``, so it is listed under the name the file uses.
    """
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar  # type: ignore[no-redef]
    return [(scalar, "numpy.core.multiarray.scalar"), np.dtype, type(np.dtype(np.int64))]


def load_weights(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """State dict of the embedding network (``conv_block1..4``), read with ``weights_only``.

    The checkpoint is a pair ``(state_dict of the whole classifier, dataset table)``; only the
    keys under ``embedding_net.`` are kept, without that prefix (the per-dataset classifier
    heads are not used).
    """
    path = Path(path) if path is not None else weights_path()
    with torch.serialization.safe_globals(_numpy_scalar_globals()):
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = checkpoint[0] if isinstance(checkpoint, tuple) else checkpoint
    return {k[len(_PREFIX) :]: v for k, v in state.items() if k.startswith(_PREFIX)}


@runtimes.built_once
def sfx_encoder() -> torch.nn.Module:
    """The embedding network with the packaged weights, on CPU, in eval mode (once per process).

    ``(B, 100 frames, 96 mels)`` normalised log-mel -> ``(B, 512)``.
    """
    from aisfx.models.cnn2d import EmbeddingNet

    net = EmbeddingNet("max", 3, 1, 64)  # the paper's X-Sequential-CE configuration
    net.load_state_dict(load_weights(), strict=True)
    return net.eval()


@runtimes.built_once
def sfx_network(backend: str = "auto") -> Callable[[np.ndarray], np.ndarray]:
    """The embedding network as a function ``(B, 100, 96)`` float32 -> ``(B, 512)`` float32.

    ``auto`` is OpenVINO on the CPU when it is installed (0.69 x the time per clip on one
    core, the same values to float rounding; BENCHMARKS.md), else torch. Built once per
    process and backend.
    """
    if backend == "auto":
        backend = "openvino" if runtimes.has_module("openvino") else "torch"
    net = sfx_encoder()
    if backend == "openvino":
        return runtimes.OpenVINOModule(
            net, torch.zeros(1, BLOCK, N_MELS), network="aisfx-embedding",
            digest=runtimes.files_digest([weights_path()]), graph_format=GRAPH_FORMAT,
            user="sfx_similarity backend 'openvino'",
        )

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()

    return run


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


@lru_cache(maxsize=2)
def mel_filterbank(
    sample_rate: int = MODEL_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, f_max: float = F_MAX
) -> np.ndarray:
    """``(n_mels, n_fft // 2 + 1)`` triangular filters, linear in HTK mel, each summing to 1.

    Band ``i`` rises from edge ``i`` to edge ``i + 1`` and falls to edge ``i + 2``, the
    ``n_mels + 2`` edges being equally spaced in mel between 0 Hz and ``f_max``.
    """
    edges = np.linspace(0.0, float(hz_to_mel(f_max)), n_mels + 2)
    bins = hz_to_mel(np.arange(n_fft // 2 + 1) * sample_rate / n_fft)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (bins[None, :] - lo) / (mid - lo)
    fall = (hi - bins[None, :]) / (hi - mid)
    fb = np.clip(np.minimum(rise, fall), 0.0, None)
    sums = fb.sum(axis=1, keepdims=True)
    return fb / np.where(sums > 0, sums, 1.0)


def log_mel(wav44k: np.ndarray) -> np.ndarray:
    """``(n,)`` samples at 44.1 kHz -> ``(1 + n // 1024, 96)`` network input (float32).

    Centred 2048-sample symmetric Hann frames, power spectrum, unit-sum mel filters,
    ``log10(1e4 x + 1) / 9.4578``.
    """
    x = np.pad(np.asarray(wav44k, dtype=np.float64), (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:n_frames]
    window = scipy.signal.get_window("hann", N_FFT, fftbins=False)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    mel = power @ mel_filterbank().T
    return (np.log10(1e4 * mel + 1.0) / SPEC_MAX).astype(np.float32)


def blocks(spec: np.ndarray, hop_fraction: float = 0.5) -> np.ndarray:
    """``(frames, 96)`` -> ``(n_blocks, 100, 96)`` network inputs.

    A block starts every ``round(100 * hop_fraction)`` frames, and one more ends at the last
    frame; an input shorter than a block is zero-padded (silence) to one block.
    """
    n = spec.shape[0]
    if n <= BLOCK:
        return np.pad(spec, ((0, BLOCK - n), (0, 0)))[None]
    hop = max(1, round(BLOCK * hop_fraction))
    starts = list(range(0, n - BLOCK + 1, hop))
    if starts[-1] != n - BLOCK:
        starts.append(n - BLOCK)
    return np.stack([spec[s : s + BLOCK] for s in starts])


def embed(
    wav: np.ndarray, sample_rate: int = MODEL_RATE, *, peak_normalize: bool = True,
    hop: float = 0.5, backend: str = "auto",
) -> np.ndarray | None:
    """512-d clip embedding (float64, mean of the block embeddings) of a mono waveform.

    ``wav`` is at ``sample_rate`` Hz and is resampled to 44.1 kHz; None when it is silent
    (peak below 1e-4), as a silent clip has no sound to describe. ``backend``: see
    :func:`sfx_network`.
    """
    wav = np.asarray(wav, dtype=np.float64)
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    if peak < SILENCE_PEAK:
        return None
    if sample_rate != MODEL_RATE:
        g = math.gcd(MODEL_RATE, sample_rate)
        wav = scipy.signal.resample_poly(wav, MODEL_RATE // g, sample_rate // g)
    if peak_normalize:
        wav = wav / max(float(np.max(np.abs(wav))), SILENCE_PEAK)
    out = sfx_network(backend)(blocks(log_mel(wav), hop))
    return out.mean(axis=0).astype(np.float64)


class SFXCache:
    """Embeddings per audio file, computed once per file version (path, mtime)."""

    def __init__(self, cfg: SFXSimilarityConfig) -> None:
        self.cfg = cfg
        self._emb: dict[tuple[str, int], np.ndarray | None] = {}

    def embedding(self, path: Path) -> np.ndarray | None:
        """The 512-d embedding of ``path``; None if the file is silent."""
        path = Path(path)
        key = file_version(path)
        if key not in self._emb:
            wav = load(path, self.cfg.input_rate)
            self._emb[key] = embed(
                wav,
                self.cfg.input_rate,
                peak_normalize=self.cfg.peak_normalize,
                hop=self.cfg.block_hop,
                backend=self.cfg.backend,
            )
        return self._emb[key]


@SCORERS.register("sfx_similarity", config=SFXSimilarityConfig)
class SFXSimilarityScorer(LeakageScorer):
    """Cosine of sound-effects embeddings: output vs reference, output vs the video's original."""

    prefix = "sfx"

    def __init__(self, cfg: SFXSimilarityConfig | None = None) -> None:
        self.cfg = cfg or SFXSimilarityConfig()
        self.cache = SFXCache(self.cfg)

        self._centre: np.ndarray | None = None
        self._means: dict[str, np.ndarray | None] = {}

    def set_mean(self, data_dir: str | Path) -> np.ndarray | None:
        """The mean embedding of a data dir's recordings (``wav.scp``; silent ones skipped)."""
        key = str(Path(data_dir).absolute())
        if key not in self._means:
            wavs = read_wav_scp(key).values()
            embs = [self.cache.embedding(Path(p)) for p in wavs]
            embs = [e for e in embs if e is not None]
            self._means[key] = np.mean(embs, axis=0) if embs else None
        return self._means[key]

    def vector(self, path: Path) -> np.ndarray | None:
        emb = self.cache.embedding(path)
        if emb is None or self._centre is None:
            return emb
        return emb - self._centre

    def score(self, item: ScoringItem) -> dict[str, float]:
        data_dir = item.extra.get("data_dir")
        use = self.cfg.center == "set" and data_dir is not None
        self._centre = self.set_mean(data_dir) if use else None
        return super().score(item)

    def describe(self) -> str:
        try:
            version = importlib.metadata.version("aisfx")
        except importlib.metadata.PackageNotFoundError:
            version = "(not installed)"
        band = (
            f"decoded at {self.cfg.input_rate} Hz (band-limited to {self.cfg.input_rate / 2000:g}"
            " kHz) and resampled to 44.1 kHz"
            if self.cfg.input_rate != MODEL_RATE
            else "decoded at 44.1 kHz"
        )
        level = "peak-normalised, " if self.cfg.peak_normalize else ""
        return (
            f"SFX similarity: cosine of 512-d aisfx {version} embeddings (Ma & Lerch, ISMIR "
            f"2022, X-Sequential-CE CNN, packaged weights), audio {band}, {level}96-band HTK "
            f"log-mel (2048/1024), 100-frame (2.32 s) blocks every "
            f"{max(1, round(BLOCK * self.cfg.block_hop))} frames, max over time per block, "
            "mean over blocks; "
            + (
                "centred on the mean embedding of the scored set's recordings; "
                if self.cfg.center == "set"
                else "raw (uncentred) embeddings; "
            )
            + "output vs reference and vs the video's original audio; leakage = orig - ref "
            "(cross pairs only); silent output scores 0"
        )
