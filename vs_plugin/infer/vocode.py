"""Mel -> waveform for any length: the vocoder runs on overlapping chunks (bounded memory)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vs_plugin.infer.windows import overlap_add, plan_windows
from vs_plugin.interfaces import Vocoder
from vs_plugin.registry import VOCODERS

# 30 s of mel per vocoder call: a 10 s clip (whose mel is stretched a few frames past 860 to
# match the video's duration) is one call, not two overlapping full-length ones.
CHUNK_FRAMES = 2580
OVERLAP_FRAMES = 32  # cross-faded frames between chunks (covers HiFi-GAN's edge effects)


def build_vocoder(spec: Any = "hifigan", device: str = "auto") -> Vocoder:
    """A registered vocoder by name or spec, moved to ``device`` (auto = CUDA when present)."""
    vocoder = VOCODERS.build(spec)
    return vocoder if device == "auto" else vocoder.to(device)


def vocode(
    vocoder: Vocoder,
    mel: np.ndarray,
    chunk: int = CHUNK_FRAMES,
    overlap: int = OVERLAP_FRAMES,
) -> np.ndarray:
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


def fit_length(wav: np.ndarray, samples: int) -> np.ndarray:
    """Trim or zero-pad to exactly ``samples``."""
    if len(wav) >= samples:
        return wav[:samples]
    return np.pad(wav, (0, samples - len(wav)))
