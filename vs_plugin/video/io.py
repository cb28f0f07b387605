"""Video probing and frame decoding through ffmpeg (any codec, rate and size it reads).

Frames are timed from the first picture (docs/CONTRACTS.md, "Presentation time"): frame 0 is
the first picture whatever its presentation time, never a copy made to fill the time before
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vs_plugin.errors import InputError
from vs_plugin.io.ffmpeg_io import probe, run, source


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    duration: float
    has_audio: bool
    codec: str


def video_info(path: str | Path) -> VideoInfo:
    """Stream facts of ``path``; InputError if there is no video stream."""
    path = Path(path)
    info = probe(path)
    streams = info.get("streams", [])
    video = [
        s for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    if not video:
        raise InputError(path, "has no video stream")
    v = video[0]
    rate = v.get("avg_frame_rate") or v.get("r_frame_rate") or "0/1"
    try:
        fps = float(Fraction(rate)) if rate != "0/0" else 0.0
    except (ValueError, ZeroDivisionError):
        fps = 0.0
    duration = float(v.get("duration") or info.get("format", {}).get("duration") or 0.0)
    if duration <= 0:
        raise InputError(path, "video stream has no duration")
    return VideoInfo(
        path=path,
        width=int(v["width"]),
        height=int(v["height"]),
        fps=fps,
        duration=duration,
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
        codec=str(v.get("codec_name", "")),
    )


def picture_chain(stream):
    """Retime a decoded picture stream so that its first picture is at time zero."""
    return stream.filter("setpts", "PTS-STARTPTS")


def read_frames(
    path: str | Path,
    *,
    fps: float | None = None,
    size: tuple[int, int] | None = None,
    duration: float | None = None,
    offset: float = 0.0,
) -> np.ndarray:
    """Decode to ``(T, H, W, 3)`` uint8 RGB, optionally resampled to ``fps`` and ``size=(H, W)``."""
    path = Path(path)
    info = video_info(path)
    height, width = size if size is not None else (info.height, info.width)
    input_kwargs = {"ss": offset} if offset else {}
    if duration is not None:
        input_kwargs["t"] = duration
    stream = picture_chain(source(path, **input_kwargs).video)
    if fps is not None:
        stream = stream.filter("fps", fps=fps)
    if size is not None:
        stream = stream.filter("scale", width, height)
    node = stream.output("pipe:", format="rawvideo", pix_fmt="rgb24")
    out, _ = run(node, blame=path, what="video could not be decoded")
    frame_bytes = height * width * 3
    if len(out) < frame_bytes:
        raise InputError(path, "video stream decodes to no frames")
    n = len(out) // frame_bytes
    return np.frombuffer(out[: n * frame_bytes], dtype=np.uint8).reshape(n, height, width, 3)
