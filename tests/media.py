"""Small test media made with numpy + ffmpeg (no downloads).

Every function writes one file and returns its path. Defaults are small and fast to encode.

- ``make_video(path, seconds=1.0, fps=15, size=(48, 64), sr=16000, events=(...), ...)``: a clip
  whose frames flash white and whose sound track clicks at each event time (a visible and
  audible event), any container/codec ffmpeg can write (``vcodec``, ``acodec``), optional
  ``channels``, ``audio=False`` for a video without sound.
- ``make_audio_only(path, seconds, sr)``: a file with a sound track and no video stream.
- ``make_truncated(src, dst)``: the first half of a file (an undecodable, cut-off mp4).
- ``make_empty(path)``: a zero-byte file.
- ``make_offset_clip(path, picture_start, sound_start, event)``: flash and click coincide at
  presentation time ``event`` while the picture and sound streams start at different times.
- ``make_edit_list_clip(path, cut, event)``: an mp4 cut by stream copy, so an edit list hides
  its first ``cut`` seconds; its flash and click are at ``event - cut``.
- ``make_playlist(path, target)`` / ``make_concat_script(path, target)``: text files that
  would make ffmpeg open ``target`` (attack shapes for the media rules).
- ``tone(seconds, sr, events)``: the sound track as a float32 array.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ffmpeg
import numpy as np
import soundfile as sf


def tone(seconds: float, sr: int, events: Sequence[float] = (), freq: float = 440.0) -> np.ndarray:
    """A quiet tone with a loud decaying click at each event time (float32, mono)."""
    t = np.arange(int(round(seconds * sr))) / sr
    wav = 0.05 * np.sin(2 * np.pi * freq * t)
    rng = np.random.default_rng(0)
    for e in events:
        i = int(e * sr)
        n = min(int(0.08 * sr), len(wav) - i)
        if n > 0:
            wav[i : i + n] += 0.8 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.01 * sr))
    return np.clip(wav, -1, 1).astype(np.float32)


def _frames(seconds: float, fps: float, size: tuple[int, int], events: Sequence[float]) -> bytes:
    n = max(1, int(round(seconds * fps)))
    h, w = size
    frames = np.zeros((n, h, w, 3), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        # a moving gradient square so optical flow has something to track
        x0 = int((i * 3) % max(1, w - w // 3))
        frames[i, h // 4 : h // 4 + h // 3, x0 : x0 + w // 3] = (60, 160, 220)
        frames[i, ..., 0] = np.maximum(frames[i, ..., 0], (xx * 255 // max(1, w - 1)) // 3)
        frames[i, ..., 1] = np.maximum(frames[i, ..., 1], (yy * 255 // max(1, h - 1)) // 3)
    for e in events:
        i = int(e * fps)
        if 0 <= i < n:
            frames[i] = 255
    return frames.tobytes()


def make_video(
    path: str | Path,
    seconds: float = 1.0,
    *,
    fps: float = 15,
    size: tuple[int, int] = (48, 64),
    sr: int = 16000,
    channels: int = 1,
    events: Sequence[float] = (0.3,),
    vcodec: str = "libx264",
    acodec: str = "aac",
    audio: bool = True,
    audio_seconds: float | None = None,
    faststart: bool = False,
) -> Path:
    """Write a clip of ``seconds`` with flashes + clicks at ``events`` (size is (H, W)).

    ``faststart`` puts an mp4's index at the front (as web video is), so a copy cut short
    still opens and holds its first part.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    video = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{w}x{h}", r=fps)
    vkw = {"vcodec": vcodec}
    if vcodec in ("libx264", "mpeg4", "libvpx-vp9", "libvpx"):
        # odd sizes cannot be chroma-subsampled; keep full chroma there
        vkw["pix_fmt"] = "yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p"
    if vcodec == "libx264":
        vkw["preset"] = "ultrafast"
    if faststart:
        vkw["movflags"] = "+faststart"
    streams = [video]
    wav_tmp = None
    if audio:
        wav = tone(audio_seconds if audio_seconds is not None else seconds, sr, events)
        if channels > 1:
            wav = np.stack([wav * (0.5 + 0.5 * c / channels) for c in range(channels)], axis=1)
        wav_tmp = path.with_name(f".{path.stem}.src.wav")
        sf.write(str(wav_tmp), wav, sr)
        streams.append(ffmpeg.input(str(wav_tmp)).audio)
        vkw["acodec"] = acodec
    try:
        (
            ffmpeg.output(*streams, str(path), **vkw)
            .global_args("-nostdin", "-loglevel", "error")
            .overwrite_output()
            .run(
                input=_frames(seconds, fps, size, events), capture_stdout=True, capture_stderr=True
            )
        )
    finally:
        if wav_tmp is not None:
            wav_tmp.unlink(missing_ok=True)
    return path


