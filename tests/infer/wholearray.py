"""The whole-array inference steps as they were before the sound was streamed.

Kept verbatim as the reference the streaming code (``OverlapAdder``, ``FrameStretcher``,
``ChunkedVocoder``, ``iter_mel``, ``stream_sound``) and the functions now built on it must
equal: each holds its whole input and output, so memory grows with the video's length.
"""

from __future__ import annotations

import numpy as np

from vs_plugin.infer.generation import GenerationConfig, crop_reference, generate_batch
from vs_plugin.infer.windows import fade_weights, plan_windows
from vs_plugin.interfaces import Vocoder
from vs_plugin.models.varietysound import VarietySoundModel


def overlap_add(pieces: list[np.ndarray], starts: list[int], length: int, fade: int) -> np.ndarray:
    """Blend ``pieces`` (each ``(n_i, ...)``) placed at ``starts`` into ``(length, ...)``."""
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


def generate_mel(
    model: VarietySoundModel, video: np.ndarray, ref_mel: np.ndarray, cfg: GenerationConfig
) -> np.ndarray:
    """Raw log-mel ``(upsample * T, n_mels)`` of one clip (silent background, no noise)."""
    up = model.upsample
    ref = crop_reference(ref_mel, cfg.max_reference_frames)
    starts = plan_windows(len(video), cfg.window, cfg.overlap)
    size = min(cfg.window, len(video))
    pieces: list[np.ndarray] = []
    for i in range(0, len(starts), max(1, cfg.batch_size)):
        group = starts[i : i + max(1, cfg.batch_size)]
        videos = [video[s : s + size] for s in group]
        pieces += generate_batch(model, videos, [ref] * len(group), None, cfg)
    if len(pieces) == 1:
        return pieces[0]
    return overlap_add(pieces, [s * up for s in starts], len(video) * up, cfg.overlap * up)


def stretch_frames(mel: np.ndarray, frames: int) -> np.ndarray:
    """Linearly resample the time axis to ``frames``."""
    if frames == len(mel):
        return mel
    src = np.linspace(0.0, len(mel) - 1, frames)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, len(mel) - 1)
    frac = (src - lo)[:, None]
    return ((1 - frac) * mel[lo] + frac * mel[hi]).astype(mel.dtype)


def vocode(vocoder: Vocoder, mel: np.ndarray, chunk: int = 2580, overlap: int = 32) -> np.ndarray:
    """Raw log-mel ``(frames, n_mels)`` -> ``(frames * hop,)`` float32 waveform."""
    mel = np.asarray(mel, dtype=np.float32)
    hop = vocoder.hop_length
    starts = plan_windows(len(mel), chunk, overlap)
    pieces = []
    for s in starts:
        wav = np.asarray(vocoder(mel[s : s + chunk]), dtype=np.float32)
        n = min(len(mel) - s, chunk) * hop
        pieces.append(np.pad(wav[:n], (0, max(0, n - len(wav)))))
    if len(pieces) == 1:
        return pieces[0]
    return overlap_add(pieces, [s * hop for s in starts], len(mel) * hop, overlap * hop)
