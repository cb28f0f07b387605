"""From raw features to a raw log-mel with an exported model (normalise, run, invert).

Inputs and outputs are Kaldi-order numpy arrays ``(frames, dims)`` of raw (un-normalised)
values, the form they have on disk; the model (``VarietySoundModel``) normalises with its
own statistics. Videos longer than ``window`` frames go through overlapping windows (see
``windows``) and long references are cropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vs_plugin.errors import InputError
from vs_plugin.infer.windows import overlap_add, plan_windows
from vs_plugin.models.varietysound import VarietySoundModel

TRAIN_FRAMES = 215  # video frames per training clip (10 s at 21.5 fps)


@dataclass
class GenerationConfig:
    """How one clip is generated: windowing, reference crop and the Table 8 ablations."""

    window: int = TRAIN_FRAMES  # video frames per generator window
    overlap: int = 43  # video frames shared by neighbouring windows (2 s)
    batch_size: int = 8  # windows per generator call
    max_reference_frames: int = 4 * TRAIN_FRAMES  # longer references are cropped (10 s)
    drop_temporal: str | None = None  # None | "zeros" | "noise"
    drop_timbre: str | None = None
    seed: int = 0  # for the "noise" ablations


def _stack(arrays: list[np.ndarray], transpose: bool = False) -> torch.Tensor:
    """Equal-shaped ``(frames, dims)`` arrays -> float32 ``(B, frames, dims)``.

    ``transpose``: ``(B, dims, frames)`` instead (the model's mel layout).
    """
    rows = [np.asarray(x, np.float32) for x in arrays]
    return torch.from_numpy(np.stack([x.T if transpose else x for x in rows]))


def crop_reference(ref_mel: np.ndarray, max_frames: int) -> np.ndarray:
    """The loudest ``max_frames``-long stretch of a long reference (whole one if shorter)."""
    if max_frames <= 0 or len(ref_mel) <= max_frames:
        return ref_mel
    energy = np.exp(ref_mel.astype(np.float64)).sum(axis=1)
    csum = np.concatenate([[0.0], np.cumsum(energy)])
    sums = csum[max_frames:] - csum[:-max_frames]
    start = int(np.argmax(sums))
    return ref_mel[start : start + max_frames]


def generate_batch(
    model: VarietySoundModel,
    videos: list[np.ndarray],
    refs: list[np.ndarray],
    bgs: list[np.ndarray] | None = None,
    cfg: GenerationConfig | None = None,
) -> list[np.ndarray]:
    """Equal-shaped raw inputs -> raw log-mels ``(upsample * T, n_mels)``, one call."""
    cfg = cfg or GenerationConfig()
    bg = None if bgs is None else _stack(bgs, transpose=True)
    with torch.inference_mode():
        out = model(
            _stack(videos),
            _stack(refs, transpose=True),
            bg,
            drop_temporal=cfg.drop_temporal,
            drop_timbre=cfg.drop_timbre,
        )
    return [np.ascontiguousarray(o.T) for o in out.float().cpu().numpy()]


def generate_mel(
    model: VarietySoundModel,
    video: np.ndarray,
    ref_mel: np.ndarray,
    bg_mel: np.ndarray | None = None,
    cfg: GenerationConfig | None = None,
) -> tuple[np.ndarray, int]:
    """One clip of any length -> (raw log-mel ``(upsample * T, n_mels)``, windows used).

    ``bg_mel`` (raw, ``upsample * T`` frames) adds the background back (an ablation); by
    default the background is silent, as in the paper's inference.
    """
    cfg = cfg or GenerationConfig()
    if len(video) == 0:
        raise InputError(None, "the video has no frames")
    up = model.upsample
    ref = crop_reference(ref_mel, cfg.max_reference_frames)
    starts = plan_windows(len(video), cfg.window, cfg.overlap)
    size = min(cfg.window, len(video))
    if cfg.drop_temporal == "noise" or cfg.drop_timbre == "noise":
        torch.manual_seed(cfg.seed)
    pieces: list[np.ndarray] = []
    for i in range(0, len(starts), max(1, cfg.batch_size)):
        group = starts[i : i + max(1, cfg.batch_size)]
        videos = [video[s : s + size] for s in group]
        bgs = None
        if bg_mel is not None:
            bgs = [fit_frames(bg_mel[s * up : (s + size) * up], size * up) for s in group]
        pieces += generate_batch(model, videos, [ref] * len(group), bgs, cfg)
    if len(pieces) == 1:
        return pieces[0], 1
    mel = overlap_add(pieces, [s * up for s in starts], len(video) * up, cfg.overlap * up)
    return mel, len(starts)


def fit_frames(x: np.ndarray, frames: int) -> np.ndarray:
    """Crop or edge-pad ``x`` to ``frames`` rows (a background shorter than the video)."""
    if len(x) >= frames:
        return x[:frames]
    return np.pad(x, ((0, frames - len(x)), (0, 0)), mode="edge")


def stretch_frames(mel: np.ndarray, frames: int) -> np.ndarray:
    """Linearly resample the time axis to ``frames`` (match the video's exact duration).

    Video frames come at 21.5 fps while 4 mel frames last 4 * 256 / 22050 s (21.53 fps): over
    minutes the sound would drift ahead of the picture without this 0.15 % stretch.
    """
    if frames == len(mel):
        return mel
    src = np.linspace(0.0, len(mel) - 1, frames)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, len(mel) - 1)
    frac = (src - lo)[:, None]
    return ((1 - frac) * mel[lo] + frac * mel[hi]).astype(mel.dtype)
