"""Audio decoding and writing; decoded audio is mono float32.

Decoding goes through ffmpeg, so any container, codec, rate and channel layout that the
machine's ffmpeg reads is accepted. A lossless file (PCM or float WAV, FLAC, AIFF) that is
already mono at the requested rate is read by libsndfile instead: the same samples (tested
bit for bit against ffmpeg), without two ffmpeg processes (about 0.2 s) per file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from vs_plugin.errors import InputError
from vs_plugin.io.ffmpeg_io import check_file, probe, run, source
from vs_plugin.utils.files import atomic_path


def load_audio(
    path: str | Path,
    sample_rate: int = 22050,
    *,
    duration: float | None = None,
    offset: float = 0.0,
) -> np.ndarray:
    """Decode the first audio stream of ``path`` to mono float32 at ``sample_rate``.

    Returns ``(n,)`` samples in [-1, 1] (float files may exceed it). Raises InputError naming
    ``path`` when it is missing, empty, has no audio stream, cannot be decoded, decodes to no
    samples or holds NaN/Inf samples.
    """
    path = Path(path)
    wav = None if offset or duration is not None else _read_lossless(path, sample_rate)
    if wav is not None:
        return _checked(wav, path)
    info = probe(path)
    if not any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
        raise InputError(path, "has no audio stream")
    input_kwargs = {"ss": offset} if offset else {}
    if duration is not None:
        input_kwargs["t"] = duration
    node = source(path, **input_kwargs).output(
        "pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=sample_rate, map="0:a:0"
    )
    out, _ = run(node, blame=path, what="audio could not be decoded")
    return _checked(np.frombuffer(out, dtype=np.float32).copy(), path)


# Lossless containers and sample formats that libsndfile and ffmpeg decode to equal floats
# (tests/audio/test_io.py compares the two on each). Lossy codecs (Vorbis, MP3) differ in
# rounding, so they always go through ffmpeg.
LOSSLESS_FORMATS = frozenset({"WAV", "WAVEX", "W64", "FLAC", "AIFF"})
LOSSLESS_SUBTYPES = frozenset({"PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})


def lossless_rate(path: Path) -> int | None:
    """The sample rate of a lossless mono file that :func:`load_audio` reads directly at that
    rate, or None for any other file (or one that libsndfile cannot open)."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None
    lossless = info.format in LOSSLESS_FORMATS and info.subtype in LOSSLESS_SUBTYPES
    return info.samplerate if lossless and info.channels == 1 else None


def _read_lossless(path: Path, sample_rate: int) -> np.ndarray | None:
    """The samples of a lossless mono file at ``sample_rate``, or None (then ffmpeg decodes)."""
    check_file(path)
    if lossless_rate(path) != sample_rate:
        return None
    try:
        return sf.read(str(path), dtype="float32")[0]
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None  # not a file libsndfile reads whole: ffmpeg decides


def _checked(wav: np.ndarray, path: Path) -> np.ndarray:
    if wav.size == 0:
        raise InputError(path, "audio stream decodes to no samples")
    if not np.all(np.isfinite(wav)):
        raise InputError(path, "audio contains NaN or Inf samples")
    return wav


def check_audible(
    wav: np.ndarray, path: str | Path | None, *, min_seconds: float = 0.0, sample_rate: int = 22050
) -> None:
    """Reject NaN, silent or too-short audio with an error naming ``path``."""
    if not np.all(np.isfinite(wav)):
        raise InputError(path, "audio contains NaN or Inf samples")
    if wav.size < int(min_seconds * sample_rate):
        raise InputError(
            path, f"audio is {wav.size / sample_rate:.2f} s long; at least {min_seconds} s needed"
        )
    if wav.size == 0 or float(np.max(np.abs(wav))) < 1e-4:
        raise InputError(path, "audio is silent (its channels mixed to mono)")


class WavWriter:
    """The open 16-bit PCM WAV of :func:`open_wav`: ``write`` appends samples."""

    def __init__(self, file: sf.SoundFile) -> None:
        self._file = file
        self.frames = 0  # samples (per channel) written so far

    def write(self, wav: np.ndarray) -> None:
        """Append ``(n,)`` (or ``(n, channels)``) samples, peak-limited to [-1, 1], NaN as 0."""
        wav = np.clip(np.nan_to_num(np.asarray(wav, dtype=np.float32)), -1.0, 1.0)
        self._file.write(wav)
        self.frames += len(wav)


@contextlib.contextmanager
def open_wav(path: str | Path, sample_rate: int = 22050, channels: int = 1) -> Iterator[WavWriter]:
    """Write a 16-bit PCM WAV piece by piece, atomically: ``path`` appears only on success.

    The bytes are those :func:`save_wav` writes for the same samples in one piece (the
    header is completed on close); only the pieces being written are held in memory.
    Nothing is left at ``path`` if the block raises (a full disk is an OutputError).
    """
    with (
        atomic_path(path, suffix=".wav") as tmp,
        sf.SoundFile(
            str(tmp),
            "w",
            samplerate=sample_rate,
            channels=channels,
            subtype="PCM_16",
            format="WAV",
        ) as file,
    ):
        yield WavWriter(file)


def save_wav(path: str | Path, wav: np.ndarray, sample_rate: int = 22050) -> Path:
    """Write 16-bit PCM WAV atomically (peak-limited to [-1, 1])."""
    wav = np.asarray(wav)
    with open_wav(path, sample_rate, 1 if wav.ndim == 1 else wav.shape[1]) as out:
        out.write(wav)
    return Path(path)
