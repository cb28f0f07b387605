"""Generation with an exported (random-weight) tiny model: shapes, windows, ablations."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.infer import wholearray
from tests.infer.tinymodel import FEATURE_DIM, export_tiny
from vs_plugin.infer.generation import (
    FrameStretcher,
    GenerationConfig,
    crop_reference,
    generate_mel,
    iter_mel,
    stretch_frames,
)
from vs_plugin.models.export import load_exported


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_exported(export_tiny(tmp_path_factory.mktemp("exp") / "model"))


def inputs(frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    video = rng.random((frames, FEATURE_DIM)).astype(np.float32)
    ref = (rng.standard_normal((120, 80)) - 5).astype(np.float32)
    return video, ref


CFG = GenerationConfig(window=40, overlap=8)


def test_output_is_raw_mel_four_times_the_video(model):
    video, ref = inputs(30)
    mel, windows = generate_mel(model, video, ref, cfg=CFG)
    assert mel.shape == (120, 80) and mel.dtype == np.float32 and windows == 1
    # inputs normalised, output de-normalised with the model's statistics (mel: -5, 2)
    with torch.inference_mode():
        raw = model.generator(
            torch.from_numpy(model.video_stats.transform(video).T)[None],
            torch.from_numpy(model.mel_stats.transform(ref).T)[None],
        )
    np.testing.assert_allclose(mel, raw[0].numpy().T * 2.0 - 5.0, atol=1e-4)


def test_long_video_goes_through_windows_and_matches_inside_a_window(model):
    video, ref = inputs(100)
    mel, windows = generate_mel(model, video, ref, cfg=CFG)
    assert windows == 3 and mel.shape == (400, 80)
    # the first window's frames before any overlap equal a direct run on that window
    head, _ = generate_mel(model, video[:40], ref, cfg=CFG)
    np.testing.assert_allclose(mel[: 4 * 30], head[: 4 * 30], atol=1e-4)
    assert np.all(np.isfinite(mel))


def test_streamed_mel_equals_the_whole_array_generation(model):
    video, ref = inputs(300)
    cfg = replace(CFG, batch_size=3)  # 10 windows: batches of 3, the last one of 1
    blocks = list(iter_mel(model, video, ref, cfg=cfg))
    expected = wholearray.generate_mel(model, video, ref, cfg)
    assert len(blocks) == 10 and sum(map(len, blocks)) == 1200
    np.testing.assert_array_equal(np.concatenate(blocks), expected)
    mel, windows = generate_mel(model, video, ref, cfg=cfg)
    assert windows == 10
    np.testing.assert_array_equal(mel, expected)
    one = list(iter_mel(model, video[:30], ref, cfg=cfg))
    np.testing.assert_array_equal(one[0], wholearray.generate_mel(model, video[:30], ref, cfg))


def test_ablations_change_the_output_reproducibly(model):
    video, ref = inputs(30)
    base, _ = generate_mel(model, video, ref, cfg=CFG)
    for field in ("drop_temporal", "drop_timbre"):
        for mode in ("zeros", "noise"):
            out, _ = generate_mel(model, video, ref, cfg=replace(CFG, **{field: mode}))
            assert not np.allclose(out, base, atol=1e-3), (field, mode)
            again, _ = generate_mel(model, video, ref, cfg=replace(CFG, **{field: mode}))
            np.testing.assert_allclose(out, again)  # seeded noise
    bg = (np.random.default_rng(1).standard_normal((120, 80)) - 3).astype(np.float32)
    with_bg, _ = generate_mel(model, video, ref, bg, cfg=CFG)
    assert not np.allclose(with_bg, base, atol=1e-3)
    # temporal information dropped: the output no longer depends on the video
    z1, _ = generate_mel(model, video, ref, cfg=replace(CFG, drop_temporal="zeros"))
    z2, _ = generate_mel(model, inputs(30, seed=5)[0], ref, cfg=replace(CFG, drop_temporal="zeros"))
    np.testing.assert_allclose(z1, z2, atol=1e-5)


def test_reference_crop_keeps_the_loudest_stretch():
    ref = np.full((100, 80), -10.0, np.float32)
    ref[70:90] = 0.0
    out = crop_reference(ref, 30)
    assert len(out) == 30 and (out == 0).sum() == 20 * 80
    assert crop_reference(ref, 200) is ref


def test_stretch_frames_keeps_ends_and_length():
    mel = np.linspace(0, 1, 100)[:, None] * np.ones((1, 80), np.float32)
    out = stretch_frames(mel, 103)
    assert out.shape == (103, 80)
    assert out[0, 0] == 0 and out[-1, 0] == pytest.approx(1.0)
    assert np.all(np.diff(out[:, 0]) > 0)


@pytest.mark.parametrize(
    "frames, to",
    [(100, 103), (100, 97), (6020, 6029), (20640, 20671), (5, 1), (1, 4), (3, 1000), (50, 0)],
)
def test_stretch_block_by_block_equals_the_whole_array_stretch(frames, to):
    rng = np.random.default_rng(frames + to)
    mel = rng.standard_normal((frames, 80)).astype(np.float32)
    expected = wholearray.stretch_frames(mel, to)
    np.testing.assert_array_equal(stretch_frames(mel, to), expected)
    stretcher = FrameStretcher(frames, to)
    out, i = [], 0
    while i < frames:
        k = int(rng.integers(0, 700))  # blocks of any size, empty ones included
        out.append(stretcher.push(mel[i : i + k]))
        i += k
        assert stretcher.held <= 3 or to == 1  # rows around the next output (one output: all)
    stretcher.finish()
    got = np.concatenate(out)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def test_stretch_checks_the_announced_lengths():
    stretcher = FrameStretcher(10, 12)
    stretcher.push(np.zeros((6, 2)))
    with pytest.raises(ValueError, match="6 of 10"):
        stretcher.finish()
    with pytest.raises(ValueError, match="more than the 10"):
        stretcher.push(np.zeros((5, 2)))
