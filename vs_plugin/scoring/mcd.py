"""Mel-cepstral distortion (Kubichek 1993), the paper's metric for its ablations.

MCD = (10 / ln 10) * sqrt(2 * sum_{d=1..D} (c_d - c'_d)^2) dB, averaged over frames, where
c are mel-cepstra (cepstra of the natural-log amplitude spectrum on a mel-warped frequency
axis). Two analyses give them (:class:`MCDConfig` ``analysis``):

- ``"mel"`` (default): cosine transform of the model's own 80-band log-mel spectrogram
  (``vs_plugin.audio.mel``: 1024-point window, hop 256, 0-8 kHz), scaled as a true cepstrum.
  This is the paper's reading ("the Euclidean distance between the mel-spectrograms"), one
  MCD frame is one generated mel frame, and it ignores the band above 8 kHz that the
  generator never models (there the vocoder's output is not conditioned on anything).
- ``"stft"``: SPTK-style all-pass warped cepstrum (``alpha``) of the STFT power spectrum up to
  ``fmax``, equal to SPTK ``mcep`` without iterations (tests check it against pysptk).

Other choices: order 13 (c1..c13); c0 (frame energy) excluded, so loudness offsets do not
count; frames silent (``silence_db`` below the loudest frame of the pair) in both clips are
dropped so gaps between events do not dilute the score; no time warping by default, because
the output must be in sync with the video and DTW (optional) would forgive timing errors.

pymcd (WORLD spectral envelope, 5 ms frames, c0 included, a power spectrum passed to SPTK as
an amplitude, hence cepstra doubled) measures a different quantity on another scale; the
tests check that both rank degradations of real speech alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np

from vs_plugin.audio.mel import MelConfig, log_mel
from vs_plugin.errors import ConfigError
from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.audio import load, require

MCD_CONSTANT = 10.0 / math.log(10.0) * math.sqrt(2.0)  # ~6.1419 dB per cepstral unit
_AGAINST = ("target", "ideal", "original", "reference")
_ANALYSES = ("mel", "stft")


@dataclass
class MCDConfig:
    analysis: str = "mel"  # "mel" (model's log-mel) or "stft" (SPTK-style warped STFT)
    sample_rate: int = 22050
    n_fft: int = 1024  # frame length (samples)
    hop_length: int = 256  # frame shift (samples)
    n_mels: int = 80  # mel bands ("mel" analysis)
    fmin: float = 0.0
    fmax: float = 8000.0  # upper edge of the analysed band (the generator's mel range)
    order: int = 13  # mel-cepstral order D (c1..cD compared)
    alpha: float = 0.455  # all-pass constant at 22.05 kHz ("stft" analysis)
    include_c0: bool = False  # c0 is the frame energy; excluded in the usual definition
    dtw: bool = False  # align with dynamic time warping before comparing
    drop_silence: bool = True  # drop frames silent in both clips
    silence_db: float = -60.0  # silence threshold, relative to the loudest frame of the pair
    power_floor: float = 1e-10  # added to the STFT power before the log ("stft" analysis)
    against: str = "target"  # which ScoringItem audio to compare with

    def __post_init__(self) -> None:
        if self.analysis not in _ANALYSES:
            raise ConfigError(f"mcd: analysis must be one of {_ANALYSES}, not {self.analysis!r}")
        if self.against not in _AGAINST:
            raise ConfigError(f"mcd: 'against' must be one of {_AGAINST}, not {self.against!r}")


@lru_cache(maxsize=8)
def warp_matrix(n_bins: int, order: int, alpha: float, grid: int = 4096) -> np.ndarray:
    """(order+1, n_bins) matrix: log-amplitude spectrum on [0, pi] -> all-pass mel-cepstrum.

    c~(m) = (k_m / pi) * integral_0^pi L(omega(beta)) cos(m beta) d beta, k_0 = 1, k_m = 2,
    where omega(beta) undoes the warping; L is interpolated linearly between bins and the
    integral is a trapezoid rule on ``grid`` points.
    """
    beta = np.linspace(0.0, np.pi, grid)
    omega = beta - 2.0 * np.arctan(alpha * np.sin(beta) / (1.0 + alpha * np.cos(beta)))
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


@lru_cache(maxsize=8)
def _dct_matrix(n_bands: int, order: int) -> np.ndarray:
    """(order+1, n_bands): cepstrum of a log spectrum sampled at band centres."""
    m = np.arange(order + 1)[:, None]
    n = np.arange(n_bands)[None, :]
    mat = np.cos(np.pi * m * (n + 0.5) / n_bands) / n_bands
    mat[1:] *= 2.0
    return mat


def analyse(wav: np.ndarray, cfg: MCDConfig) -> tuple[np.ndarray, np.ndarray]:
    """Waveform -> (mel-cepstra ``(frames, order+1)``, frame energy in dB ``(frames,)``)."""
    wav = np.asarray(wav, dtype=np.float32)
    if cfg.analysis == "mel":
        mel_cfg = MelConfig(
            sample_rate=cfg.sample_rate,
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            win_length=cfg.n_fft,
            n_mels=cfg.n_mels,
            fmin=cfg.fmin,
            fmax=cfg.fmax,
        )
        log_amp = log_mel(wav, mel_cfg).astype(np.float64)
        cep = log_amp @ _dct_matrix(cfg.n_mels, cfg.order).T
        energy = 10.0 * np.log10(np.exp(2.0 * log_amp).sum(axis=1))
        return cep, energy
    spec = librosa.stft(wav, n_fft=cfg.n_fft, hop_length=cfg.hop_length, window="hann")
    top_bin = min(spec.shape[0] - 1, int(round(cfg.fmax / cfg.sample_rate * cfg.n_fft)))
    power = (np.abs(spec[: top_bin + 1]) ** 2).T.astype(np.float64)
    cep = power_to_mcep(power, cfg.order, cfg.alpha, cfg.power_floor)
    return cep, 10.0 * np.log10(power.sum(axis=1) + 1e-20)


def power_to_mcep(power: np.ndarray, order: int, alpha: float, floor: float) -> np.ndarray:
    """(frames, bins) power spectrum on [0, pi] -> (frames, order+1) mel-cepstrum."""
    log_amp = 0.5 * np.log(power + floor)
    return log_amp @ warp_matrix(power.shape[1], order, alpha).T


def mcd(generated: np.ndarray, reference: np.ndarray, cfg: MCDConfig | None = None) -> float:
    """Mean mel-cepstral distortion in dB between two waveforms at ``cfg.sample_rate``."""
    cfg = cfg or MCDConfig()
    ca, ea = analyse(generated, cfg)
    cb, eb = analyse(reference, cfg)
    if cfg.drop_silence:
        top = max(ea.max(), eb.max())
        loud_a, loud_b = ea > top + cfg.silence_db, eb > top + cfg.silence_db
    else:
        loud_a, loud_b = np.ones(len(ca), bool), np.ones(len(cb), bool)
    first = 0 if cfg.include_c0 else 1
    if cfg.dtw:
        if loud_a.any() and loud_b.any():  # each clip loses its own silent frames
            ca, cb = ca[loud_a], cb[loud_b]
        xa, xb = ca[:, first:], cb[:, first:]
        _, path = librosa.sequence.dtw(X=xa.T, Y=xb.T, metric="euclidean")
        diff = xa[path[:, 0]] - xb[path[:, 1]]
    else:  # frame-synchronous; a longer clip's tail is ignored
        n = min(len(ca), len(cb))
        keep = loud_a[:n] | loud_b[:n]
        if not keep.any():  # both silent throughout: compare every frame (all equal)
            keep[:] = True
        diff = (ca[:n] - cb[:n])[keep, first:]
    return float(MCD_CONSTANT * np.sqrt((diff**2).sum(axis=1)).mean())


@SCORERS.register("mcd", config=MCDConfig)
class MCDScorer(Scorer):
    """Mel-cepstral distortion (dB, lower is better) to the ground truth of the same video."""

    lower_is_better = {"mcd": True}

    def __init__(self, cfg: MCDConfig | None = None) -> None:
        self.cfg = cfg or MCDConfig()
        self.requires = ("generated", self.cfg.against)

    def score(self, item: ScoringItem) -> dict[str, float]:
        other = getattr(item, self.cfg.against)
        if other is None:  # e.g. the ground-truth system has no separate target
            return {"mcd": math.nan}
        require(other, self.cfg.against, item.utt)
        sr = self.cfg.sample_rate
        return {"mcd": mcd(load(item.generated, sr), load(other, sr), self.cfg)}

    def describe(self) -> str:
        c = self.cfg
        analysis = (
            f"{c.n_mels}-band log-mel {c.fmin:g}-{c.fmax:g} Hz"
            if c.analysis == "mel"
            else f"STFT warped alpha={c.alpha} up to {c.fmax:g} Hz"
        )
        silence = (
            f"frames below {c.silence_db:g} dB of the loudest dropped when silent in both"
            if c.drop_silence
            else "all frames kept"
        )
        return (
            f"MCD (Kubichek, dB) vs {c.against}: mel-cepstrum order {c.order} from {analysis}, "
            f"frame {c.n_fft}/hop {c.hop_length} at {c.sample_rate} Hz, c0 "
            f"{'included' if c.include_c0 else 'excluded'}, "
            f"{'DTW-aligned' if c.dtw else 'frame-synchronous (no DTW)'}, {silence}"
        )
