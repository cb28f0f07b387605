import numpy as np
import pytest
import torch

from vs_plugin.data.normalize import Normalizer


def test_fit_matches_pooled_statistics_and_roundtrips(tmp_path):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(3.0, 2.0, (t, 4)) * [1, 2, 3, 4] for t in (5, 17, 9)]
    norm = Normalizer.fit(iter(arrays))
    pooled = np.concatenate(arrays)
    np.testing.assert_allclose(norm.mean, pooled.mean(0), rtol=1e-10)
    np.testing.assert_allclose(norm.scale, pooled.std(0), rtol=1e-10)
    z = norm.transform(pooled)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-9)
    loaded = Normalizer.load(norm.save(tmp_path / "stats.npz"))
    np.testing.assert_array_equal(loaded.mean, norm.mean)
    np.testing.assert_allclose(loaded.inverse(loaded.transform(pooled)), pooled, atol=1e-9)


def test_torch_batch_layout_matches_numpy_time_major():
    rng = np.random.default_rng(1)
    norm = Normalizer(rng.normal(size=3), rng.uniform(0.5, 2, size=3))
    tc = rng.normal(size=(7, 3)).astype(np.float32)
    bct = torch.from_numpy(np.stack([tc.T, 2 * tc.T]))  # (B=2, C=3, T=7)
    out = norm.transform(bct)
    assert out.dtype == torch.float32 and out.shape == bct.shape
    np.testing.assert_allclose(out[0].numpy().T, norm.transform(tc), rtol=1e-5)
    np.testing.assert_allclose(norm.inverse(out).numpy(), bct.numpy(), rtol=1e-5, atol=1e-5)


def test_constant_channel_and_wrong_width():
    norm = Normalizer.fit([np.ones((4, 2))])
    assert np.all(norm.scale == 1.0)
    with pytest.raises(ValueError, match="3 channels"):
        norm.transform(np.zeros((5, 3)))
