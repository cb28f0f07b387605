"""From raw features to a raw log-mel with an exported model (normalise, run, invert).

Inputs and outputs are Kaldi-order numpy arrays ``(frames, dims)`` of raw (un-normalised)
values, the form they have on disk; the model (``VarietySoundModel``) normalises with its
own statistics. Videos longer than ``window`` frames go through overlapping windows (see
``windows``) and long references are cropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from vs_plugin.errors import InputError
from vs_plugin.infer.windows import OverlapAdder, plan_windows
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


class FrameSource(Protocol):
    """Rows of raw video features ``(T, dim)`` read by slices: a numpy array, or a file."""

    def __len__(self) -> int: ...

    def __getitem__(self, rows: slice, /) -> np.ndarray: ...


def iter_mel(
    model: VarietySoundModel,
    video: FrameSource,
    ref_mel: np.ndarray,
    bg_mel: np.ndarray | None = None,
    cfg: GenerationConfig | None = None,
) -> Iterator[np.ndarray]:
    """:func:`generate_mel`'s log-mel in consecutive blocks, in memory bounded by a batch.

    Yields float32 blocks ``(k, n_mels)`` that add up to ``upsample * T`` frames: after each
    window is generated, the frames before the next window's start are final
    (:class:`~vs_plugin.infer.windows.OverlapAdder`). ``video`` is only read one batch of
    windows at a time (``video[s : s + window]``), so it may be a file on disk. Raises
    InputError for a video without frames (on the first ``next``).
    """
    cfg = cfg or GenerationConfig()
    frames = len(video)
    if frames == 0:
        raise InputError(None, "the video has no frames")
    up = model.upsample
    ref = crop_reference(ref_mel, cfg.max_reference_frames)
    starts = plan_windows(frames, cfg.window, cfg.overlap)
    size = min(cfg.window, frames)
    batch = max(1, cfg.batch_size)
    if cfg.drop_temporal == "noise" or cfg.drop_timbre == "noise":
        torch.manual_seed(cfg.seed)
    adder = OverlapAdder([s * up for s in starts], frames * up, cfg.overlap * up)
    for i in range(0, len(starts), batch):
        group = starts[i : i + batch]
        videos = [video[s : s + size] for s in group]
        bgs = None
        if bg_mel is not None:
            bgs = [fit_frames(bg_mel[s * up : (s + size) * up], size * up) for s in group]
        for piece in generate_batch(model, videos, [ref] * len(group), bgs, cfg):
            block = adder.add(piece)
            if len(block):
                yield block


def generate_mel(
    model: VarietySoundModel,
    video: np.ndarray,
    ref_mel: np.ndarray,
    bg_mel: np.ndarray | None = None,
    cfg: GenerationConfig | None = None,
) -> tuple[np.ndarray, int]:
    """One clip of any length -> (raw log-mel ``(upsample * T, n_mels)``, windows used).

    ``bg_mel`` (raw, ``upsample * T`` frames) adds the background back (an ablation); by
    default the background is silent, as in the paper's inference. The whole mel at once;
    :func:`iter_mel` gives the same frames block by block.
    """
    cfg = cfg or GenerationConfig()
    blocks = list(iter_mel(model, video, ref_mel, bg_mel, cfg))
    windows = len(plan_windows(len(video), cfg.window, cfg.overlap))
    return (blocks[0] if len(blocks) == 1 else np.concatenate(blocks)), windows


def fit_frames(x: np.ndarray, frames: int) -> np.ndarray:
    """Crop or edge-pad ``x`` to ``frames`` rows (a background shorter than the video)."""
    if len(x) >= frames:
        return x[:frames]
    return np.pad(x, ((0, frames - len(x)), (0, 0)), mode="edge")


class FrameStretcher:
    """:func:`stretch_frames` applied block by block: ``in_frames`` -> ``out_frames`` rows.

    Both lengths are known up front, so output row ``j`` sits at input position
    ``j * (in_frames - 1) / (out_frames - 1)`` (the last one exactly at ``in_frames - 1``)
    as in the whole-array version, and is returned as soon as the two input rows around it
    have arrived. Only those rows are held between calls.

    ``push(block)`` takes the next ``(k, ...)`` input rows and returns the output rows now
    final; once all ``in_frames`` are in, they add up to ``(out_frames, ...)`` with the
    values of ``stretch_frames(whole, out_frames)``. ``finish()`` checks that every input row
    came (ValueError otherwise); more rows than ``in_frames`` are a ValueError too.
    """

    def __init__(self, in_frames: int, out_frames: int) -> None:
        if in_frames < 0 or out_frames < 0 or (in_frames == 0 and out_frames > 0):
            raise ValueError(f"cannot stretch {in_frames} frames to {out_frames}")
        self.in_frames, self.out_frames = int(in_frames), int(out_frames)
        self.received = 0  # input rows pushed so far
        self.returned = 0  # output rows returned so far
        self._step = (in_frames - 1) / (out_frames - 1) if out_frames > 1 else 0.0
        self._held: np.ndarray | None = None  # input rows from self._base on
        self._base = 0

    @property
    def held(self) -> int:
        """Input rows held for outputs still to come: at most 3 (all, for one output row)."""
        return 0 if self._held is None else len(self._held)

    def _positions(self, a: int, b: int) -> np.ndarray:
        """Input positions of output rows ``a..b-1`` (``np.linspace``'s values)."""
        src = np.arange(a, b, dtype=np.float64) * self._step
        if b == self.out_frames and b > 1 and b > a:
            src[-1] = self.in_frames - 1
        return src

    def push(self, block: np.ndarray) -> np.ndarray:
        """Take the next input rows; return the output rows that are now final."""
        block = np.asarray(block)
        self.received += len(block)
        if self.received > self.in_frames:
            raise ValueError(f"more than the {self.in_frames} frames announced")
        if self.in_frames == self.out_frames:  # nothing to resample
            self.returned += len(block)
            return block
        held = block
        if self._held is not None and len(self._held):
            held = np.concatenate([self._held, block])
        end = self._ready()
        src = self._positions(self.returned, end)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, self.in_frames - 1)
        frac = (src - lo).reshape(-1, *([1] * (held.ndim - 1)))
        out = ((1 - frac) * held[lo - self._base] + frac * held[hi - self._base]).astype(held.dtype)
        self.returned = end
        # the next output row needs input from floor(its position) on (less 1 for rounding)
        keep = self.received
        if end < self.out_frames:
            keep = min(keep, max(self._base, int(end * self._step) - 1))
        self._held = held[keep - self._base :].copy()
        self._base = keep
        return out

    def _ready(self) -> int:
        """End (exclusive) of the output rows whose two input rows have arrived."""
        if self.received == self.in_frames:
            return self.out_frames
        if self._step == 0:  # every row sits at position 0: wait for the whole input
            return self.returned
        # row j needs rows floor(src_j) and floor(src_j) + 1: final while src_j < received - 1
        guess = min(self.out_frames, int((self.received - 1) / self._step) + 2)
        src = self._positions(self.returned, max(guess, self.returned))
        return self.returned + int(np.searchsorted(src, self.received - 1, side="left"))

    def finish(self) -> None:
        """Raise ValueError unless all ``in_frames`` came and all ``out_frames`` went out."""
        if self.received != self.in_frames or self.returned != self.out_frames:
            raise ValueError(
                f"stretched {self.received} of {self.in_frames} frames into {self.returned} "
                f"of {self.out_frames}"
            )


def stretch_frames(mel: np.ndarray, frames: int) -> np.ndarray:
    """Linearly resample the time axis to ``frames`` (match the video's exact duration).

    Video frames come at 21.5 fps while 4 mel frames last 4 * 256 / 22050 s (21.53 fps): over
    minutes the sound would drift ahead of the picture without this 0.15 % stretch. ``mel``
    ``(n, ...)`` -> ``(frames, ...)`` of its dtype (``mel`` itself when ``frames == n``);
    :class:`FrameStretcher` gives the same rows block by block.
    """
    if frames == len(mel):
        return mel
    stretcher = FrameStretcher(len(mel), frames)
    out = stretcher.push(mel)
    stretcher.finish()
    return out
