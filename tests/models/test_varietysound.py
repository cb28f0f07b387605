"""VarietySoundModel: raw features in, raw log-mel out, with its statistics as buffers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.infer.tinymodel import FEATURE_DIM, tiny_generator
from vs_plugin.audio.mel import MelConfig
from vs_plugin.data.normalize import Normalizer
from vs_plugin.models.varietysound import VarietySoundModel, VarietySoundModelConfig, config_for

VIDEO_FEATURE = {"name": "test_frame_stats", "fps": 21.5, "step": 8}
MEL_STATS = Normalizer(np.linspace(-7, -3, 80), np.linspace(1.5, 2.5, 80))
VIDEO_STATS = Normalizer(np.full(FEATURE_DIM, 0.3), np.linspace(0.1, 0.4, FEATURE_DIM))


@pytest.fixture(scope="module")
def model() -> VarietySoundModel:
    gen, spec = tiny_generator()
    m = VarietySoundModel(gen, config_for(gen, spec, VIDEO_FEATURE, MelConfig(fmax=7600.0)))
    m.set_statistics(MEL_STATS, VIDEO_STATS)
    return m.eval()


def raw_inputs(frames: int = 20, ref_frames: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    video = rng.random((frames, FEATURE_DIM)).astype(np.float32)  # (T, D)
    ref = (rng.standard_normal((80, ref_frames)) - 5).astype(np.float32)  # (n_mels, T_ref)
    return video, ref


def test_forward_normalises_runs_the_generator_and_denormalises(model):
    video, ref = raw_inputs()
    out = model.generate(video, ref)
    assert out.shape == (80, 4 * 20) and out.dtype == torch.float32
    v = torch.from_numpy(VIDEO_STATS.transform(video).T.astype(np.float32))[None]
    r = torch.from_numpy(MEL_STATS.transform(ref.T).T.astype(np.float32))[None]
    with torch.inference_mode():
        expected = MEL_STATS.inverse(model.generator(v, r)[0].numpy(), channel_axis=0)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)


def test_batched_inputs_and_a_shared_unbatched_reference(model):
    video, ref = raw_inputs()
    video2, ref2 = raw_inputs(seed=1)
    both = model.generate(np.stack([video, video2]), np.stack([ref, ref2]))
    assert both.shape == (2, 80, 80)
    torch.testing.assert_close(both[1], model.generate(video2, ref2), atol=1e-5, rtol=0)
    shared = model.generate(np.stack([video, video2]), ref)  # one reference for the batch
    torch.testing.assert_close(shared[1], model.generate(video2, ref), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="expected 2 or 3 axes"):
        model.generate(video[None, None], ref)


def test_feature_spec_and_statistics_are_carried(model):
    assert model.video_feature == VIDEO_FEATURE and model.mel == MelConfig(fmax=7600.0)
    assert model.spec["name"] == "varietysound" and model.upsample == 4
    np.testing.assert_allclose(model.mel_stats.mean, MEL_STATS.mean, rtol=1e-6)
    np.testing.assert_allclose(model.video_stats.scale, VIDEO_STATS.scale, rtol=1e-6)
    keys = set(model.state_dict())
    assert {"mel_mean", "mel_scale", "video_mean", "video_scale"} <= keys
    assert "generator.silence_mel" in keys  # the silent background travels with the weights


def test_a_model_built_from_its_config_has_no_statistics_until_loaded(model):
    fresh = VarietySoundModel.from_config(model.config)
    video, ref = raw_inputs()
    with pytest.raises(RuntimeError, match="mel_mean is not set"):
        fresh.generate(video, ref)
    fresh.load_state_dict(model.state_dict())
    fresh.eval()
    torch.testing.assert_close(fresh.generate(video, ref), model.generate(video, ref))


def test_config_dims_must_match_the_generator():
    gen, spec = tiny_generator()
    with pytest.raises(ValueError, match="config dims"):
        VarietySoundModel(gen, VarietySoundModelConfig(generator=spec, video_dim=2048))
    with pytest.raises(ValueError, match="mel analysis has 64 bins"):
        VarietySoundModel(gen, config_for(gen, spec, VIDEO_FEATURE, MelConfig(n_mels=64)))
    with pytest.raises(ValueError, match="video statistics have 3 channels"):
        VarietySoundModel(gen, config_for(gen, spec, VIDEO_FEATURE)).set_statistics(
            MEL_STATS, Normalizer(np.zeros(3), np.ones(3))
        )
