"""Overlapping windows and cross-fades: long inputs processed in bounded memory.

The generator was trained on fixed-length clips and the vocoder's memory grows with its input,
so long videos are cut into overlapping windows whose outputs are blended with linear
cross-fades over the overlaps (weights are normalised, so any overlap >= the fade is fine).
"""

from __future__ import annotations

import math

import numpy as np

from vs_plugin.errors import ConfigError


def plan_windows(length: int, window: int, overlap: int) -> list[int]:
    """Start indices of windows of ``window`` covering ``length`` with >= ``overlap`` overlap.

    One window when ``length <= window``; otherwise the fewest windows whose evenly spread
    starts keep every overlap at least ``overlap`` long.
    """
    if window <= 0 or not 0 <= overlap < window:
        raise ConfigError(f"need window > overlap >= 0, got window={window}, overlap={overlap}")
    if length <= window:
        return [0]
    n = math.ceil((length - overlap) / (window - overlap))
    return [round(i * (length - window) / (n - 1)) for i in range(n)]


def fade_weights(size: int, fade_in: int, fade_out: int) -> np.ndarray:
    """Ones with linear ramps (never exactly zero) over the first/last ``fade_*`` items."""
    w = np.ones(size, dtype=np.float64)
    if fade_in > 0:
        n = min(fade_in, size)
        w[:n] = np.minimum(w[:n], (np.arange(n) + 0.5) / fade_in)
    if fade_out > 0:
        n = min(fade_out, size)
        w[size - n :] = np.minimum(w[size - n :], ((np.arange(n) + 0.5) / fade_out)[::-1])
    return w


def overlap_add(pieces: list[np.ndarray], starts: list[int], length: int, fade: int) -> np.ndarray:
    """Blend ``pieces`` (each ``(n_i, ...)``) placed at ``starts`` into ``(length, ...)``."""
    if not pieces or len(pieces) != len(starts):
        raise ValueError("overlap_add needs one start per piece and at least one piece")
    out = np.zeros((length, *pieces[0].shape[1:]), dtype=np.float64)
    total = np.zeros(length, dtype=np.float64)
    last = len(pieces) - 1
    for i, (piece, start) in enumerate(zip(pieces, starts)):
        n = min(len(piece), length - start)
        w = fade_weights(n, fade if i > 0 else 0, fade if i < last else 0)
        out[start : start + n] += piece[:n] * w.reshape(-1, *([1] * (piece.ndim - 1)))
        total[start : start + n] += w
    if np.any(total == 0):
        raise ValueError("the windows do not cover the whole output")
    return (out / total.reshape(-1, *([1] * (out.ndim - 1)))).astype(pieces[0].dtype)
