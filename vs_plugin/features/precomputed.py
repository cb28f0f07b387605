"""Video features computed elsewhere (REGNET / SpecVQGAN release per-clip RGB and flow arrays).

For a clip ``<name>.mp4`` it reads ``<rgb_dir>/<name>.npy`` and ``<flow_dir>/<name>.npy``
(each ``(T, 1024)`` at 21.5 fps in those releases), concatenates them on the feature axis and
fits them to the clip's frame count (cropped, or padded by repeating the last row). REGNET
ships pickles (``.pkl``); those are read only with ``trust_pickles=True``, since unpickling a
file can run arbitrary code.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vs_plugin.errors import InputError
from vs_plugin.interfaces import VideoFeature
from vs_plugin.registry import VIDEO_FEATURES


@dataclass
class PrecomputedConfig:
    rgb_dir: str = ""
    flow_dir: str = ""  # empty: RGB arrays only
    dim: int = 2048  # total dims after concatenation (checked)
    fps: float = 21.5
    trust_pickles: bool = False
    max_length_mismatch: int = 3  # frames of difference tolerated before an error


def _load_array(path: Path, trust_pickles: bool) -> np.ndarray:
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InputError(path, f"not a plain numpy array ({exc})") from None
    else:
        if not trust_pickles:
            raise InputError(
                path, "is a pickle; pass trust_pickles=true (--trust-pickles true) to read it"
            )
        with open(path, "rb") as f:
            arr = pickle.load(f)  # noqa: S301 - opted in by the user
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim != 2:
        raise InputError(path, f"expected a (frames, dims) array, got shape {arr.shape}")
    return arr


@VIDEO_FEATURES.register("precomputed", config=PrecomputedConfig)
class PrecomputedVideoFeature(VideoFeature):
    """Reads per-clip feature arrays computed elsewhere (npy; pickles only when trusted)."""

    needs_frames = False  # only the number of frames of the clip is used

    def __init__(self, cfg: PrecomputedConfig) -> None:
        if not cfg.rgb_dir:
            raise InputError(None, "precomputed video features: set rgb_dir (and flow_dir)")
        self.cfg = cfg
        self.dim = cfg.dim
        self.fps = cfg.fps
        self.dirs = [Path(d) for d in (cfg.rgb_dir, cfg.flow_dir) if d]
        for d in self.dirs:
            if not d.is_dir():
                raise InputError(d, "feature directory not found")

    def _find(self, folder: Path, names: list[str]) -> Path:
        suffixes = (".npy", ".pkl", ".pickle") if self.cfg.trust_pickles else (".npy", ".pkl")
        for name in names:
            for suffix in suffixes:
                p = folder / f"{name}{suffix}"
                if p.is_file():
                    return p
        raise InputError(folder / f"{names[0]}.npy", "no precomputed features for this clip")

    def __call__(self, frames: np.ndarray, *, source: str | Path | None = None) -> np.ndarray:
        if source is None:
            raise InputError(None, "precomputed video features need the clip's name (source)")
        names = list(dict.fromkeys([Path(source).stem, Path(source).name]))
        parts = [_load_array(self._find(d, names), self.cfg.trust_pickles) for d in self.dirs]
        t = min(p.shape[0] for p in parts)
        feats = np.concatenate([p[:t] for p in parts], axis=1)
        if feats.shape[1] != self.dim:
            raise InputError(
                source, f"precomputed features have {feats.shape[1]} dims, config says {self.dim}"
            )
        want = len(frames) if frames is not None and len(frames) else t
        if abs(want - t) > self.cfg.max_length_mismatch:
            raise InputError(source, f"precomputed features have {t} frames, clip has {want}")
        if t < want:
            feats = np.concatenate([feats, np.repeat(feats[-1:], want - t, axis=0)])
        return feats[:want]
