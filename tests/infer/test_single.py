"""Pieces of the single-clip path: streamed feature extraction and the reference checks."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.infer.tinymodel import FrameStatsConfig, FrameStatsFeature, export_tiny
from tests.media import make_video, tone
from vs_plugin.errors import InputError
from vs_plugin.infer.single import extract_video_features, load_reference
from vs_plugin.models.export import load_exported
from vs_plugin.video.io import read_frames


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
    sf.write(tmp_path / "short.wav", tone(0.3, 16000, (0.1,)), 16000)
    with pytest.raises(InputError, match=r"short\.wav: audio is 0\.30 s long; at least 0\.5 s"):
        load_reference(tmp_path / "short.wav", model)
