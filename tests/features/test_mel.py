"""The registered mel feature: one set of mel facts (``audio.mel.MelConfig``) and its output."""

from __future__ import annotations

import dataclasses

import numpy as np

from vs_plugin.audio.mel import MelConfig, log_mel
from vs_plugin.features.mel import MelFeatureConfig
from vs_plugin.registry import AUDIO_FEATURES


def test_the_feature_config_states_the_same_fields_and_defaults_as_melconfig():
    ours = [(f.name, f.default) for f in dataclasses.fields(MelFeatureConfig)]
    assert ours == [(f.name, f.default) for f in dataclasses.fields(MelConfig)]


def test_overrides_reach_the_analysis():
    wav = np.random.default_rng(0).standard_normal(22050).astype(np.float32) * 0.1
    feature = AUDIO_FEATURES.build({"name": "mel", "fmax": 7600.0, "n_mels": 64})
    assert feature.mel_cfg == MelConfig(fmax=7600.0, n_mels=64) and feature.dim == 64
    np.testing.assert_array_equal(feature(wav), log_mel(wav, MelConfig(fmax=7600.0, n_mels=64)))
