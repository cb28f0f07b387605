"""File names are only ever file names, and media that would open other files is refused, by
every reader and writer of media in the package (docs/CONTRACTS.md, "File names")."""

from __future__ import annotations

import numpy as np
import pytest

from tests.media import make_concat_script, make_playlist, make_video, tone
from vs_plugin.audio.io import load_audio, save_wav
from vs_plugin.errors import InputError
from vs_plugin.infer.mux import mux
from vs_plugin.infer.single import stream_frames
from vs_plugin.io.ffmpeg_io import file_url, probe, reason
from vs_plugin.io.spans import media_timing
from vs_plugin.scoring import listening
from vs_plugin.video.conform import ConformConfig, conform_clip
from vs_plugin.video.io import read_frames

ODD_NAMES = [
    "-clip.mp4",  # an ffmpeg option, were it passed bare
    "take:1.mp4",  # a protocol prefix "take:"
    "concat:a.mp4|b.mp4",  # the concat protocol
    "subfile,,start,0,end,100,,:x.mp4",  # the subfile protocol
    "file:y.mp4",  # a name that itself starts with the file protocol
    "pipe:0.mp4",  # the pipe protocol
]
CFG = ConformConfig(duration=1.0, fps=10, height=48, width=64, sample_rate=16000, pad="silence")


def readers(tmp, good_video, good_wav):
    """name -> a call that reads ``path`` as user media, as the package does."""
    return {
        "probe": probe,
        "media_timing": media_timing,
        "load_audio": lambda p: load_audio(p, 16000),
        "read_frames": read_frames,
        "stream_frames": lambda p: np.concatenate(list(stream_frames(p, 10, (48, 64)))),
        "conform": lambda p: conform_clip(p, tmp / "c.mp4", tmp / "c.wav", CFG),
        "mux_video": lambda p: mux(p, good_wav, tmp / "m.mp4"),
        "mux_sound": lambda p: mux(good_video, p, tmp / "m2.mp4"),
        "listening_mux": lambda p: listening.mux(p, good_wav, tmp / "l.mp4"),
    }


@pytest.fixture
def media(tmp_path):
    video = make_video(tmp_path / "good.mp4", seconds=1.0, fps=10, events=(0.5,))
    wav = save_wav(tmp_path / "good.wav", tone(1.0, 16000, (0.5,)), 16000)
    return tmp_path, video, wav


def test_file_url_is_absolute_and_prefixed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert file_url("-x.mp4") == f"file:{tmp_path}/-x.mp4"
    assert file_url("a:b.mp4") == f"file:{tmp_path}/a:b.mp4"


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_are_read_as_the_file_itself_by_every_reader(media, name, monkeypatch):
    tmp, video, wav = media
    monkeypatch.chdir(tmp)
    odd = tmp / name
    odd.write_bytes(video.read_bytes())
    for label, read in readers(tmp, video, wav).items():
        try:
            read(name)  # relative, as a user types it
        except InputError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{label} could not read {name!r}: {exc}")
    assert np.array_equal(read_frames(name), read_frames(video))
    assert np.array_equal(load_audio(name, 16000), load_audio(video, 16000))


@pytest.mark.parametrize("name", ["-out.mp4", "out:1.mp4"])
def test_odd_output_names_are_written_as_given(media, name, monkeypatch):
    tmp, video, wav = media
    monkeypatch.chdir(tmp)
    mux(video, wav, name)
    assert (tmp / name).is_file() and probe(tmp / name)["streams"]


@pytest.mark.parametrize(
    "attack",
    ["playlist.mp4", "playlist.avi", "playlist.m3u8", "script.mp4", "script.ffconcat"],
)
def test_media_that_would_open_other_files_is_refused_by_every_reader(media, attack):
    tmp, video, wav = media
    secret = make_video(tmp / "secret" / "other.mp4", seconds=1.0, fps=10)
    path = tmp / attack
    (make_playlist if attack.startswith("playlist") else make_concat_script)(path, secret)
    for label, read in readers(tmp, video, wav).items():
        with pytest.raises(InputError) as err:
            read(path)
        assert err.value.path == path, label
        assert "not accepted as media" in str(err.value), (label, str(err.value))
        assert "\n" not in str(err.value)


def test_reason_explains_a_refused_demuxer_in_one_line():
    stderr = b"[hls @ 0x55] Format not on whitelist 'mov,wav'\nfile:/x.mp4: Invalid argument\n"
    assert reason(stderr).startswith("a hls file is not accepted as media")
    assert reason(b"line one\nInvalid data found when processing input\n") == (
        "Invalid data found when processing input"
    )
    assert reason(None) == "ffmpeg failed"
    assert reason(b"file:/x/-a b:1.mp4: Invalid data found when processing input\n") == (
        "Invalid data found when processing input"
    )


_INTERRUPTED_RUN = """
import os, signal, sys, threading
from pathlib import Path
import ffmpeg
from vs_plugin.io.ffmpeg_io import run

def children():
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split()
        except OSError:
            continue
        if fields[1] == "(ffmpeg)" and int(fields[3]) == os.getpid():
            kids.append(int(stat.parent.name))
    return kids

out = sys.argv[1]
slow = ffmpeg.input("testsrc2=size=64x48:rate=25", f="lavfi", t=60, re=None).output(out)
# Ctrl-C's usual effect, even where this process was started with SIGINT ignored (a
# background job of a script)
signal.signal(signal.SIGINT, signal.default_int_handler)
threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    run(slow, blame=out, what="encoding failed")
except KeyboardInterrupt:
    print("interrupted; ffmpeg children left:", children())
"""


def test_an_interrupted_run_stops_its_ffmpeg(tmp_path):
    """Ctrl-C (and, in a command, SIGTERM) while ``run`` waits leaves no ffmpeg behind.

    In a child process of its own, so that the signal meets a plain interpreter."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_RUN, str(tmp_path / "out.mp4")],
        cwd=repo, capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.stdout.strip() == "interrupted; ffmpeg children left: []", out.stderr[-2000:]


def test_a_pipe_is_refused_by_name_not_called_empty(tmp_path):
    import os

    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file") as err:
        probe(fifo)
    assert str(fifo) in str(err.value)
