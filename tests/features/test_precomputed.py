import pickle

import numpy as np
import pytest

from vs_plugin.errors import InputError
from vs_plugin.registry import VIDEO_FEATURES


def test_npy_pairs_are_concatenated_and_fitted(tmp_path):
    (tmp_path / "rgb").mkdir()
    (tmp_path / "flow").mkdir()
    rgb, flow = np.ones((214, 1024), np.float32), np.full((215, 1024), 2.0, np.float32)
    np.save(tmp_path / "rgb" / "clip_01.npy", rgb)
    np.save(tmp_path / "flow" / "clip_01.npy", flow)
    feat = VIDEO_FEATURES.build(
        {
            "name": "precomputed",
            "rgb_dir": str(tmp_path / "rgb"),
            "flow_dir": str(tmp_path / "flow"),
        }
    )
    out = feat(np.zeros((215, 1, 1, 3), np.uint8), source="/any/where/clip_01.mp4")
    assert out.shape == (215, 2048)
    assert np.all(out[:, :1024] == 1) and np.all(out[:, 1024:] == 2)
    with pytest.raises(InputError, match="frames"):
        feat(np.zeros((100, 1, 1, 3), np.uint8), source="clip_01.mp4")
    with pytest.raises(InputError, match="no precomputed features"):
        feat(np.zeros((215, 1, 1, 3), np.uint8), source="other.mp4")


def test_pickles_only_when_trusted(tmp_path):
    with open(tmp_path / "c.pkl", "wb") as f:
        pickle.dump(np.zeros((10, 4), np.float32), f)
    spec = {"name": "precomputed", "rgb_dir": str(tmp_path), "dim": 4}
    frames = np.zeros((10, 1, 1, 3), np.uint8)
    with pytest.raises(InputError, match="trust_pickles"):
        VIDEO_FEATURES.build(spec)(frames, source="c.mp4")
    out = VIDEO_FEATURES.build({**spec, "trust_pickles": True})(frames, source="c.mp4")
    assert out.shape == (10, 4)
