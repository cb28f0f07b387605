"""Conform one clip to the corpus format in a single ffmpeg run.

One decode of the source feeds two outputs: an mp4 (H.264 video at ``fps`` and ``height x
width``, AAC sound) for viewing and frame decoding, and a mono PCM wav at ``sample_rate`` for
the mel. Both are padded or clipped to exactly ``duration`` seconds. Padding ``loop`` repeats
the clip (as REGNET did, but in the filter graph, with one period shared by picture and sound);
``silence`` pads the sound with zeros and the picture with its last frame.

Picture and sound are aligned on presentation time (docs/CONTRACTS.md): the clip starts at the
source's first picture, and the sound is cut or padded at its start so that what played with
that picture is at time zero. A source cut short is conformed for the picture it holds.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np
import soundfile as sf

from vs_plugin.errors import ConfigError, InputError
from vs_plugin.io.ffmpeg_io import probe, run, sink, source
from vs_plugin.io.spans import media_timing
from vs_plugin.utils.files import atomic_path

PAD_MODES = ("loop", "silence")


@dataclass
class ConformConfig:
    duration: float = 10.0
    fps: float = 21.5
    height: int = 256
    width: int = 340
    sample_rate: int = 22050
    pad: str = "loop"  # loop | silence (silence also holds the last video frame)
    min_duration: float = 0.5  # shorter sources are rejected
    crf: int = 18
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        if self.pad not in PAD_MODES:
            raise ConfigError(f"pad must be one of {PAD_MODES}, not {self.pad!r}")
        if self.duration <= 0 or self.fps <= 0 or self.sample_rate <= 0:
            raise ConfigError("duration, fps and sample_rate must be positive")
        if self.height % 2 or self.width % 2:
            raise ConfigError("height and width must be even (H.264 with 4:2:0 chroma)")

    @property
    def num_frames(self) -> int:
        return int(round(self.duration * self.fps))

    @property
    def num_samples(self) -> int:
        return int(round(self.duration * self.sample_rate))


@dataclass(frozen=True)
class SourceCheck:
    duration: float
    width: int
    height: int
    sample_rate: int
    channels: int
    video_duration: float  # readable picture, seconds
    start: float = 0.0  # the first picture's presentation time, seconds
    warning: str = ""  # non-empty: the file is cut short (used for the picture it holds)


def check_source(path: str | Path, cfg: ConformConfig) -> SourceCheck:
    """Reject sources that cannot become a training clip, with the reason."""
    path = Path(path)
    info = probe(path)
    streams = info.get("streams", [])
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video:
        raise InputError(path, "has no video stream (audio-only file)")
    if not audio:
        raise InputError(path, "has no audio stream (unusable for training)")
    v, a = video[0], audio[0]
    timing = media_timing(path)
    if timing.picture is None:
        raise InputError(path, timing.picture_problem)
    timing.check_readable()
    duration = timing.picture.duration
    if duration < cfg.min_duration:
        raise InputError(
            path, f"clip is {duration:.2f} s long; at least {cfg.min_duration} s needed"
        )
    width, height = int(v.get("width") or 0), int(v.get("height") or 0)
    if width <= 0 or height <= 0:
        raise InputError(path, "video stream has no frame size")
    return SourceCheck(
        duration=duration,
        width=width,
        height=height,
        sample_rate=int(a.get("sample_rate") or 0),
        channels=int(a.get("channels") or 0),
        video_duration=duration,
        start=timing.picture.start,
        warning=timing.partial_message() if timing.is_partial else "",
    )


def _graph(src: Path, mp4: Path, wav: Path, cfg: ConformConfig, check: SourceCheck):
    """The ffmpeg graph: one input, a video chain, an audio chain split to two outputs."""
    src_in = source(src)  # read with -copyts: timestamps are the demuxer's presentation times
    v = src_in.video.filter("setpts", "PTS-STARTPTS")
    v = v.filter("fps", fps=cfg.fps).filter("scale", cfg.width, cfg.height)
    v = v.filter("setsar", "1").filter("tpad", stop_mode="clone", stop_duration=cfg.duration)
    # sound: moved by the first picture's time, cut before it; async resampling pads a late
    # start and fills timestamp gaps with silence; apad extends a short sound track
    a = src_in.audio.filter("asetpts", f"PTS-{check.start:.6f}/TB").filter("atrim", start=0)
    a = a.filter("aresample", cfg.sample_rate, **{"async": 1, "first_pts": 0})
    a = a.filter("apad")
    if cfg.pad == "loop":
        # one period = the picture's length in whole output frames; the sound loops with
        # exactly the same period so that picture and sound stay in sync on every repeat
        frames = max(1, min(cfg.num_frames, int(round(check.video_duration * cfg.fps))))
        samples = int(round(frames / cfg.fps * cfg.sample_rate))
        v = v.filter("trim", end_frame=frames).filter("loop", loop=-1, size=frames, start=0)
        v = v.filter("setpts", f"N/{cfg.fps}/TB")  # loop repeats timestamps; renumber
        a = a.filter("atrim", end_sample=samples).filter("aloop", loop=-1, size=samples)
    split = a.filter_multi_output("asplit", 2)
    t = f"{cfg.duration:.6f}"
    out_mp4 = ffmpeg.output(
        v,
        split[0],
        sink(mp4),
        t=t,
        vcodec="libx264",
        pix_fmt="yuv420p",
        crf=cfg.crf,
        preset=cfg.preset,
        acodec="aac",
        ac=1,
        ar=cfg.sample_rate,
        movflags="+faststart",
        format="mp4",
    )
    out_wav = ffmpeg.output(
        split[1], sink(wav), t=t, acodec="pcm_s16le", ac=1, ar=cfg.sample_rate, format="wav"
    )
    return (
        ffmpeg.merge_outputs(out_mp4, out_wav)
        .global_args("-copyts", "-threads", "1")
        .overwrite_output()
    )


def _fix_length(wav_path: Path, src: Path, cfg: ConformConfig) -> None:
    """Make the wav exactly ``num_samples`` long (encoders may be a few samples off)."""
    data, sr = sf.read(str(wav_path), dtype="int16", always_2d=False)
    if sr != cfg.sample_rate:
        raise InputError(src, f"conformed audio has rate {sr}, expected {cfg.sample_rate}")
    n = cfg.num_samples
    if data.shape[0] == n:
        return
    if data.shape[0] < n * 0.98:
        raise InputError(src, f"audio decodes to {data.shape[0] / sr:.2f} s only")
    data = data[:n] if data.shape[0] > n else np.pad(data, (0, n - data.shape[0]))
    sf.write(str(wav_path), data, sr, subtype="PCM_16")


def conform_clip(
    src: str | Path,
    mp4: str | Path,
    wav: str | Path,
    cfg: ConformConfig | None = None,
    check: SourceCheck | None = None,
) -> SourceCheck:
    """Write the conformed ``mp4`` and ``wav`` for ``src`` (atomically: both or neither new).

    Raises InputError naming ``src`` for anything unusable.
    """
    cfg = cfg or ConformConfig()
    src, mp4, wav = Path(src), Path(mp4), Path(wav)
    check = check or check_source(src, cfg)
    with contextlib.ExitStack() as stack:
        tmp_mp4 = stack.enter_context(atomic_path(mp4, suffix=".mp4"))
        tmp_wav = stack.enter_context(atomic_path(wav, suffix=".wav"))
        run(_graph(src, tmp_mp4, tmp_wav, cfg, check), blame=src, what="could not be converted")
        _fix_length(tmp_wav, src, cfg)
        # ExitStack renames the wav first, then the mp4: an mp4 on disk implies its wav is too
    return check


def is_conformed(mp4: str | Path, wav: str | Path) -> bool:
    """Both outputs exist (they are only ever renamed into place when complete)."""
    return Path(mp4).is_file() and Path(wav).is_file()
