"""Audio decoding and writing. Decoding goes through ffmpeg so any container, codec, rate and
channel layout that the machine's ffmpeg reads is accepted; output is mono float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from vs_plugin.errors import InputError
from vs_plugin.io.ffmpeg_io import probe, run, source
from vs_plugin.utils.files import atomic_path


def load_audio(
    path: str | Path,
    sample_rate: int = 22050,
    *,
    duration: float | None = None,
    offset: float = 0.0,
) -> np.ndarray:
    """Decode the first audio stream of ``path`` to mono float32 at ``sample_rate``."""
    path = Path(path)
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
    wav = np.frombuffer(out, dtype=np.float32).copy()
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
        raise InputError(path, "audio is silent")


def save_wav(path: str | Path, wav: np.ndarray, sample_rate: int = 22050) -> Path:
    """Write 16-bit PCM WAV atomically (peak-limited to [-1, 1])."""
    wav = np.clip(np.nan_to_num(np.asarray(wav, dtype=np.float32)), -1.0, 1.0)
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), wav, sample_rate, subtype="PCM_16")
    return Path(path)
