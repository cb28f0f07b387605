"""Muxing keeps the picture bit for bit and fits the new sound track to the video."""

from __future__ import annotations

import ffmpeg
import numpy as np
import pytest

from tests.media import make_video, tone
from vs_plugin.audio.io import save_wav
from vs_plugin.infer.mux import mux

SR = 22050


def streams(path):
    info = ffmpeg.probe(str(path), count_packets=None)
    return [s for s in info["streams"] if s["codec_type"] == "video"], [
        s for s in info["streams"] if s["codec_type"] == "audio"
    ]


def packet_hashes(path) -> bytes:
    out, _ = (
        ffmpeg.input(str(path))
        .output("pipe:", map="0:v:0", c="copy", f="framemd5")
        .global_args("-nostdin", "-loglevel", "error")
        .run(capture_stdout=True, capture_stderr=True)
    )
    return b"\n".join(line for line in out.splitlines() if not line.startswith(b"#"))


@pytest.mark.parametrize("audio_seconds", [1.2, 2.6])  # shorter and longer than the video
def test_mux_copies_video_and_fits_audio(tmp_path, audio_seconds):
    video = make_video(tmp_path / "in.mp4", seconds=2.0, fps=15, events=(0.5,))
    wav = save_wav(tmp_path / "gen.wav", tone(audio_seconds, SR, (0.3,)), SR)
    result = mux(video, wav, tmp_path / "out.mp4")
    assert result.copied and result.path.exists()
    (v_in,), _ = streams(video)
    v_out, a_out = streams(result.path)
    assert len(v_out) == 1 and len(a_out) == 1
    assert v_out[0]["codec_name"] == v_in["codec_name"]
    assert v_out[0]["nb_read_packets"] == v_in["nb_read_packets"] == "30"
    assert packet_hashes(result.path) == packet_hashes(video)  # the stream was copied
    one_audio_frame = 1024 / SR
    assert abs(float(a_out[0]["duration"]) - float(v_in["duration"])) <= one_audio_frame
    assert int(a_out[0]["sample_rate"]) == SR
    assert list(tmp_path.glob(".out.mp4*")) == []  # no temporary left over


def test_mux_video_without_sound_and_codec_mp4_cannot_hold(tmp_path):
    video = make_video(tmp_path / "in.webm", seconds=1.0, fps=10, vcodec="libvpx", audio=False)
    wav = save_wav(tmp_path / "gen.wav", np.zeros(SR, np.float32) + 0.1, SR)
    result = mux(video, wav, tmp_path / "out.mp4")
    v_out, a_out = streams(result.path)
    assert not result.copied and v_out[0]["codec_name"] == "h264" and len(a_out) == 1


@pytest.mark.parametrize("name,picture_start", [("late.mp4", 1.0), ("late.ts", 2.4)])
def test_sound_made_for_the_picture_lands_on_it(tmp_path, name, picture_start):
    """A picture stream that starts late: frames are read from the first picture, and the
    sound generated for them is placed on that picture in the output."""
    from tests.media import make_offset_clip
    from vs_plugin.audio.io import load_audio
    from vs_plugin.infer.single import stream_frames
    from vs_plugin.video.io import read_frames

    fps, event = 10, picture_start + 1.5
    video = make_offset_clip(tmp_path / name, picture_start=picture_start, sound_start=0.0,
                             event=event, seconds=3.0, fps=fps)
    frames = np.concatenate(list(stream_frames(video, fps, (48, 64))))
    assert len(frames) == 30  # the picture's 3 s, not the sound's earlier start
    flash = int(np.argmax(frames.reshape(30, -1).mean(axis=1)))
    assert flash == 15
    wav = save_wav(tmp_path / "gen.wav", tone(3.0, SR, (flash / fps,)), SR)
    result = mux(video, wav, tmp_path / "out.mp4", duration=3.0)
    v_out, a_out = streams(result.path)
    assert abs(float(v_out[0].get("start_time", 0)) - float(a_out[0].get("start_time", 0))) < 0.03
    assert float(a_out[0]["duration"]) == pytest.approx(3.0, abs=1024 / SR)
    out_frames = read_frames(result.path, fps=fps)
    out_flash = np.argmax(out_frames.reshape(len(out_frames), -1).mean(axis=1)) / fps
    sound = load_audio(result.path, SR)
    click = np.flatnonzero(np.abs(sound) > 0.3)[0] / SR
    assert abs(out_flash - click) <= 1 / fps, (out_flash, click)
