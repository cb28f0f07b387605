"""One-shots: recordings made usable as events, and event tracks rendered from them.

A recording from a package is decoded (any format libsndfile reads: wav, flac, aiff, ogg),
mixed to mono, resampled to the corpus rate, its leading silence trimmed (the attack lands on
the event time), cut to ``shot_seconds`` with a short fade-out and normalised to the peak
:data:`SHOT_PEAK`. Conditioned one-shots are 16-bit WAVs under the corpus root; clips name
them by path relative to that root.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from vs_plugin.data.synth.config import CLEAN_PEAK, SHOT_PEAK
from vs_plugin.errors import InputError
from vs_plugin.utils.files import atomic_path

log = logging.getLogger("vs_plugin.real_sfx")
SILENT_PEAK = 1e-4  # a recording whose peak is below this is treated as silent
ONSET_DB = -40.0  # leading samples below peak + ONSET_DB are leading silence
PRE_ROLL = 0.001  # seconds kept before the first sample above that
TAIL_DB = -60.0  # trailing samples below peak + TAIL_DB are dropped
FADE_OUT = 0.05  # seconds of fade at a cut
END_FADE = 0.005  # seconds of fade at every end (no click if the take stops abruptly)
MIN_SECONDS = 0.01


def _fade(x: np.ndarray, n: int) -> None:
    n = min(n, x.size)
    if n > 1:
        x[x.size - n :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n))


def condition(
    wav: np.ndarray, sr_in: int, sample_rate: int, max_seconds: float = 1.5
) -> np.ndarray | None:
    """A decoded recording -> a one-shot ``(n,)`` float32 at ``sample_rate``, or None if silent.

    ``wav`` is ``(n,)`` or ``(n, channels)`` at ``sr_in`` Hz. The result starts
    :data:`PRE_ROLL` before the attack, lasts at most ``max_seconds`` (a cut fades out over
    :data:`FADE_OUT`) and peaks at :data:`SHOT_PEAK`.
    """
    x = np.asarray(wav, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.size == 0 or not np.all(np.isfinite(x)):
        return None
    peak = float(np.max(np.abs(x)))
    if peak < SILENT_PEAK:
        return None
    if sr_in != sample_rate:
        x = soxr.resample(x, sr_in, sample_rate, quality="HQ")
        peak = float(np.max(np.abs(x)))
    loud = np.flatnonzero(np.abs(x) >= peak * 10 ** (ONSET_DB / 20))
    start = max(int(loud[0]) - int(round(PRE_ROLL * sample_rate)), 0)
    audible = np.flatnonzero(np.abs(x) >= peak * 10 ** (TAIL_DB / 20))
    x = x[start : int(audible[-1]) + 1].copy()
    limit = int(round(max_seconds * sample_rate))
    if x.size > limit:
        x = x[:limit]
        _fade(x, int(round(FADE_OUT * sample_rate)))
    _fade(x, int(round(END_FADE * sample_rate)))
    if x.size < MIN_SECONDS * sample_rate:
        return None
    peak = float(np.max(np.abs(x)))
    if peak < SILENT_PEAK:
        return None
    return (SHOT_PEAK * x / peak).astype(np.float32)


def make_shot(src: Path, dest: Path, sample_rate: int, max_seconds: float) -> bool:
    """Decode ``src``, condition it and write ``dest`` (16-bit WAV, atomically).

    Returns False (after a logged warning) for an unreadable or silent recording.
    """
    try:
        wav, sr_in = sf.read(str(src), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        log.warning("skipped unreadable recording %s (%s)", src, " ".join(str(exc).split()))
        return False
    shot = condition(wav, int(sr_in), sample_rate, max_seconds)
    if shot is None:
        log.warning("skipped silent recording %s", src)
        return False
    with atomic_path(dest, suffix=".wav") as tmp:
        sf.write(str(tmp), shot, sample_rate, subtype="PCM_16", format="WAV")
    return True


@functools.lru_cache(maxsize=256)
def _load_shot(path: str, mtime_ns: int, sample_rate: int) -> np.ndarray:
    try:
        wav, sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise InputError(path, f"unreadable one-shot ({' '.join(str(exc).split())})") from None
    x = wav.mean(axis=1)
    if sr != sample_rate:
        x = soxr.resample(x, sr, sample_rate, quality="HQ").astype(np.float32)
    x.setflags(write=False)
    return x


def load_shot(path: str | Path, sample_rate: int) -> np.ndarray:
    """A conditioned one-shot ``(n,)`` float32 at ``sample_rate`` (cached; read-only array).

    Raises InputError naming the file when it is missing or unreadable.
    """
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise InputError(path, "one-shot not found (was the corpus root moved?)") from None
    return _load_shot(str(path), mtime, int(sample_rate))


def pick_layer(u: float, n_layers: int) -> int:
    """The layer an event with draw ``u`` in [0, 1) plays among ``n_layers`` takes."""
    return min(int(u * n_layers), n_layers - 1)


def render_events(
    events: Sequence[float],
    gains_db: Sequence[float],
    picks: Sequence[float],
    shots: Sequence[np.ndarray],
    duration: float,
    sample_rate: int,
) -> np.ndarray:
    """``(round(duration * sample_rate),)`` float32: at each event time (seconds) one of
    ``shots`` (chosen by its draw in ``picks``, see :func:`pick_layer`) at its gain (dB),
    limited to the peak :data:`~vs_plugin.data.synth.config.CLEAN_PEAK`."""
    if not shots:
        raise ValueError("no one-shots to render")
    n = int(round(duration * sample_rate))
    out = np.zeros(n, dtype=np.float64)
    for t, g, u in zip(events, gains_db, picks, strict=True):
        i = int(round(float(t) * sample_rate))
        if 0 <= i < n:
            shot = shots[pick_layer(float(u), len(shots))][: n - i]
            out[i : i + shot.size] += 10 ** (float(g) / 20) * shot
    peak = float(np.max(np.abs(out))) if n else 0.0
    if peak > CLEAN_PEAK:
        out *= CLEAN_PEAK / peak
    return out.astype(np.float32)
