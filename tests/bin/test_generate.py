"""``vs-generate`` end to end: a long video through windows, and every bad input refused."""

from __future__ import annotations

import os
import re
import threading

import ffmpeg
import numpy as np
import pytest
import soundfile as sf

from tests.infer.tinymodel import export_tiny
from tests.media import make_audio_only, make_empty, make_video, tone
from vs_plugin.bin.generate import main
from vs_plugin.video.io import video_info


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return export_tiny(tmp_path_factory.mktemp("exp") / "model")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A 3 s stereo 44.1 kHz FLAC: not the model's format, to exercise decoding."""
    path = tmp_path_factory.mktemp("ref") / "ref.flac"
    mono = tone(3.0, 44100, (0.5, 1.5, 2.5), freq=330.0)
    sf.write(path, np.stack([mono, 0.5 * mono], axis=1), 44100)
    return path


def run(model, video, reference, output, *extra):
    return main(
        [
            "--video",
            str(video),
            "--reference",
            str(reference),
            "--output",
            str(output),
            "--model",
            str(model),
            "--device",
            "cpu",
            *extra,
        ]
    )


def durations(path):
    info = ffmpeg.probe(str(path))
    return {s["codec_type"]: float(s["duration"]) for s in info["streams"]}


def test_long_video_goes_through_windows(model, reference, tmp_path, capsys):
    # 40 s at 25 fps, odd size, no sound track: 860 feature frames at 21.5 fps -> 5 windows
    video = make_video(
        tmp_path / "long.mp4",
        seconds=40.0,
        fps=25,
        size=(36, 50),
        audio=False,
        events=(5.0, 20.0, 35.0),
    )
    out = tmp_path / "out.mp4"
    assert run(model, video, reference, out, "--vocoder", "test_sine") == 0
    line = capsys.readouterr().out.strip()
    assert f"wrote {out}" in line and "5 window(s)" in line
    for part in ("features", "generator", "vocoder", "mux"):
        assert re.search(part + r" \d+\.\d\d s", line), part
    d = durations(out)
    assert abs(d["audio"] - d["video"]) <= 1024 / 22050
    assert d["video"] == pytest.approx(40.0, abs=0.05)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4", "out.mp4"]


def test_wav_output_with_griffin_lim(model, reference, tmp_path, capsys):
    video = make_video(
        tmp_path / "clip.mkv",
        seconds=1.5,
        fps=30,
        vcodec="mpeg4",
        acodec="libvorbis",
        sr=44100,
        channels=2,
    )
    out = tmp_path / "sound.wav"
    assert run(model, video, reference, out, "--vocoder", "griffin_lim") == 0
    info = sf.info(out)
    expected = round(video_info(video).duration * 22050)  # the video's duration, not 1.5 s
    assert (info.samplerate, info.subtype, info.frames) == (22050, "PCM_16", expected)
    assert "1 window(s)" in capsys.readouterr().out


@pytest.mark.slow
def test_hifigan_end_to_end(model, reference, tmp_path):
    video = make_video(tmp_path / "clip.mp4", seconds=2.0, fps=15)
    out = tmp_path / "out.mp4"
    assert run(model, video, reference, out, "--vocoder", "hifigan") == 0
    d = durations(out)
    assert abs(d["audio"] - d["video"]) <= 1024 / 22050


def _bad_reference(tmp_path, kind):
    path = tmp_path / f"{kind}.wav"
    if kind == "silent":
        sf.write(path, np.zeros(22050, np.float32), 22050)
    elif kind == "nan":
        wav = tone(2.0, 22050)
        wav[100:200] = np.nan
        sf.write(path, wav, 22050, subtype="FLOAT")
    elif kind == "short":
        sf.write(path, tone(0.05, 22050, (0.0,)), 22050)  # less than 0.1 s of sound
    return path


@pytest.fixture(scope="module")
def good_video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("v") / "ok.mp4", seconds=1.0)


