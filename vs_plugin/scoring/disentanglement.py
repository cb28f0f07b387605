"""Disentanglement on corpora with ground truth (the built-in synthetic corpus).

For a cross pair (video A, reference B) the ideal output exists: A's events rendered in B's
timbre (``ScoringItem.ideal``). This scorer reports how far the output is from it, whether
it keeps A's timing, and whether its timbre follows B or leaks from A's own sound, which the
model never hears at inference but which shaped its training targets. No published system
reports these numbers; they are this project's diagnostics, only as meaningful as the
synthetic corpus is for the real task.

Metrics:
- ``ideal_logmel_l1``: mean |log-mel(output) - log-mel(ideal)| (the model's 80-band analysis,
  natural log), both floored ``floor_db`` below the pair's loudest bin so that inaudible
  noise floors (the ideal is digitally silent between events) do not dominate;
- ``ideal_mcd``: MCD (dB) to the ideal (the ``mcd`` scorer's defaults);
- ``onset_f1``: onset F1 against A's events at ``tolerance``;
- ``timbre_sim_ref`` / ``timbre_sim_orig``: Resemblyzer cosine to B (the reference) and to A's
  original audio; ``timbre_leakage`` = orig - ref (above 0: the output sounds more like the
  video's own sound than like the requested timbre); ``ideal_leakage``: the same difference
  for the ideal output, what a perfect system would get (the two timbres may be close).
  Timbre metrics are NaN on pairs whose video is its own reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vs_plugin.audio.mel import log_mel
from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.audio import load
from vs_plugin.scoring.mcd import MCDConfig, mcd
from vs_plugin.scoring.onset import OnsetConfig, OnsetScorer, onset_metrics, onsets_of
from vs_plugin.scoring.timbre import TimbreSimilarityConfig, TimbreSimilarityScorer


def floored_l1(a: np.ndarray, b: np.ndarray, floor_db: float = 60.0) -> float:
    """Mean |a - b| of two raw log-mels ``(frames, n_mels)``, both floored ``floor_db`` below
    their joint maximum, over the shorter one's frames.

    Inaudible floors (an ideal output is digitally silent between events) do not dominate.
    """
    n = min(len(a), len(b))
    floor = max(float(a.max()), float(b.max())) - floor_db / 20.0 * np.log(10.0)
    return float(np.abs(np.maximum(a[:n], floor) - np.maximum(b[:n], floor)).mean())


@dataclass
class DisentanglementConfig:
    sample_rate: int = 22050
    tolerance: float = 0.05  # s; onset F1 window
    vad_trim: bool = False  # Resemblyzer preprocessing, as in the timbre_similarity scorer
    floor_db: float = 60.0  # log-mel dynamic range kept for the L1 distance


@SCORERS.register("disentanglement", config=DisentanglementConfig)
class DisentanglementScorer(Scorer):
    """Distance to the ideal output, timing vs the video, timbre leakage (synthetic corpus)."""

    requires = ("generated", "ideal", "reference", "original")
    lower_is_better = {
        "ideal_logmel_l1": True,
        "ideal_mcd": True,
        "onset_f1": False,
        "timbre_sim_ref": False,
        "timbre_sim_orig": True,
        "timbre_leakage": True,
        "ideal_leakage": True,
    }

    def __init__(self, cfg: DisentanglementConfig | None = None) -> None:
        self.cfg = cfg or DisentanglementConfig()
        self.mcd_cfg = MCDConfig(sample_rate=self.cfg.sample_rate, against="ideal")
        self.onset_cfg = OnsetConfig(sample_rate=self.cfg.sample_rate, tolerance=self.cfg.tolerance)
        self.onsets = OnsetScorer(self.onset_cfg)
        self.timbre = TimbreSimilarityScorer(TimbreSimilarityConfig(vad_trim=self.cfg.vad_trim))

    def score(self, item: ScoringItem) -> dict[str, float]:
        sr = self.cfg.sample_rate
        out = dict.fromkeys(self.lower_is_better, math.nan)
        gen = load(item.generated, sr)
        if item.ideal is not None:
            ideal = load(item.ideal, sr)
            out["ideal_logmel_l1"] = floored_l1(log_mel(gen), log_mel(ideal), self.cfg.floor_db)
            out["ideal_mcd"] = mcd(gen, ideal, self.mcd_cfg)
        ref = self.onsets.reference_events(item)
        if ref is not None:
            est, conf = onsets_of(item.generated, self.onset_cfg)
            out["onset_f1"] = onset_metrics(ref[0], est, conf, self.onset_cfg)["onset_f1"]
        cross = (
            item.reference is not None
            and item.original is not None
            and (item.extra.get("cross", item.reference != item.original))
        )
        if cross:
            sim_ref = self.timbre.similarity(item.generated, item.reference)
            sim_orig = self.timbre.similarity(item.generated, item.original)
            out |= {
                "timbre_sim_ref": sim_ref,
                "timbre_sim_orig": sim_orig,
                "timbre_leakage": sim_orig - sim_ref,
            }
            if item.ideal is not None:
                out["ideal_leakage"] = self.timbre.similarity(
                    item.ideal, item.original
                ) - self.timbre.similarity(item.ideal, item.reference)
        return out

    def describe(self) -> str:
        return (
            "disentanglement (this project's diagnostic, not a published metric; needs the "
            f"synthetic corpus's ground truth): log-mel L1 ({self.cfg.floor_db:g} dB range) "
            "and MCD to the ideal output (video's "
            f"events in the reference's timbre), onset F1 at {self.cfg.tolerance * 1000:g} ms vs "
            "the video's events, Resemblyzer similarity to reference vs to the video's original "
            f"audio (leakage = orig - ref; VAD trim {'on' if self.cfg.vad_trim else 'off'})"
        )
