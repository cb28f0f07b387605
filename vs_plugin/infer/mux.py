"""Put a generated sound track on a video: video stream copied, audio replaced and fitted.

The output's audio is padded with silence or cut so that it lasts exactly as long as the
video stream. A video codec the output container cannot hold (VP8 into mp4, say) is
re-encoded with H.264 instead of failing; ``MuxResult.copied`` says which happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from vs_plugin.audio.io import _first_line
from vs_plugin.errors import InputError
from vs_plugin.utils.files import atomic_path
from vs_plugin.video.io import video_info


@dataclass(frozen=True)
class MuxResult:
    path: Path
    duration: float  # seconds of the video stream (the audio is fitted to it)
    copied: bool  # True: the video stream was copied bit for bit


def _run(video: Path, wav: Path, out: Path, duration: float, copy: bool, bitrate: str) -> None:
    v = ffmpeg.input(str(video))["v:0"]
    a = ffmpeg.input(str(wav))["a:0"].filter("apad")
    vkw = {"vcodec": "copy"} if copy else {"vcodec": "libx264", "pix_fmt": "yuv420p"}
    (
        ffmpeg.output(
            v, a, str(out), acodec="aac", audio_bitrate=bitrate, t=f"{duration:.6f}", **vkw
        )
        .global_args("-nostdin", "-loglevel", "error")
        .overwrite_output()
        .run(capture_stdout=True, capture_stderr=True)
    )


def mux(
    video: str | Path, wav: str | Path, out: str | Path, *, audio_bitrate: str = "128k"
) -> MuxResult:
    """Write ``out`` (atomically): ``video``'s picture with ``wav`` as its only sound track."""
    video, wav, out = Path(video), Path(wav), Path(out)
    info = video_info(video)
    with atomic_path(out) as tmp:
        try:
            _run(video, wav, tmp, info.duration, True, audio_bitrate)
            copied = True
        except ffmpeg.Error:
            try:
                _run(video, wav, tmp, info.duration, False, audio_bitrate)
            except ffmpeg.Error as exc:
                raise InputError(out, f"muxing failed ({_first_line(exc.stderr)})") from None
            copied = False
    return MuxResult(out, info.duration, copied)
