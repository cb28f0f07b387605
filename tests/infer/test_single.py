"""The single-clip path: streamed features, the reference checks, and the sound streamed
through generator, stretch and vocoder in bounded memory, equal to the whole-array steps."""

from __future__ import annotations

import errno
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.infer import wholearray
from tests.infer.tinymodel import FrameStatsConfig, FrameStatsFeature, SineVocoder, export_tiny
from tests.media import make_video, tone
from vs_plugin.audio.io import save_wav
from vs_plugin.errors import InputError, OutputError
from vs_plugin.infer import single
from vs_plugin.infer.generation import GenerationConfig, generate_mel, stretch_frames
from vs_plugin.infer.single import (
    FeatureFile,
    extract_video_features,
    generate_clip,
    load_reference,
    recorded_video_feature,
    stream_sound,
)
from vs_plugin.infer.vocode import fit_length, vocode
from vs_plugin.models.export import load_exported
from vs_plugin.video.io import read_frames

SMALL = (36, 48)  # (H, W) frames are decoded at in these tests, instead of FRAME_SIZE
MiB = 2**20


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_exported(export_tiny(tmp_path_factory.mktemp("exp") / "model"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ref") / "ref.wav"
    sf.write(path, tone(3.0, 22050, (0.5, 1.5, 2.5), freq=330.0), 22050)
    return path


def long_video(folder: Path, seconds: float) -> Path:
    """A silent clip with small frames (fast to make and decode) and a few flashes."""
    path = folder / f"v{seconds:g}.mp4"
    return make_video(path, seconds, fps=10, size=(36, 50), audio=False, events=(1.0, seconds / 2))


def test_streamed_features_equal_one_pass(tmp_path):
    video = make_video(tmp_path / "v.mp4", seconds=2.0, fps=24, size=(40, 60), events=(0.5, 1.2))
    feature = FrameStatsFeature(FrameStatsConfig())
    size = (32, 48)
    whole = feature(read_frames(video, fps=21.5, size=size))
    feature.calls.clear()
    streamed = extract_video_features(video, feature, size=size, chunk=7)
    assert streamed.shape == whole.shape == (43, 16)
    np.testing.assert_allclose(streamed, whole, atol=1e-6)  # motion dims included
    assert max(feature.calls) <= 7 + 2  # bounded: one chunk plus a frame of context per side


def test_reference_any_format_and_minimum_length(tmp_path):
    model = load_exported(export_tiny(tmp_path / "model"))
    stereo = np.stack([tone(1.0, 48000, (0.3,))] * 2, axis=1)
    sf.write(tmp_path / "ref.ogg", stereo, 48000)
    mel = load_reference(tmp_path / "ref.ogg", model)
    assert mel.shape[1] == 80 and abs(len(mel) - 86) <= 1  # 1 s at 22050 / 256
    sf.write(tmp_path / "short.wav", tone(0.3, 16000, (0.1,)), 16000)  # a one-shot: tiled
    assert load_reference(tmp_path / "short.wav", model).shape == (43, 80)  # to 0.5 s
    sf.write(tmp_path / "tiny.wav", tone(0.05, 16000, (0.0,)), 16000)
    with pytest.raises(InputError, match=r"tiny\.wav: audio has 0\.05 s of sound .* 0\.1 s"):
        load_reference(tmp_path / "tiny.wav", model)


def test_feature_file_reads_back_the_rows_written(tmp_path):
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((500, 7))
    with FeatureFile(7, tmp_path) as store:
        for i in range(0, 500, 64):
            store.append(rows[i : i + 64])  # float64 in, float32 stored
        assert len(store) == 500 and list(tmp_path.iterdir()) == []  # the file has no name
        for a, b in ((0, 215), (430, 645), (499, 500), (10, 10)):
            got = store[a:b]
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, rows[a:b].astype(np.float32))
        with pytest.raises(ValueError, match=r"\(n, 7\)"):
            store.append(np.zeros((3, 8)))


def test_a_full_disk_for_the_features_names_the_folder(tmp_path, monkeypatch):
    store = FeatureFile(4, tmp_path)

    def full(_data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store._file, "write", full)
    with pytest.raises(OutputError, match="no space left on device") as info:
        store.append(np.zeros((10, 4)))
    assert info.value.path == tmp_path
    store.close()


def test_streamed_sound_equals_the_whole_array_steps(model, reference, tmp_path, monkeypatch):
    """70 s: 1505 feature frames in 9 generator windows (two batches of 8), their 6020 mel
    frames stretched to 6030 in 3 vocoder chunks. The test vocoder restarts its sine in
    every chunk, so only the same chunks give the same samples."""
    monkeypatch.setattr(single, "FRAME_SIZE", SMALL)
    video = long_video(tmp_path, 70.0)
    vocoder = SineVocoder()
    report = generate_clip(video, reference, tmp_path / "out.wav", model, vocoder)
    assert report.windows == 9 and report.video_frames == 1505
    assert list(report.timings) == ["features", "generator", "vocoder", "mux"]
    assert vocoder.frames_seen[:2] == [2580, 2580] and len(vocoder.frames_seen) == 3

    feats = extract_video_features(video, recorded_video_feature(model), size=SMALL)
    ref_mel = load_reference(reference, model)
    samples = round(report.duration * 22050)
    frames = -(-samples // 256)
    assert (len(feats) * 4, frames) == (6020, 6030)
    cfg = GenerationConfig()
    # the steps as they were before streaming, and today's whole-array functions
    before = wholearray.stretch_frames(wholearray.generate_mel(model, feats, ref_mel, cfg), frames)
    before = fit_length(wholearray.vocode(vocoder, before), samples)
    now = stretch_frames(generate_mel(model, feats, ref_mel, cfg=cfg)[0], frames)
    now = fit_length(vocode(vocoder, now), samples)
    streamed = np.concatenate(list(stream_sound(model, vocoder, feats, ref_mel, samples, cfg)))
    assert len(before) == samples
    np.testing.assert_array_equal(now, before)
    np.testing.assert_array_equal(streamed, before)
    save_wav(tmp_path / "expected.wav", before, 22050)
    assert (tmp_path / "out.wav").read_bytes() == (tmp_path / "expected.wav").read_bytes()


def traced_peak(run: Callable[[], object]) -> int:
    """Peak bytes traced by ``tracemalloc`` (numpy reports its buffers to it) during ``run``."""
    was_tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was_tracing:
            tracemalloc.stop()


def whole_array_clip(video: Path, reference: Path, out: Path, model, vocoder) -> None:
    """What ``generate_clip`` did before streaming: every step on the whole clip."""
    feats = extract_video_features(video, recorded_video_feature(model), size=SMALL)
    samples = round(len(feats) / 21.5 * 22050)
    ref_mel = load_reference(reference, model)
    mel = wholearray.generate_mel(model, feats, ref_mel, GenerationConfig())
    mel = wholearray.stretch_frames(mel, -(-samples // 256))
    save_wav(out, fit_length(wholearray.vocode(vocoder, mel), samples), 22050)


def test_memory_does_not_grow_with_the_video(model, reference, tmp_path, monkeypatch):
    """Peak traced memory of ``generate_clip`` for 60 s and for 240 s of video.

    Measured (36x48 frames, tiny model, test vocoder): 31.9 and 33.5 MiB; 32-34 MiB from
    30 s to 8 minutes, most of it one 30 s vocoder chunk with its float64 cross-fade. The
    steps on whole arrays, as ``generate_clip`` ran them before, peak at 52 and 178 MiB
    (about 42 MiB more per minute: the mel, the waveform and their float64 blends).
    The bound, 1.1 x the short clip's peak + 2 MiB, leaves room for allocator noise but not
    for anything that grows with the clip: even one float32 copy of the waveform (5 MiB per
    minute) or of the mel (1.6 MiB per minute) kept whole would break it.
    """
    monkeypatch.setattr(single, "FRAME_SIZE", SMALL)
    vocoder = SineVocoder()
    videos = {seconds: long_video(tmp_path, seconds) for seconds in (60.0, 240.0)}
    out = tmp_path / "out.wav"
    generate_clip(videos[60.0], reference, out, model, vocoder)  # warm up: first-call caches
    streamed = {
        s: traced_peak(lambda v=v: generate_clip(v, reference, out, model, vocoder))
        for s, v in videos.items()
    }
    whole = {
        s: traced_peak(lambda v=v: whole_array_clip(v, reference, out, model, vocoder))
        for s, v in videos.items()
    }
    report = ", ".join(f"{k} {v / MiB:.1f} MiB" for k, v in {**streamed, **whole}.items())
    assert streamed[240.0] < 1.1 * streamed[60.0] + 2 * MiB, report
    assert whole[240.0] > 2.5 * whole[60.0], report  # the measurement sees linear growth


class PreparingVocoder(SineVocoder):
    """Records what ``prepare`` was asked and when; can fail there like a missing package."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.prepared: list[int] = []

    def prepare(self, frames: int) -> None:
        if self.fail:
            raise InputError(None, "the vocoder's runtime is missing")
        self.prepared.append(frames)

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        assert self.prepared, "called before prepare finished"
        return super().__call__(mel)


def test_the_vocoder_is_prepared_for_the_clips_length_and_its_error_surfaces(
    model, reference, tmp_path, monkeypatch
):
    monkeypatch.setattr(single, "FRAME_SIZE", SMALL)
    video = long_video(tmp_path, 4.0)
    vocoder = PreparingVocoder()
    generate_clip(video, reference, tmp_path / "out.wav", model, vocoder)
    expected = -(-round(4.0 * 22050) // 256)  # the header's 4 s in mel frames
    assert vocoder.prepared == [expected]
    out = tmp_path / "failed.wav"
    with pytest.raises(InputError, match="runtime is missing"):
        generate_clip(video, reference, out, model, PreparingVocoder(fail=True))
    assert not out.exists()


def test_prepare_for_a_video_asks_for_its_stated_length_and_leaves_bad_files_alone(tmp_path):
    video = long_video(tmp_path, 4.0)
    vocoder = PreparingVocoder()
    single.prepare_vocoder_for(vocoder, video)
    assert vocoder.prepared == [single.mel_frames(4.0, 22050, 256)] == [345]
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    single.prepare_vocoder_for(vocoder, junk)  # generate_clip names the bad file, not this
    assert vocoder.prepared == [345]


def test_a_preparation_started_by_the_caller_is_waited_for_not_repeated(
    model, reference, tmp_path, monkeypatch
):
    monkeypatch.setattr(single, "FRAME_SIZE", SMALL)
    video = long_video(tmp_path, 4.0)
    vocoder = PreparingVocoder()
    with ThreadPoolExecutor(1) as pool:
        # still under way when generate_clip starts: the vocoder's first call must wait
        ready = pool.submit(lambda: (time.sleep(0.5), vocoder.prepare(7))[1])
        generate_clip(video, reference, tmp_path / "out.wav", model, vocoder,
                      vocoder_ready=ready)
    assert vocoder.prepared == [7]  # the caller's, and no second one
    failed: Future[None] = Future()
    failed.set_exception(InputError(None, "the vocoder's runtime is missing"))
    out = tmp_path / "failed.wav"
    with pytest.raises(InputError, match="runtime is missing"):
        generate_clip(video, reference, out, model, PreparingVocoder(), vocoder_ready=failed)
    assert not out.exists()


def test_prepare_for_a_video_that_probes_oddly_prepares_nothing_and_raises_nothing(
    tmp_path, monkeypatch
):
    def odd_probe(path):
        raise KeyError("width")  # a stream without the fields a video stream should have

    monkeypatch.setattr(single, "video_info", odd_probe)
    vocoder = PreparingVocoder()
    single.prepare_vocoder_for(vocoder, tmp_path / "odd.mp4")
    assert vocoder.prepared == []
