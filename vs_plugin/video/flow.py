"""Dense optical flow between consecutive frames, as 2-channel uint8 "flow images".

Methods (OpenCV): ``tvl1`` (TV-L1 from opencv-contrib, what TSN-style pipelines used) and
``dis`` (DIS, ultrafast preset: far faster on CPU, default). Flow is computed on greyscale
frames resized to ``size`` (reduced resolution for speed); displacements are expressed in
pixels of that size, clipped to ``[-bound, bound]`` and mapped to 0..255 (128 = no motion),
as TSN's ``denseflow`` stored them. Frame t's flow is the motion from t to t+1; the last frame
repeats the previous flow so that there is one flow image per frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from vs_plugin.errors import ConfigError

METHODS = ("dis", "tvl1")


def _make(method: str):
    if method == "dis":
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    if method == "tvl1":
        return cv2.optflow.DualTVL1OpticalFlow_create()
    raise ConfigError(f"optical flow method must be one of {METHODS}, not {method!r}")


def flow_images(
    frames: np.ndarray,
    method: str = "dis",
    size: tuple[int, int] | None = (128, 170),
    bound: float = 20.0,
) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB -> ``(T, h, w, 2)`` uint8 flow images (x, y)."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected (T, H, W, 3) frames, got {frames.shape}")
    t = frames.shape[0]
    h, w = size if size is not None else frames.shape[1:3]
    grey = [
        cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (w, h), interpolation=cv2.INTER_AREA)
        for f in frames
    ]
    out = np.full((t, h, w, 2), 128, np.uint8)
    if t < 2:
        return out
    algo = _make(method)
    for i in range(t - 1):
        flow = algo.calc(grey[i], grey[i + 1], None)
        scaled = (np.clip(flow, -bound, bound) + bound) * (255.0 / (2 * bound))
        out[i] = np.round(scaled).astype(np.uint8)
    out[-1] = out[-2]
    return out
