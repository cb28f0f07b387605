"""Audio decoding and writing. Decoding goes through ffmpeg so any container, codec, rate and
channel layout that the machine's ffmpeg reads is accepted; output is mono float32."""

from __future__ import annotations

from pathlib import Path

import ffmpeg
import numpy as np
import soundfile as sf

from vs_plugin.errors import InputError
from vs_plugin.utils.files import atomic_path


def _first_line(stderr: bytes | None) -> str:
    text = (stderr or b"").decode("utf-8", "replace").strip().splitlines()
    # ffmpeg's last line is usually the reason ("Invalid data found when processing input")
    return text[-1].strip() if text else "ffmpeg failed"


def probe(path: str | Path) -> dict:
    """ffprobe's JSON for ``path``, or an InputError naming the file."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a directory, not a media file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    try:
        return ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        raise InputError(path, f"unreadable media ({_first_line(exc.stderr)})") from None


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
    try:
        out, _ = (
            ffmpeg.input(str(path), **input_kwargs)
            .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=sample_rate, map="0:a:0")
            .global_args("-nostdin", "-loglevel", "error")
            .run(capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as exc:
        raise InputError(path, f"audio could not be decoded ({_first_line(exc.stderr)})") from None
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
