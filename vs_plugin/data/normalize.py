"""Per-corpus feature normalisation (mean/scale per channel) with scikit-learn's StandardScaler.

Fitted incrementally (``partial_fit``) over the training set's arrays, stored as an npz with
``mean`` and ``scale``, applied by the dataset and inverted before vocoding. ``transform`` and
``inverse`` take numpy arrays or torch tensors, shaped ``(T, C)`` (Kaldi order, channels
last) or ``(B, C, T)`` (model order, channels on axis 1); other layouts name ``channel_axis``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from vs_plugin.utils.files import atomic_path

ArrayLike = TypeVar("ArrayLike", np.ndarray, torch.Tensor)


class Normalizer:
    """``(x - mean) / scale`` per channel, and its inverse."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.scale = np.asarray(scale, dtype=np.float64).reshape(-1)
        if self.mean.shape != self.scale.shape:
            raise ValueError(f"mean {self.mean.shape} and scale {self.scale.shape} differ")
        if np.any(self.scale <= 0) or not np.all(np.isfinite(self.scale)):
            raise ValueError("scale must be positive and finite")

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    @classmethod
    def fit(cls, arrays: Iterable[np.ndarray]) -> Normalizer:
        """Fit over ``(T, C)`` arrays one at a time (memory stays one array)."""
        # imported here: scikit-learn takes about a second to import, and inference (which
        # only loads statistics) never fits any
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler()
        seen = False
        for a in arrays:
            scaler.partial_fit(np.asarray(a, dtype=np.float64))
            seen = True
        if not seen:
            raise ValueError("cannot fit normalisation statistics on no data")
        # StandardScaler sets scale 1 for constant channels, so the inverse stays defined
        return cls(scaler.mean_, scaler.scale_)

    def save(self, path: str | Path) -> Path:
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, mean=self.mean, scale=self.scale)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Normalizer:
        with np.load(path, allow_pickle=False) as z:
            return cls(z["mean"], z["scale"])

    def _shaped(self, x: ArrayLike, channel_axis: int | None) -> tuple[ArrayLike, ArrayLike]:
        axis = channel_axis if channel_axis is not None else (1 if x.ndim == 3 else -1)
        axis = axis % x.ndim
        if x.shape[axis] != self.dim:
            raise ValueError(
                f"features have {x.shape[axis]} channels on axis {axis}; statistics have {self.dim}"
            )
        shape = [1] * x.ndim
        shape[axis] = self.dim
        if isinstance(x, torch.Tensor):
            dtype = x.dtype if x.is_floating_point() else torch.float32
            mean = torch.as_tensor(self.mean, dtype=dtype, device=x.device).view(shape)
            scale = torch.as_tensor(self.scale, dtype=dtype, device=x.device).view(shape)
            return mean, scale
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        return self.mean.astype(dtype).reshape(shape), self.scale.astype(dtype).reshape(shape)

    def transform(self, x: ArrayLike, channel_axis: int | None = None) -> ArrayLike:
        mean, scale = self._shaped(x, channel_axis)
        return (x - mean) / scale

    def inverse(self, x: ArrayLike, channel_axis: int | None = None) -> ArrayLike:
        mean, scale = self._shaped(x, channel_axis)
        return x * scale + mean
