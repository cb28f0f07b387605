import numpy as np
import pytest
import torch

from vs_plugin.features.effnet_lite import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    EfficientNetLite0,
    cross_modality_stem,
    fuse_for_inference,
    load_lite0,
    weights_path,
)
from vs_plugin.registry import VIDEO_FEATURES

# ImageNet classes a photo of a Chinese temple may plausibly get
BUILDINGS = {
    497: "church",
    442: "bell cote",
    698: "palace",
    538: "dome",
    832: "stupa",
    663: "monastery",
    668: "mosque",
    449: "boathouse",
    858: "tile roof",
}


@pytest.fixture(scope="module")
def net():
    return load_lite0()


def test_packaged_weights_load_strictly_and_cover_every_parameter(net):
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    assert set(state) == set(EfficientNetLite0().state_dict())
    assert torch.equal(
        net._blocks[15]._project_conv.weight, state["_blocks.15._project_conv.weight"]
    )


def test_classifies_a_real_photo_plausibly(net):
    from sklearn.datasets import load_sample_image

    img = load_sample_image("china.jpg")  # a temple among trees
    x = torch.from_numpy(np.ascontiguousarray(img[:, 106:533])).permute(2, 0, 1)[None].float()
    x = torch.nn.functional.interpolate(x / 255, size=(224, 224), mode="area")
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(
        1, 3, 1, 1
    )
    with torch.no_grad():
        top5 = net(x).topk(5).indices[0].tolist()
    assert top5[0] in BUILDINGS, top5


def test_fused_network_and_cross_modality_stem(net):
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref = net.features(x)
        import copy

        fused = fuse_for_inference(copy.deepcopy(net))
        torch.testing.assert_close(fused.features(x), ref, rtol=1e-4, atol=1e-4)
        flow = cross_modality_stem(copy.deepcopy(net), 2)
    w = flow._conv_stem.weight
    assert w.shape[1] == 2
    torch.testing.assert_close(w[:, 0], net._conv_stem.weight.mean(dim=1))
    torch.testing.assert_close(w[:, 0], w[:, 1])


def test_extractor_output_is_deterministic_and_informative():
    feat = VIDEO_FEATURES.build(
        {
            "name": "effnet_rgb_flow",
            "image_size": 64,
            "flow_height": 32,
            "flow_width": 40,
            "device": "cpu",
        }
    )
    rng = np.random.default_rng(0)
    still = np.repeat(rng.integers(0, 255, (1, 48, 64, 3), dtype=np.uint8), 4, axis=0)
    moving = np.stack([np.roll(still[0], 3 * i, axis=1) for i in range(4)])
    a, b = feat(still), feat(moving)
    assert a.shape == (4, 2560) and a.dtype == np.float32 and feat.dim == 2560
    np.testing.assert_array_equal(a, feat(still))
    assert np.all(np.isfinite(a)) and a[:, :1280].std() > 0
    # same first frame -> same RGB row; motion changes the flow half
    np.testing.assert_allclose(a[0, :1280], b[0, :1280], rtol=1e-5, atol=1e-5)
    assert np.abs(a[0, 1280:] - b[0, 1280:]).max() > 1e-3
