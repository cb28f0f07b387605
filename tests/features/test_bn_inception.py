import numpy as np
import pytest
import torch

from vs_plugin.errors import InputError
from vs_plugin.features.bn_inception import BNInception, map_tsn_key
from vs_plugin.registry import VIDEO_FEATURES

STEM = {"conv1": "conv1_7x7_s2", "conv2_reduce": "conv2_3x3_reduce", "conv2": "conv2_3x3"}
BRANCH = {
    "c1": "1x1",
    "r3": "3x3_reduce",
    "c3": "3x3",
    "rd": "double_3x3_reduce",
    "d1": "double_3x3_1",
    "d2": "double_3x3_2",
    "proj": "pool_proj",
}


def tsn_name(key: str) -> str:
    """How TSN / Cadene's bn_inception checkpoint names our parameter ``key``."""
    parts = key.split(".")
    if parts[0] == "fc":
        return "last_linear." + parts[1]
    if parts[0] == "blocks":
        layer = f"inception_{parts[1]}_{BRANCH[parts[2]]}"
        part, param = parts[3], parts[4]
    else:
        layer, part, param = STEM[parts[0]], parts[1], parts[2]
    return f"{layer}{'_bn' if part == 'bn' else ''}.{param}"


def test_checkpoint_names_map_onto_every_module(tmp_path):
    net = BNInception()
    state = {
        tsn_name(k): torch.randn_like(v) if v.is_floating_point() else v
        for k, v in net.state_dict().items()
    }
    assert "inception_3a_double_3x3_1_bn.running_var" in state
    assert {map_tsn_key(k) for k in state} == set(net.state_dict())
    path = tmp_path / "bn_inception.pth"
    torch.save(state, path)
    feat = VIDEO_FEATURES.build(
        {
            "name": "bn_inception_rgb_flow",
            "weights": str(path),
            "device": "cpu",
            "image_size": 64,
            "flow_stack": 2,
        }
    )
    torch.testing.assert_close(
        feat.rgb_net.blocks["5b"].proj.conv.weight, state["inception_5b_pool_proj.weight"]
    )
    stem = feat.flow_net.conv1.conv.weight
    assert stem.shape[1] == 4
    torch.testing.assert_close(stem[:, 3], state["conv1_7x7_s2.weight"].mean(dim=1))


def test_random_init_shapes():
    feat = VIDEO_FEATURES.build(
        {
            "name": "bn_inception_rgb_flow",
            "random_init": True,
            "device": "cpu",
            "image_size": 64,
            "flow_height": 32,
            "flow_width": 40,
        }
    )
    frames = np.random.default_rng(0).integers(0, 255, (3, 48, 64, 3), dtype=np.uint8)
    out = feat(frames)
    assert out.shape == (3, 2048) and feat.dim == 2048 and np.all(np.isfinite(out))


def test_missing_weights_say_where_they_come_from(tmp_path):
    with pytest.raises(InputError, match="bn_inception-52deb4733.pth"):
        VIDEO_FEATURES.build("bn_inception_rgb_flow")
    with pytest.raises(InputError, match="not found"):
        VIDEO_FEATURES.build({"name": "bn_inception_rgb_flow", "weights": str(tmp_path / "x")})