@pytest.mark.parametrize(
    "case, problem",
    [
        ("garbage_video", "unreadable media"),
        ("empty_video", "empty file"),
        ("missing_video", "file not found"),
        ("no_video_stream", "has no video stream"),
        ("silent", "audio is silent"),
        ("nan", "NaN"),
        ("short", "at least 0.1 s of sound needed"),
        ("no_folder", "output folder does not exist"),
        ("not_writable", "output folder is not writable"),
    ],
)
def test_bad_input_one_line_error_exit_2_no_output(
    model, reference, good_video, tmp_path, capsys, case, problem
):
    video, ref = good_video, reference
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "result.mp4"
    if case == "garbage_video":
        video = tmp_path / "garbage.mp4"
        video.write_bytes(os.urandom(5000))
    elif case == "empty_video":
        video = make_empty(tmp_path / "empty.mp4")
    elif case == "missing_video":
        video = tmp_path / "missing.mp4"
    elif case == "no_video_stream":
        video = make_audio_only(tmp_path / "audio.m4a")
    elif case in ("silent", "nan", "short"):
        ref = _bad_reference(tmp_path, case)
    elif case == "no_folder":
        out = tmp_path / "nowhere" / "result.mp4"
    elif case == "not_writable":
        if os.geteuid() == 0:
            pytest.skip("root writes everywhere")
        out_dir.chmod(0o555)
    blamed = {"no_folder": out.parent, "not_writable": out_dir}.get(case)
    blamed = blamed or (ref if case in ("silent", "nan", "short") else video)
    try:
        assert run(model, video, ref, out, "--vocoder", "test_sine") == 2
    finally:
        out_dir.chmod(0o755)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("vs-generate: error: ")
    assert str(blamed) in err and problem in err
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("name", ["-clip.mp4", "take:1.mp4"])
def test_names_that_look_like_options_or_protocols_just_work(
    model, reference, tmp_path, monkeypatch, name
):
    monkeypatch.chdir(tmp_path)
    make_video(tmp_path / name, seconds=1.0, fps=15, events=(0.4,))
    assert main(["--video=" + name, "--reference", str(reference), "--output=-out:" + name,
                 "--model", str(model), "--device", "cpu"]) == 0
    assert durations(tmp_path / ("-out:" + name))["audio"] == pytest.approx(1.0, abs=0.05)


def test_playlist_disguised_as_video_is_refused(model, reference, tmp_path, capsys):
    from tests.media import make_playlist

    secret = make_video(tmp_path / "private" / "home.mp4", seconds=1.0)
    evil = make_playlist(tmp_path / "clip.mp4", secret)
    assert run(model, evil, reference, tmp_path / "out.mp4") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(evil) in err and "not accepted as media" in err
    assert not (tmp_path / "out.mp4").exists()


def test_late_picture_gets_sound_for_exactly_its_span(model, reference, tmp_path):
    from tests.media import make_offset_clip

    video = make_offset_clip(tmp_path / "late.mp4", picture_start=1.0, sound_start=0.0,
                             event=2.0, seconds=3.0, fps=15)
    out = tmp_path / "out.mp4"
    assert run(model, video, reference, out) == 0
    info = ffmpeg.probe(str(out))
    v, a = (next(s for s in info["streams"] if s["codec_type"] == k) for k in ("video", "audio"))
    assert abs(float(v["start_time"]) - float(a["start_time"])) < 0.03
    assert float(a["duration"]) == pytest.approx(3.0, abs=0.05)


def test_a_file_cut_short_gets_sound_only_for_its_readable_picture(
    model, reference, tmp_path, caplog
):
    from tests.media import make_truncated

    full = make_video(tmp_path / "full.mp4", seconds=5.0, fps=25, size=(96, 128),
                      events=(1.0, 2.0), faststart=True)
    cut = make_truncated(full, tmp_path / "cut.mp4", keep=0.6)
    out = tmp_path / "out.mp4"
    with caplog.at_level("WARNING"):
        assert run(model, cut, reference, out) == 0
    got = durations(out)
    assert got["audio"] < 4.5 and got["audio"] == pytest.approx(got["video"], abs=0.1)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and str(cut) in warnings[0] and "5.00 s" in warnings[0]
    stub = make_truncated(full, tmp_path / "stub.mp4", keep=0.15)
    assert run(model, stub, reference, tmp_path / "stub_out.mp4") == 2
    assert not (tmp_path / "stub_out.mp4").exists()


