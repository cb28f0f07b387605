"""Scorers that compare a per-file vector: output vs reference, output vs the original.

A timbre description (MFCC statistics, a sound-effects embedding, ...) of the generated clip is
compared by cosine with that of the reference and, on cross pairs, with that of the video's own
original sound track. ``<prefix>_leakage = <prefix>_sim_orig - <prefix>_sim_ref``: below 0,
the output is nearer the requested timbre than the sound the video came with.
"""

from __future__ import annotations

import abc
import math
from pathlib import Path

import numpy as np

from vs_plugin.errors import InputError
from vs_plugin.interfaces import Scorer, ScoringItem


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Cosine similarity; 0 when either side has no vector (a silent clip)."""
    if a is None or b is None:
        return 0.0
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / den) if den > 0 else 0.0


def is_cross(item: ScoringItem) -> bool:
    """True when the reference is another clip than the video's own."""
    if item.reference is None or item.original is None:
        return False
    return bool(item.extra.get("cross", item.reference != item.original))


class LeakageScorer(Scorer, abc.ABC):
    """``<prefix>_sim_ref``, ``<prefix>_sim_orig`` and ``<prefix>_leakage`` of :meth:`vector`.

    Subclasses set ``prefix`` and implement ``vector(path) -> (D,) array or None (silent)``.
    A silent reference is an error naming the file; a silent output scores 0.
    """

    prefix: str = ""
    requires = ("generated", "reference")

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.prefix:
            cls.lower_is_better = {
                f"{cls.prefix}_sim_ref": False,
                f"{cls.prefix}_sim_orig": True,
                f"{cls.prefix}_leakage": True,
            }

    @abc.abstractmethod
    def vector(self, path: Path) -> np.ndarray | None: ...

    def similarity(self, a: Path, b: Path) -> float:
        """Cosine of the two files' vectors (0 if either is silent)."""
        return cosine(self.vector(a), self.vector(b))

    def score(self, item: ScoringItem) -> dict[str, float]:
        p = self.prefix
        out = dict.fromkeys(self.lower_is_better, math.nan)
        if item.reference is None:
            return out
        ref = self.vector(item.reference)
        if ref is None:
            raise InputError(item.reference, "reference audio is silent: no timbre to compare")
        gen = self.vector(item.generated)
        out[f"{p}_sim_ref"] = cosine(gen, ref)
        if is_cross(item):
            out[f"{p}_sim_orig"] = cosine(gen, self.vector(item.original))
            out[f"{p}_leakage"] = out[f"{p}_sim_orig"] - out[f"{p}_sim_ref"]
        return out
