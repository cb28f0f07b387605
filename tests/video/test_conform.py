import numpy as np
import pytest
import soundfile as sf

from tests.media import make_audio_only, make_empty, make_truncated, make_video
from vs_plugin.errors import InputError
from vs_plugin.video.conform import ConformConfig, conform_clip
from vs_plugin.video.io import read_frames, video_info

CFG = dict(duration=2.0, fps=21.5, height=64, width=86, sample_rate=22050)


@pytest.mark.parametrize(
    "kw,ext",
    [
        (dict(size=(49, 63)), ".mp4"),  # odd frame size
        (dict(vcodec="libvpx-vp9", acodec="libopus", sr=48000, channels=2), ".webm"),
        (dict(vcodec="mjpeg", acodec="pcm_s16le", sr=8000, fps=30, channels=6), ".avi"),
    ],
)
def test_odd_sources_become_exact_clips(tmp_path, kw, ext):
    src = make_video(tmp_path / f"src clip é{ext}", 0.8, **kw)
    cfg = ConformConfig(**CFG)
    conform_clip(src, tmp_path / "o.mp4", tmp_path / "o.wav", cfg)
    wav, sr = sf.read(tmp_path / "o.wav")
    assert sr == 22050 and wav.ndim == 1 and wav.shape[0] == cfg.num_samples
    info = video_info(tmp_path / "o.mp4")
    assert (info.height, info.width, info.fps) == (64, 86, 21.5)
    assert read_frames(tmp_path / "o.mp4").shape[0] == cfg.num_frames == 43
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # no temp left


def _click_times(wav: np.ndarray, sr: int) -> list[float]:
    env = np.abs(wav)
    hits = np.flatnonzero((env[1:] > 0.3) & (env[:-1] <= 0.3)) / sr
    out: list[float] = []
    for h in hits:
        if not out or h - out[-1] > 0.2:
            out.append(float(h))
    return out


def test_loop_repeats_the_clip_and_silence_pads(tmp_path):
    src = make_video(tmp_path / "s.mp4", 0.8, events=(0.2,))
    conform_clip(src, tmp_path / "l.mp4", tmp_path / "l.wav", ConformConfig(**CFG, pad="loop"))
    wav, sr = sf.read(tmp_path / "l.wav")
    clicks = _click_times(wav, sr)
    assert len(clicks) == 3  # 0.2, 1.0, 1.8 s
    assert np.allclose(np.diff(clicks), 0.8, atol=0.05)
    conform_clip(src, tmp_path / "p.mp4", tmp_path / "p.wav", ConformConfig(**CFG, pad="silence"))
    wav, sr = sf.read(tmp_path / "p.wav")
    assert len(_click_times(wav, sr)) == 1
    assert np.abs(wav[int(1.0 * sr) :]).max() < 1e-3
    frames = read_frames(tmp_path / "p.mp4")
    assert np.abs(frames[-1].astype(int) - frames[-5].astype(int)).mean() < 2  # last frame held


@pytest.mark.parametrize(
    "make,reason",
    [
        (lambda d: make_empty(d / "empty.mp4"), "empty file"),
        (lambda d: make_truncated(make_video(d / "full.mp4", 1.0), d / "cut.mp4"), "unreadable"),
        (lambda d: make_video(d / "mute.mp4", 1.0, audio=False), "no audio stream"),
        (lambda d: make_audio_only(d / "sound.m4a"), "no video stream"),
        (lambda d: make_video(d / "short.mp4", 0.3, events=()), "at least 0.5 s"),
        (lambda d: (d / "text.mp4").write_text("not a video") and d / "text.mp4", "unreadable"),
    ],
)
def test_bad_inputs_name_file_and_reason(tmp_path, make, reason):
    src = make(tmp_path)
    with pytest.raises(InputError, match=reason) as err:
        conform_clip(src, tmp_path / "o.mp4", tmp_path / "o.wav", ConformConfig(**CFG))
    assert err.value.path == src
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.wav").exists()


def _flash_time(frames: np.ndarray, fps: float) -> float:
    return float(np.argmax(frames.reshape(len(frames), -1).mean(axis=1))) / fps


def _conformed_event(src, tmp_path, duration: float) -> tuple[float, list[float]]:
    """Conform ``src`` at 10 fps; the flash's time and the click times in the result."""
    cfg = ConformConfig(duration=duration, fps=10, height=48, width=64, sample_rate=16000,
                        pad="silence")
    conform_clip(src, tmp_path / "o.mp4", tmp_path / "o.wav", cfg)
    wav, sr = sf.read(tmp_path / "o.wav")
    return _flash_time(read_frames(tmp_path / "o.mp4"), cfg.fps), _click_times(wav, sr)


OFFSETS = [  # (name, picture stream start, sound stream start); the event is presented at 1.5 s
    ("late.mp4", 1.0, 0.0),  # picture starts 1 s after the sound (the sound is advanced)
    ("delayed.mp4", 0.0, 0.5),  # the sound starts 0.5 s after the picture
    ("both.ts", 1.4, 1.4),  # a transport stream's usual non-zero start
    ("mixed.mkv", 0.7, 0.2),
]


@pytest.mark.parametrize("name,picture_start,sound_start", OFFSETS)
def test_picture_and_sound_are_aligned_on_presentation_time(
    tmp_path, name, picture_start, sound_start
):
    from tests.media import make_offset_clip

    src = make_offset_clip(tmp_path / name, picture_start=picture_start,
                           sound_start=sound_start, event=1.5, seconds=3.0, fps=10)
    flash, clicks = _conformed_event(src, tmp_path, duration=3.0)
    # the clip starts at the first picture: the event sits where the picture put it
    assert flash == pytest.approx(1.5 - picture_start, abs=0.1)
    assert clicks and abs(clicks[0] - flash) <= 0.1, (clicks, flash)  # within one frame


def test_edit_lists_are_honoured(tmp_path):
    from tests.media import make_edit_list_clip

    src = make_edit_list_clip(tmp_path / "cut.mp4", cut=0.6, event=2.0, seconds=4.0, fps=10)
    flash, clicks = _conformed_event(src, tmp_path, duration=3.4)
    assert flash == pytest.approx(1.4, abs=0.1)
    assert clicks and abs(clicks[0] - flash) <= 0.1, (clicks, flash)  # within one frame


def test_a_file_cut_short_is_conformed_for_the_picture_it_holds_with_a_warning(tmp_path):
    from vs_plugin.video.conform import check_source

    full = make_video(tmp_path / "full.mp4", seconds=5.0, fps=25, size=(96, 128),
                      events=(0.5, 1.5), faststart=True)
    cut = make_truncated(full, tmp_path / "cut.mp4", keep=0.6)
    cfg = ConformConfig(duration=5.0, fps=10, height=48, width=64, sample_rate=16000,
                        pad="silence")
    check = check_source(cut, cfg)
    assert check.warning and "5.00 s" in check.warning
    assert 1.0 < check.video_duration < 4.5
    conform_clip(cut, tmp_path / "o.mp4", tmp_path / "o.wav", cfg, check)
    wav, sr = sf.read(tmp_path / "o.wav")
    # silence pads after the readable picture: no sound where the picture is a held frame
    tail = wav[int((check.video_duration + 0.15) * sr):]
    assert np.abs(tail).max() < 1e-3
    stub = make_truncated(full, tmp_path / "stub.mp4", keep=0.15)
    with pytest.raises(InputError, match="at least 50%") as err:
        conform_clip(stub, tmp_path / "s.mp4", tmp_path / "s.wav", cfg)
    assert err.value.path == stub
