"""Overlapping windows and cross-fades: long inputs processed in bounded memory.

The generator was trained on fixed-length clips and the vocoder's memory grows with its input,
so long videos are cut into overlapping windows whose outputs are blended with linear
cross-fades over the overlaps (weights are normalised, so any overlap >= the fade is fine).
:class:`OverlapAdder` blends them as they come, holding only the overlap still to blend;
:func:`overlap_add` is the same for pieces already all in memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


class OverlapAdder:
    """:func:`overlap_add` fed one piece at a time, returning the output as it is finished.

    ``starts`` (in order, one per piece) and ``length`` are known up front, so the fades are
    those of the whole-array blend (no fade in before the first piece, none out after the
    last) and, once piece ``i`` is in, every output item before ``starts[i + 1]`` is final.
    Only the part of the output that later pieces still reach is held (in float64, as in
    :func:`overlap_add`): memory is bounded by one piece, not by ``length``.

    ``add(piece)`` takes the next ``(n_i, ...)`` piece and returns the newly finished items
    ``(k, ...)`` in the first piece's dtype (``k`` may be 0); after the last piece the
    returned items add up to ``(length, ...)``, equal to :func:`overlap_add`'s result.
    Raises ValueError for starts out of order, a piece too many, or items no piece covers.
    """

    def __init__(self, starts: Sequence[int], length: int, fade: int) -> None:
        if not starts:
            raise ValueError("overlap_add needs one start per piece and at least one piece")
        if any(b < a for a, b in zip(starts, starts[1:])):
            raise ValueError(f"piece starts must be in order, got {list(starts)}")
        self.starts = [int(s) for s in starts]
        self.length = int(length)
        self.fade = int(fade)
        self.added = 0  # pieces taken so far
        self.done = 0  # output items returned so far; row 0 of the buffers is this item
        self._sum: np.ndarray | None = None  # weighted sums, float64 (held, ...)
        self._weight = np.zeros(0, dtype=np.float64)  # summed weights (held,)
        self._dtype: np.dtype | None = None

    @property
    def held(self) -> int:
        """Output items held (summed but not yet final): at most one piece's length."""
        return len(self._weight)

    @property
    def finished(self) -> bool:
        """True once every piece is in (and so the whole output returned)."""
        return self.added == len(self.starts)

    def add(self, piece: np.ndarray) -> np.ndarray:
        """Blend the next piece in; return the output items that are now final."""
        i, last = self.added, len(self.starts) - 1
        if i > last:
            raise ValueError(f"more pieces than the {len(self.starts)} starts planned")
        piece = np.asarray(piece)
        if self._sum is None:
            self._sum = np.zeros((0, *piece.shape[1:]), dtype=np.float64)
            self._dtype = piece.dtype
        start = self.starts[i]
        n = max(0, min(len(piece), self.length - start))
        w = fade_weights(n, self.fade if i > 0 else 0, self.fade if i < last else 0)
        lo, hi = start - self.done, start + n - self.done
        self._hold(hi)
        self._sum[lo:hi] += piece[:n] * w.reshape(-1, *([1] * (piece.ndim - 1)))
        self._weight[lo:hi] += w
        self.added += 1
        upto = self.length if i == last else min(self.starts[i + 1], self.length)
        return self._emit(upto - self.done)

    def _hold(self, rows: int) -> None:
        """Grow the buffers (with zeros) to hold at least ``rows`` items from ``done`` on."""
        extra = rows - len(self._weight)
        if extra > 0:
            pad = np.zeros((extra, *self._sum.shape[1:]), dtype=np.float64)
            self._sum = np.concatenate([self._sum, pad])
            self._weight = np.concatenate([self._weight, np.zeros(extra, dtype=np.float64)])

    def _emit(self, k: int) -> np.ndarray:
        """Normalise and return the first ``k`` held items, dropping them from the buffers."""
        k = max(0, k)
        self._hold(k)
        weight = self._weight[:k]
        if np.any(weight == 0):
            raise ValueError("the windows do not cover the whole output")
        out = (self._sum[:k] / weight.reshape(-1, *([1] * (self._sum.ndim - 1)))).astype(
            self._dtype
        )
        self._sum, self._weight = self._sum[k:].copy(), self._weight[k:].copy()
        self.done += k
        return out


def overlap_add(pieces: list[np.ndarray], starts: list[int], length: int, fade: int) -> np.ndarray:
    """Blend ``pieces`` (each ``(n_i, ...)``) placed at ``starts`` into ``(length, ...)``.

    Each piece is weighted by :func:`fade_weights` (a ``fade``-long ramp where it meets a
    neighbour) and the sum divided by the summed weights; the result has the first piece's
    dtype. ``starts`` must be in order (as :func:`plan_windows` gives them). Raises
    ValueError for mismatched arguments or output items that no piece covers. The whole
    output at once; :class:`OverlapAdder` gives it piece by piece in bounded memory.
    """
    if not pieces or len(pieces) != len(starts):
        raise ValueError("overlap_add needs one start per piece and at least one piece")
    adder = OverlapAdder(starts, length, fade)
    return np.concatenate([adder.add(piece) for piece in pieces])
