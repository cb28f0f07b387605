import numpy as np
import pytest

from vs_plugin.video.flow import flow_images


@pytest.mark.parametrize("method", ["dis", "tvl1"])
def test_flow_sees_rightward_motion(method):
    rng = np.random.default_rng(0)
    base = (rng.uniform(0, 255, (40, 60)) > 127).astype(np.uint8) * 255
    base = np.kron(base, np.ones((2, 2), np.uint8))  # 80 x 120 blocky texture
    frames = np.stack([np.roll(base, 2 * i, axis=1) for i in range(3)])
    frames = np.repeat(frames[..., None], 3, axis=-1)
    flow = flow_images(frames, method, size=None, bound=20.0)
    assert flow.shape == (3, 80, 120, 2) and flow.dtype == np.uint8
    inner = flow[0, 10:-10, 10:-10].astype(float)
    dx = (inner[..., 0] * 40 / 255 - 20).mean()
    dy = (inner[..., 1] * 40 / 255 - 20).mean()
    assert 1.0 < dx < 3.0 and abs(dy) < 0.5  # 2 pixels right, none down
    np.testing.assert_array_equal(flow[-1], flow[-2])


def test_still_video_has_no_motion():
    frames = np.full((2, 32, 32, 3), 90, np.uint8)
    assert np.abs(flow_images(frames, "dis", (32, 32)).astype(int) - 128).max() <= 1