def test_a_full_disk_is_one_line_naming_the_output(model, reference, tmp_path, capsys,
                                                    small_disk):
    from tests.disk import fill_up, temporaries

    fill_up(small_disk, leave=1024)  # less than the clip's mp4 needs
    full_disk = small_disk
    video = make_video(tmp_path / "v.mp4", seconds=2.0, fps=15)
    out = full_disk / "out.mp4"
    assert run(model, video, reference, out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(out) in err and "no space left on device" in err
    assert not out.exists() and temporaries(full_disk) == []


def test_an_unknown_vocoder_is_one_line_naming_the_known_ones(model, reference, tmp_path, capsys):
    video = make_video(tmp_path / "v.mp4", seconds=1.0, fps=15)
    assert run(model, video, reference, tmp_path / "out.mp4", "--vocoder", "nope") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope" in err and "hifigan" in err


def test_feature_options_that_change_the_features_are_refused(model, reference, tmp_path, capsys):
    """The model records how its features were made; only runtime options may be set (the
    runtime options themselves are tested in tests/features/test_runtime.py)."""
    video = make_video(tmp_path / "v.mp4", seconds=1.0, fps=15)
    bad = tmp_path / "bad.wav"
    assert run(model, video, reference, bad, "--feature-config", "step=2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'step' cannot be set at inference" in err
    assert not bad.exists()


def test_the_vocoder_gets_ready_while_the_model_loads(model, reference, tmp_path, monkeypatch):
    from vs_plugin.bin import generate
    from vs_plugin.infer import single

    started, seen = threading.Event(), []
    real_prepare, real_load = single.prepare_vocoder_for, generate.load_model

    def prepare(vocoder, video):
        started.set()
        real_prepare(vocoder, video)

    def load_model(*args, **kwargs):
        seen.append(started.wait(timeout=20))  # True only if preparing began before this
        return real_load(*args, **kwargs)

    monkeypatch.setattr(single, "prepare_vocoder_for", prepare)
    monkeypatch.setattr(generate, "load_model", load_model)
    video = make_video(tmp_path / "v.mp4", seconds=4.0, fps=25, size=(48, 64), audio=False)
    assert run(model, video, reference, tmp_path / "out.wav") == 0
    assert seen == [True]


def _digest(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("role", ["video", "reference"])
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(
    model, reference, tmp_path, capsys, role
):
    video = make_video(tmp_path / "v.mp4", seconds=2.0, audio=False)
    ref = tmp_path / "r.wav"
    sf.write(ref, sf.read(reference)[0], 44100)
    target = video if role == "video" else ref
    out = video  # the same path
    if role == "reference":  # the same file under another name: a symlink
        out = tmp_path / "ref_link.wav"
        out.symlink_to(ref)
    before = _digest(target)
    assert run(model, video, ref, out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(out) in err and "itself" in err
    assert _digest(target) == before


@pytest.mark.parametrize("name", ["o.webm", "o.gif", "o.xyz", "no_extension"])
def test_an_output_container_it_cannot_write_is_refused_before_any_work(
    model, reference, tmp_path, capsys, monkeypatch, name
):
    from vs_plugin.bin import generate

    monkeypatch.setattr(generate, "load_model", lambda *a, **k: pytest.fail("work started"))
    video = make_video(tmp_path / "v.mp4", seconds=1.0, audio=False)
    assert run(model, video, reference, tmp_path / name) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path / name) in err and ".mkv" in err
    assert not (tmp_path / name).exists()


def test_avi_output_gets_pcm_sound_as_long_as_its_picture(model, reference, tmp_path):
    video = make_video(tmp_path / "v.mp4", seconds=3.0, fps=25, audio=False)
    from vs_plugin.audio.io import load_audio

    out = tmp_path / "o.avi"
    assert run(model, video, reference, out, "--vocoder", "griffin_lim") == 0
    streams = {s["codec_type"]: s for s in ffmpeg.probe(str(out))["streams"]}
    assert streams["audio"]["codec_name"] == "pcm_s16le"
    seconds = len(load_audio(out, 22050)) / 22050
    assert abs(seconds - 3.0) < 0.02  # with AAC, an AVI's sound was 0.13 s longer


def test_a_file_name_starting_with_a_dash_works_as_typed(model, reference, tmp_path,
                                                           monkeypatch):
    make_video(tmp_path / "-clip.mp4", seconds=1.5, audio=False)
    monkeypatch.chdir(tmp_path)
    assert main(["--video", "-clip.mp4", "--reference", str(reference), "--output", "-out.wav",
                 "--model", str(model), "--device", "cpu", "--vocoder", "griffin_lim"]) == 0
    assert sf.info(str(tmp_path / "-out.wav")).duration == pytest.approx(1.5, abs=0.05)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is present")
def test_asking_for_a_gpu_where_there_is_none_is_one_line(model, reference, tmp_path, capsys):
    video = make_video(tmp_path / "v.mp4", seconds=1.0, audio=False)
    assert run(model, video, reference, tmp_path / "o.wav", "--device", "cuda") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vs-generate: error: ") and "no CUDA GPU" in err
    assert len(err.splitlines()) == 1


def test_replacing_an_output_keeps_its_permissions(model, reference, tmp_path):
    video = make_video(tmp_path / "v.mp4", seconds=1.0, audio=False)
    out = tmp_path / "o.wav"
    out.write_bytes(b"old")
    out.chmod(0o640)
    assert run(model, video, reference, out, "--vocoder", "griffin_lim") == 0
    assert (out.stat().st_mode & 0o777) == 0o640 and out.read_bytes() != b"old"


def test_a_raw_elementary_stream_is_told_to_go_in_a_container(model, reference, tmp_path,
                                                               capsys):
    raw = tmp_path / "clip.h264"
    (
        ffmpeg.input("testsrc2=size=64x48:rate=25", f="lavfi", t=1)
        .output(str(raw), f="h264", pix_fmt="yuv420p")
        .global_args("-loglevel", "error")
        .run()
    )
    assert run(model, raw, reference, tmp_path / "o.mp4") == 2
    err = capsys.readouterr().err.strip()
    assert str(raw) in err and "no timestamps" in err and len(err.splitlines()) == 1


def test_sigterm_mid_run_exits_143_and_leaves_nothing_behind(model, reference, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    video = make_video(tmp_path / "long.mp4", seconds=120.0, fps=10, size=(36, 50),
                       audio=False, events=(1.0, 60.0))
    out_dir, tmp_dir = tmp_path / "out", tmp_path / "tmp"
    out_dir.mkdir()
    tmp_dir.mkdir()
    code = ("import sys, tests.infer.tinymodel; from vs_plugin.bin.generate import main; "
            "sys.exit(main())")
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--video", str(video), "--reference", str(reference),
         "--output", str(out_dir / "o.wav"), "--model", str(model), "--device", "cpu",
         "--vocoder", "griffin_lim"],
        cwd=repo, env={**os.environ, "TMPDIR": str(tmp_dir)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # SIGTERM's default action, whatever this test process was started with
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list(out_dir.glob(".o.wav.tmp~*")):  # the sound is being written
        assert proc.poll() is None, "finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()[-2000:]
    assert "Traceback" not in err.decode()
    assert list(out_dir.iterdir()) == [] and list(tmp_dir.iterdir()) == []
    with pytest.raises(ProcessLookupError):  # nothing of it still running (ffmpeg included)
        os.killpg(proc.pid, 0)


def test_variable_frame_rate_with_b_frames_gets_sound_for_all_its_picture(
    model, reference, tmp_path
):
    video = tmp_path / "vfr.mp4"  # 30, then 10, then 30 frames a second; B-frames (x264's)
    pts = "if(lt(N,30),N/(30*TB),if(lt(N,60),(30+(N-30)*3)/(30*TB),(120+(N-60))/(30*TB)))"
    (
        ffmpeg.input("testsrc2=size=64x48:rate=30", f="lavfi")
        .filter("setpts", pts)
        .output(str(video), t=4, fps_mode="vfr", pix_fmt="yuv420p", vcodec="libx264")
        .global_args("-loglevel", "error")
        .run()
    )
    stated = float(ffmpeg.probe(str(video))["streams"][0]["duration"])
    out = tmp_path / "o.wav"
    assert run(model, video, reference, out, "--vocoder", "griffin_lim") == 0
    # the last picture is shown from 3.9 s for a frame: 3.93 s, although the stream says 3.8
    assert stated < 3.85 and sf.info(str(out)).duration == pytest.approx(3.933, abs=0.01)