def make_audio_only(path: str | Path, seconds: float = 1.0, sr: int = 16000) -> Path:
    """A media file with a sound track and no video stream (codec from the extension)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wav_tmp = path.with_name(f".{path.stem}.src.wav")
    sf.write(str(wav_tmp), tone(seconds, sr, (0.2,)), sr)
    try:
        (
            ffmpeg.input(str(wav_tmp))
            .output(str(path))
            .global_args("-nostdin", "-loglevel", "error")
            .overwrite_output()
            .run(capture_stdout=True, capture_stderr=True)
        )
    finally:
        wav_tmp.unlink(missing_ok=True)
    return path


def make_truncated(src: str | Path, dst: str | Path, keep: float = 0.5) -> Path:
    """Copy the first ``keep`` fraction of ``src`` to ``dst`` (a download cut short)."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * keep)])
    return Path(dst)


def make_empty(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def _remux(inputs: list, path: Path, **kw) -> Path:
    (
        ffmpeg.output(*inputs, str(path), **kw)
        .global_args("-nostdin", "-loglevel", "error")
        .overwrite_output()
        .run(capture_stdout=True, capture_stderr=True)
    )
    return path


def make_offset_clip(
    path: str | Path,
    *,
    picture_start: float = 0.0,
    sound_start: float = 0.0,
    event: float = 1.5,
    seconds: float = 3.0,
    fps: float = 10,
    sr: int = 16000,
) -> Path:
    """A clip whose picture stream starts at ``picture_start`` s and sound at ``sound_start`` s
    (as the container states them), with one flash and one click both *presented* at
    ``event`` s. The container follows the suffix (mp4 writes the offsets as edit lists)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pic = make_video(path.with_name(f".{path.stem}.v.mp4"), seconds, fps=fps,
                     events=(event - picture_start,), audio=False)
    snd = path.with_name(f".{path.stem}.a.wav")
    sf.write(str(snd), tone(seconds, sr, (event - sound_start,)), sr)
    try:
        _remux(
            [ffmpeg.input(str(pic), itsoffset=picture_start).video,
             ffmpeg.input(str(snd), itsoffset=sound_start).audio],
            path, vcodec="copy", acodec="aac",
        )
    finally:
        pic.unlink(missing_ok=True)
        snd.unlink(missing_ok=True)
    return path


def make_edit_list_clip(
    path: str | Path, *, cut: float = 0.6, event: float = 2.0, seconds: float = 4.0,
    fps: float = 10,
) -> Path:
    """An mp4 made by stream copy from ``cut`` s of a clip with a flash+click at ``event`` s.

    Its only keyframe is the first frame, so the copy keeps the frames before ``cut`` and an
    edit list hides them: decoders that honour it present the event at ``event - cut``.
    """
    path = Path(path)
    src = make_video(path.with_name(f".{path.stem}.src.mp4"), seconds, fps=fps, events=(event,))
    try:
        _remux([ffmpeg.input(str(src), ss=cut)], path, c="copy")
    finally:
        src.unlink(missing_ok=True)
    return path


def make_playlist(path: str | Path, target: str | Path) -> Path:
    """An HLS playlist naming ``target`` as its one segment, saved under any name."""
    path = Path(path)
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n"
        f"{Path(target).absolute()}\n#EXT-X-ENDLIST\n"
    )
    return path


def make_concat_script(path: str | Path, target: str | Path) -> Path:
    """An ffconcat script naming ``target``, saved under any name."""
    path = Path(path)
    path.write_text(f"ffconcat version 1.0\nfile '{Path(target).absolute()}'\n")
    return path
