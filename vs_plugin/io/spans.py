"""Where a file's picture and sound lie in presentation time, and how much of them is there.

The rule (docs/CONTRACTS.md, "Presentation time"): a clip's time zero is the presentation
time of its first picture. Sound is placed by its own presentation time relative to that,
so a picture stream that starts 1 s after the sound, an edit list, or a delayed or advanced
sound track all keep picture and sound together. A clip lasts as long as its picture is
*there*: the span covered by the picture packets the demuxer can read, which for a file cut
short is less than its header says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vs_plugin.errors import InputError
from vs_plugin.io.ffmpeg_io import probe

# a file whose readable picture covers less than this share of its header's duration is
# refused; between this and PARTIAL_WARN it is used for what it holds, with a warning
MIN_READABLE_SHARE = 0.5
PARTIAL_TOLERANCE = 0.5  # frames: a shortfall below this many frame periods is not partial


@dataclass(frozen=True)
class Span:
    """``[start, end)`` in seconds of the demuxer's presentation time."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class MediaTiming:
    """Picture and sound spans of one file, from its packets; ``None`` where a stream is absent.

    ``header_duration`` is the picture stream's duration as the header states it (or the
    container's); ``frame_period`` is one picture frame in seconds (0 when unknown).
    """

    path: Path
    picture: Span | None
    sound: Span | None
    header_duration: float
    frame_period: float
    # why ``picture`` is None: no video stream, no packets, or packets without timestamps
    picture_problem: str = "has no video stream"

    @property
    def readable_share(self) -> float:
        """Share of the header's picture duration that the readable packets cover."""
        if self.picture is None or self.header_duration <= 0:
            return 1.0
        return min(1.0, self.picture.duration / self.header_duration)

    @property
    def is_partial(self) -> bool:
        """True when the readable picture falls short of the header by over half a frame."""
        if self.picture is None or self.header_duration <= 0:
            return False
        slack = max(self.frame_period * PARTIAL_TOLERANCE, 0.02)
        return self.picture.duration < self.header_duration - slack

    def partial_message(self) -> str:
        return (
            f"only {self.picture.duration:.2f} s of picture can be read of the "
            f"{self.header_duration:.2f} s the header states (file cut short?)"
            if self.picture is not None
            else ""
        )

    def check_readable(self, min_share: float = MIN_READABLE_SHARE) -> None:
        """InputError naming the file when less than ``min_share`` of its picture is there."""
        if self.picture is not None and self.readable_share < min_share:
            raise InputError(
                self.path,
                f"{self.partial_message()}; at least {min_share:.0%} is needed",
            )


def _first_stream(streams: list[dict], kind: str) -> dict | None:
    for s in streams:
        if s.get("codec_type") != kind:
            continue
        if kind == "video" and s.get("disposition", {}).get("attached_pic"):
            continue
        return s
    return None


def _float(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if out == out else None  # NaN -> None


def _span(packets: list[dict], stream: dict, fallback: float) -> Span | None:
    """Packets' span; it starts at the stream's stated start (edit lists applied) if known."""
    index = int(stream["index"])
    starts, ends = [], []
    for p in packets:
        if p.get("stream_index") != index:
            continue
        pts = _float(p.get("pts_time"))
        if pts is None:
            continue
        dur = _float(p.get("duration_time")) or fallback
        starts.append(pts)
        ends.append(pts + dur)
    if not starts:
        return None
    start = _float(stream.get("start_time"))
    return Span(min(starts) if start is None else start, max(ends))


def _rate(stream: dict) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(stream.get(key) or "0/0").partition("/")
        try:
            rate = float(num) / float(den or 1)
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return rate
    return 0.0


def media_timing(path: str | Path) -> MediaTiming:
    """Read ``path``'s packets (no decoding) and return its picture and sound spans.

    Raises InputError naming the file if ffprobe cannot read it.
    """
    path = Path(path)
    info = probe(path, entries=["packet=stream_index,pts_time,duration_time"])
    streams = info.get("streams", [])
    packets = info.get("packets", [])
    video, audio = _first_stream(streams, "video"), _first_stream(streams, "audio")
    rate = _rate(video) if video else 0.0
    period = 1.0 / rate if rate > 0 else 0.0
    picture = _span(packets, video, period) if video else None
    sound = _span(packets, audio, 0.0) if audio else None
    problem = "has no video stream"
    if video is not None and picture is None:
        own = [p for p in packets if p.get("stream_index") == int(video["index"])]
        problem = (
            "video stream has no timestamps (a raw elementary stream?); put it in a "
            "container first, e.g. ffmpeg -i IN -c copy OUT.mp4"
            if own else "video stream has no readable packets"
        )
    header = 0.0
    if video is not None:
        header = (
            _float(video.get("duration"))
            or _float(info.get("format", {}).get("duration"))
            or 0.0
        )
    return MediaTiming(path, picture, sound, header, period, problem)
