"""MFCC statistics of a sound's active frames, and the ``mfcc_similarity`` scorer.

Reference-conditioned Foley work reports the cosine similarity of MFCC-mean vectors between
an output and its reference: a crude but transparent description of a sound's spectral
envelope that, unlike a speaker embedding, is defined for any sound. Here the MFCCs are the
DCT of the model's own 80-band log-mel analysis (:func:`vs_plugin.audio.mel.log_mel`, in dB),
so the same numbers can be computed from a waveform or straight from a generated mel (the
trainer's validation does the latter). Only *active* frames count: those within ``top_db`` of
the clip's loudest frame, so silence between events (absent from a clean output, present in
a recording) does not decide the comparison. ``c0`` (overall level) is left out.

Metrics of the scorer (cross pairs: the reference is another clip than the video's own):
``mfcc_sim_ref`` (to the reference, higher is better), ``mfcc_sim_orig`` (to the video's own
original sound track) and ``mfcc_leakage = mfcc_sim_orig - mfcc_sim_ref`` (below 0: the output
is nearer the requested timbre than the sound that the video came with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.fft

from vs_plugin.audio.mel import MelConfig, log_mel
from vs_plugin.errors import InputError
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.audio import file_version, load
from vs_plugin.scoring.similarity import LeakageScorer, cosine, is_cross

__all__ = ["MFCCCache", "MFCCSimilarityScorer", "cosine", "is_cross", "mfcc_stats"]

DB_PER_NEPER = 20.0 / math.log(10.0)  # natural-log magnitude -> dB


@dataclass
class MFCCConfig:
    sample_rate: int = 22050
    n_mfcc: int = 20  # coefficients c1..c20 (c0, the level, is dropped)
    top_db: float = 40.0  # active frames: within this many dB of the loudest frame


def mfcc_from_log_mel(mel: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    """``(T, n_mels)`` natural-log mel magnitudes -> ``(T, n_mfcc)`` MFCCs c1..c_n.

    Orthonormal DCT-II of the mel in dB (librosa's convention), ``c0`` dropped.
    """
    mel = np.asarray(mel, dtype=np.float64)
    if mel.ndim != 2 or mel.shape[1] <= n_mfcc:
        raise ValueError(f"want a (frames, n_mels > {n_mfcc}) log-mel, got {mel.shape}")
    return scipy.fft.dct(mel * DB_PER_NEPER, type=2, norm="ortho", axis=1)[:, 1 : n_mfcc + 1]


def active_frames(mel: np.ndarray, top_db: float = 40.0) -> np.ndarray:
    """Boolean mask of the frames within ``top_db`` dB of the loudest (total mel magnitude)."""
    mel = np.asarray(mel, dtype=np.float64)
    level = DB_PER_NEPER * np.logaddexp.reduce(mel, axis=1)
    return level >= level.max() - top_db


def mfcc_stats(mel: np.ndarray, cfg: MFCCConfig | None = None) -> np.ndarray | None:
    """``[mean, std]`` of the MFCCs of the active frames (``2 * n_mfcc``); None if silent.

    A mel that is digitally silent (every frame at the analysis floor) has no timbre.
    """
    cfg = cfg or MFCCConfig()
    mel = np.asarray(mel, dtype=np.float64)
    if mel.size == 0 or float(mel.max() - mel.min()) < 1e-6:
        return None
    coeffs = mfcc_from_log_mel(mel, cfg.n_mfcc)[active_frames(mel, cfg.top_db)]
    return np.concatenate([coeffs.mean(axis=0), coeffs.std(axis=0)])


# Statistics per (file, version, settings), shared by every cache of the process
# (mfcc_similarity and reference_match read the same references and originals).
_STATS: dict[tuple, np.ndarray | None] = {}


class MFCCCache:
    """MFCC statistics per audio file, computed once per file version and settings."""

    def __init__(self, cfg: MFCCConfig) -> None:
        self.cfg = cfg
        self._stats = _STATS
        self._mel_cfg = MelConfig(sample_rate=cfg.sample_rate)

    def stats(self, path: Path) -> np.ndarray | None:
        path = Path(path)
        key = (*file_version(path), self.cfg.sample_rate, self.cfg.n_mfcc, self.cfg.top_db)
        if key not in self._stats:
            wav = load(path, self.cfg.sample_rate)
            if wav.size <= self._mel_cfg.n_fft:
                raise InputError(path, f"{wav.size} samples: too short to analyse")
            self._stats[key] = mfcc_stats(log_mel(wav, self._mel_cfg), self.cfg)
        return self._stats[key]

    def mean(self, path: Path) -> np.ndarray | None:
        """The MFCC-mean vector (``n_mfcc``) of a file; None if silent."""
        s = self.stats(path)
        return None if s is None else s[: self.cfg.n_mfcc]


@dataclass
class MFCCSimilarityConfig(MFCCConfig):
    pass


@SCORERS.register("mfcc_similarity", config=MFCCSimilarityConfig)
class MFCCSimilarityScorer(LeakageScorer):
    """Cosine of MFCC-mean vectors: output vs reference, output vs the video's original."""

    prefix = "mfcc"

    def __init__(self, cfg: MFCCSimilarityConfig | None = None) -> None:
        self.cfg = cfg or MFCCSimilarityConfig()
        self.cache = MFCCCache(self.cfg)

    def vector(self, path: Path) -> np.ndarray | None:
        return self.cache.mean(path)

    def describe(self) -> str:
        return (
            f"MFCC similarity: cosine of MFCC-mean vectors (c1-c{self.cfg.n_mfcc}, DCT of the "
            f"80-band log-mel in dB, frames within {self.cfg.top_db:g} dB of the loudest), output "
            "vs reference and vs the video's original audio; leakage = orig - ref (cross pairs "
            "only); silent output scores 0"
        )
