"""Helpers shared by the video feature extractors: frame checks, batching, resizing."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from vs_plugin.errors import ConfigError


def check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
    if frames.shape[0] == 0:
        raise ValueError("no frames")
    return frames


def resize_images(images: np.ndarray, size: int, mode: str = "resize") -> np.ndarray:
    """``(N, H, W, C)`` -> ``(N, size, size, C)``.

    ``resize`` squeezes the whole frame to a square (a sound source at the frame's edge stays
    visible); ``center`` scales the short side to ``size`` and crops the middle (TSN style).
    """
    n, h, w, c = images.shape
    if mode == "center":
        scale = size / min(h, w)
        nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
        top, left = (nh - size) // 2, (nw - size) // 2
    elif mode == "resize":
        nh = nw = size
        top = left = 0
    else:
        raise ConfigError(f"crop mode must be 'resize' or 'center', not {mode!r}")
    out = np.empty((n, size, size, c), images.dtype)
    for i, img in enumerate(images):
        r = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
        out[i] = r.reshape(nh, nw, c)[top : top + size, left : left + size]
    return out


@torch.inference_mode()
def run_batched(
    net: Callable[[torch.Tensor], torch.Tensor],
    images: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    device: torch.device,
    batch_size: int,
    scale: float = 1.0 / 255.0,
) -> np.ndarray:
    """uint8 ``(N, H, W, C)`` -> float32 network outputs, ``batch_size`` images at a time."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    outs = []
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
        x = x.to(device).permute(0, 3, 1, 2).float().mul_(scale)
        x = ((x - mean_t) / std_t).contiguous(memory_format=torch.channels_last)
        outs.append(net(x).float().cpu())
    return torch.cat(outs).numpy()
