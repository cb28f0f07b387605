"""The one way this package hands a file to ffmpeg (docs/CONTRACTS.md, "File names").

Every path is given to ffmpeg and ffprobe as ``file:`` + its absolute path, so that no name
is ever parsed as an option (``-clip.mp4``) or as a protocol (``take:1.mp4``,
``concat:a|b``, ``subfile,,...``). Inputs may use only the ``file`` protocol (``pipe`` for
bytes this package writes itself), and user media may be opened only by demuxers that read
their own bytes: playlists (HLS, DASH), concat scripts, image sequences and other demuxers
that open further files or URLs are refused, whatever the file's name says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ffmpeg

from vs_plugin.errors import InputError, OutputError

# Demuxers that read only the bytes of the file they are given. Not here, on purpose:
# hls, dash, concat, imf, image2 (sequences and globs), webm_dash_manifest, ffmetadata,
# lavfi, sdp, rtp/rtsp, device grabbers and raw formats that need ``-f`` anyway.
USER_MEDIA_DEMUXERS: tuple[str, ...] = (
    "aac", "ac3", "aiff", "amr", "amrnb", "amrwb", "ape", "asf", "au", "av1", "avi", "caf",
    "dirac", "dts", "dtshd", "dv", "eac3", "flac", "flv", "live_flv", "gif", "gxf", "h261",
    "h263", "h264", "hevc", "ivf", "m4v", "matroska", "mjpeg", "mlp", "mov", "mp3", "mpc",
    "mpc8", "mpeg", "mpegts", "mpegvideo", "mxf", "nut", "nuv", "obu", "ogg", "oma", "rm",
    "shn", "smjpeg", "tak", "truehd", "tta", "vc1", "voc", "w64", "wav", "wsaud", "wtv",
    "wv", "xwma", "yuv4mpegpipe",
)
USER_MEDIA_OPTIONS: dict[str, str] = {
    "protocol_whitelist": "file",
    "format_whitelist": ",".join(USER_MEDIA_DEMUXERS),
}
PIPE_OPTIONS: dict[str, str] = {"protocol_whitelist": "pipe"}
QUIET = ("-nostdin", "-hide_banner", "-loglevel", "error", "-y")  # -y: outputs are temp files


def file_url(path: str | Path) -> str:
    """``file:`` + the absolute path: read or written only as that file, never as an option."""
    return "file:" + str(Path(path).absolute())


def check_file(path: Path) -> None:
    """InputError naming ``path`` if it is missing, a directory, not a regular file, or empty."""
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a directory, not a media file")
    if not path.is_file():  # a pipe, socket or device: media is read more than once
        raise InputError(path, "is not a regular file (a pipe or device?); save it to a file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")


def reason(stderr: bytes | str | None) -> str:
    """One line saying why ffmpeg failed, from its stderr.

    A refused demuxer gets a plain explanation; otherwise ffmpeg's last line (usually the
    reason, e.g. "Invalid data found when processing input").
    """
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else (stderr or "")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if "not on whitelist" in line:
            kind = line.split("]", 1)[0].split("@", 1)[0].strip("[ ") if "]" in line else ""
            what = f"a {kind} file" if kind else "a kind of file"
            return (
                f"{what} is not accepted as media (playlists, concat scripts and image "
                "sequences may open other files)"
            )
    if not lines:
        return "ffmpeg failed"
    # ffmpeg prefixes the input's URL ("file:/abs/a b.mp4: Invalid data..."): the caller names
    # the file already
    return re.sub(r"^file:/[^\n]*?: ", "", lines[-1]) or lines[-1]


def source(path: str | Path, **options: Any) -> Any:
    """An ``ffmpeg.input`` node for user media at ``path`` (checked to exist, non-empty).

    ``options`` are further input options (``ss``, ``t``, ``itsoffset``...).
    Raises InputError naming ``path`` if it is missing, a directory or empty.
    """
    path = Path(path)
    check_file(path)
    return ffmpeg.input(file_url(path), **USER_MEDIA_OPTIONS, **options)


def pipe_source(**options: Any) -> Any:
    """An ``ffmpeg.input`` node reading this process's bytes from stdin (raw formats)."""
    return ffmpeg.input("pipe:", **PIPE_OPTIONS, **options)


def sink(path: str | Path) -> str:
    """The output URL for ``path`` (``file:`` + absolute path)."""
    return file_url(path)


def probe(path: str | Path, *, entries: Sequence[str] = ()) -> dict:
    """ffprobe's JSON for ``path`` under the user-media rules; InputError naming the file.

    ``entries`` adds ``-show_entries`` specs (e.g. ``"packet=pts_time"``) to what
    ``ffmpeg.probe`` asks for (format and streams).
    """
    path = Path(path)
    check_file(path)
    extra: dict[str, Any] = dict(USER_MEDIA_OPTIONS)
    try:
        if entries:
            return ffmpeg.probe(file_url(path), show_entries=":".join(entries), **extra)
        return ffmpeg.probe(file_url(path), **extra)
    except ffmpeg.Error as exc:
        raise InputError(path, f"unreadable media ({reason(exc.stderr)})") from None


def run(
    node: Any,
    *,
    blame: str | Path,
    what: str,
    input: bytes | None = None,  # noqa: A002 - the name ffmpeg-python uses
    output: str | Path | None = None,
) -> tuple[bytes, bytes]:
    """Run an ffmpeg graph quietly; a failure is an InputError on ``blame``.

    ``what`` describes the failure, e.g. "video could not be decoded". A full disk is an
    OutputError on ``output`` (or ``blame``) instead. Returns ``(stdout, stderr)``.
    """
    proc = node.global_args(*QUIET).run_async(
        pipe_stdin=input is not None, pipe_stdout=True, pipe_stderr=True
    )
    try:
        out, err = proc.communicate(input)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): no ffmpeg left writing behind us
        proc.kill()
        proc.wait()
        raise
    if proc.returncode:
        text = (err or b"").decode("utf-8", "replace")
        if "No space left on device" in text or "Disk quota exceeded" in text:
            raise OutputError(output or blame, "no space left on device")
        raise InputError(blame, f"{what} ({reason(err)})")
    return out, err
