"""Put a generated sound track on a video: video stream copied, audio replaced and fitted.

Time zero of the output is the video's first picture (docs/CONTRACTS.md, "Presentation
time"): the copied picture is retimed to start at zero, and the sound starts at zero and
lasts exactly ``duration`` seconds (padded with silence or cut), so sound generated for the
picture's span lands on it whatever the source's start offsets or edit lists. A video codec
the output container cannot hold (VP8 into mp4, say) is re-encoded with H.264 instead of
failing; ``MuxResult.copied`` says which happened. The containers written are those of
``AUDIO_CODECS`` (mp4, m4v, mov, mkv, avi).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vs_plugin.errors import InputError
from vs_plugin.io.ffmpeg_io import probe, run, sink, source
from vs_plugin.utils.files import atomic_path
from vs_plugin.video.io import picture_chain, video_info

# copied packets keep their order and spacing; only the origin moves to the first picture
RETIME_COPIED = "setts=pts=PTS-STARTPTS:dts=DTS-STARTPTS"
#: Output suffix -> the codec the sound is stored in. AVI cannot signal AAC's encoder delay
#: (its sound came out 0.13 s longer than the picture), so it gets 16-bit PCM.
AUDIO_CODECS = {".mp4": "aac", ".m4v": "aac", ".mov": "aac", ".mkv": "aac", ".avi": "pcm_s16le"}


def check_container(out: str | Path, *, or_else: str = "") -> None:
    """InputError naming ``out`` unless its suffix is a container :func:`mux` writes
    (``or_else``: what else the caller accepts, added to the message)."""
    out = Path(out)
    if out.suffix.lower() not in AUDIO_CODECS:
        kinds = ", ".join(AUDIO_CODECS)
        what = f"a {out.suffix} file" if out.suffix else "a file without an extension"
        also = f", or {or_else}" if or_else else ""
        raise InputError(out, f"cannot write {what}: a video output must end in {kinds}{also}")


@dataclass(frozen=True)
class MuxResult:
    path: Path
    duration: float  # seconds of sound, from the first picture
    copied: bool  # True: the video stream was copied bit for bit


def _graph(video: Path, wav: Path, out: Path, duration: float, copy: bool, bitrate: str):
    v = source(video)["v:0"]
    a = source(wav)["a:0"].filter("apad").filter("atrim", duration=f"{duration:.6f}")
    if copy:
        vkw = {"vcodec": "copy", "bsf:v": RETIME_COPIED}
    else:
        v = picture_chain(v)
        vkw = {"vcodec": "libx264", "pix_fmt": "yuv420p"}
    acodec = AUDIO_CODECS[out.suffix.lower()]
    akw = {"audio_bitrate": bitrate} if acodec == "aac" else {}
    return v.output(a, sink(out), acodec=acodec, **akw, **vkw)


def mux(
    video: str | Path,
    wav: str | Path,
    out: str | Path,
    *,
    duration: float | None = None,
    audio_bitrate: str = "128k",
) -> MuxResult:
    """Write ``out`` (atomically): ``video``'s picture with ``wav`` as its only sound.

    ``duration`` is the sound's length in seconds from the first picture; by default the
    picture stream's stated duration. ``out`` ends in one of ``AUDIO_CODECS`` (which also
    says how the sound is stored). Raises InputError naming ``out`` for another suffix or if
    muxing fails.
    """
    video, wav, out = Path(video), Path(wav), Path(out)
    check_container(out)
    info = video_info(video)  # each input is checked first, so an error names the bad one
    probe(wav)
    if duration is None:
        duration = info.duration
    bitrate = audio_bitrate
    with atomic_path(out) as tmp:  # keeps the suffix: ffmpeg picks the container by it
        try:
            run(_graph(video, wav, tmp, duration, True, bitrate), blame=out, what="muxing failed")
            copied = True
        except InputError:
            run(_graph(video, wav, tmp, duration, False, bitrate), blame=out, what="muxing failed")
            copied = False
    return MuxResult(out, duration, copied)
