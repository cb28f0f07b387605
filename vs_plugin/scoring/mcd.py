"""Mel-cepstral distortion (Kubichek 1993), the paper's metric for its ablations.

MCD = (10 / ln 10) * sqrt(2 * sum_{d=1..D} (c_d - c'_d)^2), in dB, averaged over frames,
where c are mel-cepstra: cepstra of the log-amplitude spectrum on a frequency axis warped by
the first-order all-pass ``z~^-1 = (z^-1 - alpha) / (1 - alpha z^-1)``. They are computed as
the cosine transform of the STFT log spectrum resampled on the warped axis, which equals
SPTK's ``mcep`` without iterations (checked in tests against pysptk to ~1e-3).

Choices (all in :class:`MCDConfig`, each reported by ``describe()``):
- analysis: the model's own STFT (1024-point Hann window, hop 256 at 22050 Hz), so one MCD
  frame is one generated mel frame;
- order 13 (c1..c13), alpha 0.455 (the usual all-pass constant at 22.05 kHz);
- c0 (frame energy) excluded, as is standard, so loudness offsets do not count;
- frames that are silent (``silence_db`` below the loudest frame) in both clips are dropped,
  so gaps between events do not dilute the score;
- no time warping by default: the output is meant to be in sync with the video, so DTW
  (optional) would forgive the very timing errors the model must avoid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np

from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.audio import load, require

MCD_CONSTANT = 10.0 / math.log(10.0) * math.sqrt(2.0)  # ~6.1419 dB per cepstral unit
_TARGETS = ("target", "ideal", "original", "reference")


@dataclass
class MCDConfig:
    sample_rate: int = 22050
    n_fft: int = 1024  # frame length (samples)
    hop_length: int = 256  # frame shift (samples)
    order: int = 13  # mel-cepstral order D (c1..cD compared)
    alpha: float = 0.455  # all-pass constant (frequency warping) for 22.05 kHz
    include_c0: bool = False  # c0 is the frame energy; excluded in the usual definition
    dtw: bool = False  # align with dynamic time warping before comparing
    drop_silence: bool = True  # drop frames silent in both clips
    silence_db: float = -60.0  # silence threshold, relative to the loudest frame of the pair
    power_floor: float = 1e-8  # added to the power spectrum before the log
    against: str = "target"  # which ScoringItem audio to compare with


@lru_cache(maxsize=8)
def _warp_matrix(n_fft: int, order: int, alpha: float, grid: int = 4096) -> np.ndarray:
    """(order+1, n_fft//2+1) matrix: log-amplitude spectrum -> mel-cepstrum.

    c~(m) = (k_m / pi) * integral_0^pi L(omega(beta)) cos(m beta) d beta with k_0 = 1,
    k_m = 2, where omega(beta) undoes the all-pass warping; L is linearly interpolated
    between STFT bins and the integral is a trapezoid rule on ``grid`` points.
    """
    beta = np.linspace(0.0, np.pi, grid)
    omega = beta - 2.0 * np.arctan(alpha * np.sin(beta) / (1.0 + alpha * np.cos(beta)))
    n_bins = n_fft // 2 + 1
    pos = omega / np.pi * (n_bins - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, n_bins - 2)
    frac = pos - lo
    interp = np.zeros((grid, n_bins))
    rows = np.arange(grid)
    interp[rows, lo] = 1.0 - frac
    interp[rows, lo + 1] += frac
    weights = np.full(grid, 1.0 / (grid - 1))
    weights[[0, -1]] *= 0.5
    cos = np.cos(np.arange(order + 1)[:, None] * beta[None, :]) * weights[None, :]
    cos[1:] *= 2.0
    return cos @ interp


def power_spectrogram(wav: np.ndarray, cfg: MCDConfig) -> np.ndarray:
    """(frames, bins) power spectrum with a Hann window."""
    spec = librosa.stft(
        np.asarray(wav, dtype=np.float32), n_fft=cfg.n_fft, hop_length=cfg.hop_length,
        window="hann", center=True,
    )
    return (np.abs(spec) ** 2).T.astype(np.float64)


def mel_cepstrum(power: np.ndarray, cfg: MCDConfig) -> np.ndarray:
    """(frames, bins) power spectrum -> (frames, order+1) mel-cepstrum (log amplitude)."""
    log_amp = 0.5 * np.log(power + cfg.power_floor)
    return log_amp @ _warp_matrix(cfg.n_fft, cfg.order, cfg.alpha).T


def _loud(power: np.ndarray, ref_db: float, cfg: MCDConfig) -> np.ndarray:
    energy_db = 10.0 * np.log10(power.sum(axis=1) + 1e-20)
    return energy_db > ref_db + cfg.silence_db


def mcd(generated: np.ndarray, reference: np.ndarray, cfg: MCDConfig = MCDConfig()) -> float:
    """Mean mel-cepstral distortion in dB between two waveforms at ``cfg.sample_rate``."""
    pa, pb = power_spectrogram(generated, cfg), power_spectrogram(reference, cfg)
    ca, cb = mel_cepstrum(pa, cfg), mel_cepstrum(pb, cfg)
    if cfg.drop_silence:
        top = 10.0 * np.log10(max(pa.sum(axis=1).max(), pb.sum(axis=1).max()) + 1e-20)
        loud_a, loud_b = _loud(pa, top, cfg), _loud(pb, top, cfg)
    else:
        loud_a, loud_b = np.ones(len(ca), bool), np.ones(len(cb), bool)
    first = 0 if cfg.include_c0 else 1
    if cfg.dtw:
        if loud_a.any() and loud_b.any():
            ca, cb = ca[loud_a], cb[loud_b]
        xa, xb = ca[:, first:], cb[:, first:]
        _, path = librosa.sequence.dtw(X=xa.T, Y=xb.T, metric="euclidean")
        diff = xa[path[:, 0]] - xb[path[:, 1]]
    else:
        n = min(len(ca), len(cb))
        keep = loud_a[:n] | loud_b[:n]
        if not keep.any():
            keep[:] = True
        diff = (ca[:n] - cb[:n])[keep, first:]
    return float(MCD_CONSTANT * np.sqrt((diff**2).sum(axis=1)).mean())


@SCORERS.register("mcd", config=MCDConfig)
class MCDScorer(Scorer):
    """Mel-cepstral distortion (dB, lower is better) to the ground truth of the same video."""

    lower_is_better = {"mcd": True}

    def __init__(self, cfg: MCDConfig | None = None) -> None:
        self.cfg = cfg or MCDConfig()
        if self.cfg.against not in _TARGETS:
            raise ValueError(f"mcd: 'against' must be one of {_TARGETS}, not {self.cfg.against!r}")
        self.requires = ("generated", self.cfg.against)

    def score(self, item: ScoringItem) -> dict[str, float]:
        other = getattr(item, self.cfg.against)
        if other is None:
            return {"mcd": math.nan}
        require(other, self.cfg.against, item.utt)
        sr = self.cfg.sample_rate
        return {"mcd": mcd(load(item.generated, sr), load(other, sr), self.cfg)}

    def describe(self) -> str:
        c = self.cfg
        return (
            f"MCD (Kubichek, dB) vs {c.against}: mel-cepstra order {c.order} "
            f"(c0 {'included' if c.include_c0 else 'excluded'}), alpha {c.alpha}, STFT "
            f"{c.n_fft}/{c.hop_length} at {c.sample_rate} Hz, "
            f"{'DTW-aligned' if c.dtw else 'frame-synchronous (no DTW)'}, "
            + (
                f"frames below {c.silence_db:g} dB of the loudest dropped when silent in both"
                if c.drop_silence
                else "all frames kept"
            )
        )
