"""Audio loading for the scorers, with a small per-process cache.

Every scorer reads the same few files per utterance (the generated clip, its reference, the
original track), and references repeat across utterances; decoding once saves most of the
time that ffmpeg start-up would otherwise take. A lossless mono file at another rate than the
scorer's (a 22.05 kHz output for Resemblyzer's 16 kHz) is read directly and resampled here
with soxr (``librosa.resample``, the resampler Resemblyzer's own ``preprocess_wav`` uses)
instead of by an ffmpeg process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from vs_plugin.audio.io import load_audio, lossless_rate
from vs_plugin.errors import InputError


@lru_cache(maxsize=256)
def _cached(path: str, mtime_ns: int, sample_rate: int) -> np.ndarray:
    rate = lossless_rate(Path(path))
    if rate is None or rate == sample_rate:
        return load_audio(path, sample_rate)
    import librosa

    wav = load_audio(path, rate)
    return librosa.resample(wav, orig_sr=rate, target_sr=sample_rate).astype(np.float32)


def file_version(path: str | Path) -> tuple[str, int]:
    """``(path, mtime_ns)``: the key under which the scorers cache what they compute from a
    file, so that a rewritten file is analysed again. InputError naming a missing file."""
    path = Path(path)
    try:
        return str(path), path.stat().st_mtime_ns
    except FileNotFoundError:
        raise InputError(path, "file not found") from None


def load(path: str | Path, sample_rate: int = 22050) -> np.ndarray:
    """Mono float32 waveform of ``path`` at ``sample_rate`` (cached: do not modify it)."""
    return _cached(*file_version(path), sample_rate)


def require(path: Path | None, what: str, utt: str) -> Path:
    """``path`` or an error saying which input the scorer needed for ``utt``."""
    if path is None:
        raise InputError(None, f"{utt}: the scorer needs the {what} audio, which is not set")
    return path
