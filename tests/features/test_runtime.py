"""The video feature CNNs' runtimes: OpenVINO fp32 equals torch fp32, bf16 stays within its
stated distance, batching does not change a frame's features, the converted graph is cached,
and the choice is checked and recorded as the spec says (backend: runtime; precision: spec)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from vs_plugin.errors import ConfigError
from vs_plugin.features import runtime
from vs_plugin.features.spec import build_video_feature, make_spec, spec_differences
from vs_plugin.registry import VIDEO_FEATURES
from vs_plugin.utils import runtimes

runtimes.import_openvino()  # a required package: a broken install fails here

# bf16 against fp32 on EfficientNet-Lite0 (measured 0.070 at 224 px on real frames)
BF16_REL_L1 = 0.12
BF16_MIN_COSINE = 0.99


@pytest.fixture(scope="module", autouse=True)
def _fresh_graph_cache(graph_cache):
    """Every test of this module uses the module's own graph cache (tests/conftest.py)."""
    return graph_cache


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    """11 frames of a textured scene with a bright square moving across it (uint8 RGB)."""
    rng = np.random.default_rng(0)
    base = (rng.random((1, 96, 128, 3)) * 80 + 60).astype(np.uint8).repeat(11, axis=0)
    yy, xx = np.mgrid[0:96, 0:128]
    base = base + (40 * np.sin(xx / 7.0) * np.cos(yy / 5.0))[None, :, :, None].astype(np.int16)
    out = np.clip(base, 0, 255).astype(np.uint8)
    for t in range(11):
        out[t, 30:60, 8 * t : 8 * t + 30] = (250, 230, 40)
    return out


def build(backend: str, precision: str = "fp32", **kw):
    return VIDEO_FEATURES.build({"name": "effnet_rgb_flow", "image_size": 112, "device": "cpu",
                                 "backend": backend, "precision": precision, **kw})


@pytest.fixture(scope="module")
def reference(frames) -> np.ndarray:
    return build("torch")(frames)


def rel_l1(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean() / np.abs(b).mean())


def test_openvino_fp32_equals_torch_fp32(frames, reference):
    feat = build("openvino")
    assert feat.rgb.backend == feat.flow.backend == "openvino"
    out = feat(frames)
    assert out.shape == reference.shape == (11, 2560) and out.dtype == np.float32
    assert rel_l1(out, reference) < 1e-4
    np.testing.assert_array_equal(out, feat(frames))  # deterministic


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_bf16_stays_within_its_stated_distance(frames, reference, backend):
    out = build(backend, "bf16")(frames)
    assert rel_l1(out, reference) < BF16_REL_L1
    for half in (slice(0, 1280), slice(1280, 2560)):  # RGB and flow each
        a, b = out[:, half], reference[:, half]
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        assert cos.min() > BF16_MIN_COSINE


def test_a_frames_features_do_not_depend_on_its_batch(frames):
    """OpenVINO pads the last batch to its fixed size: 3 frames alone = the first 3 of 11."""
    rgb = build("openvino").rgb
    images = frames[:, :112, :112]
    np.testing.assert_allclose(rgb(images[:3]), rgb(images)[:3], rtol=1e-5, atol=1e-5)


def test_the_converted_graph_is_cached_and_reused(frames, graph_cache, monkeypatch):
    first = build("openvino")(frames)
    folders = sorted(p.name.split("-openvino-")[0] for p in graph_cache.glob("effnet-*"))
    assert folders == ["effnet-lite0-flow", "effnet-lite0-rgb"]
    assert not list(graph_cache.glob(".*tmp~*"))

    def no_export(*args, **kwargs):
        raise AssertionError("exported again despite the cache")

    monkeypatch.setattr(runtimes.OpenVINOModule, "_export", no_export)
    np.testing.assert_array_equal(build("openvino")(frames), first)


def test_auto_is_openvino_on_the_cpu_and_torch_without_it(monkeypatch):
    assert runtime.resolve_backend("auto", torch.device("cpu")) == "openvino"
    assert runtime.resolve_backend("auto", torch.device("cuda")) == "torch"
    with pytest.raises(ConfigError, match="CPU only"):
        runtime.resolve_backend("openvino", torch.device("cuda"))
    monkeypatch.setitem(sys.modules, "openvino", None)  # what an uninstalled package looks like
    assert runtime.resolve_backend("auto", torch.device("cpu")) == "torch"
    with pytest.raises(ConfigError, match="needs the openvino package") as err:
        build("openvino").rgb(np.zeros((1, 32, 32, 3), np.uint8))
    assert "\n" not in str(err.value) and "pip install openvino==" in str(err.value)


@pytest.mark.parametrize("field, value", [("backend", "tensorrt"), ("precision", "fp16")])
def test_unknown_choices_are_one_line_errors(field, value):
    with pytest.raises(ConfigError, match=f"feature {field} must be one of") as err:
        VIDEO_FEATURES.build({"name": "effnet_rgb_flow", field: value})
    assert "\n" not in str(err.value)


def test_backend_is_a_runtime_field_and_precision_is_part_of_the_spec():
    def spec(**kw):
        return make_spec("video", {"name": "effnet_rgb_flow", "image_size": 112, **kw}, 21.5, 4)

    assert spec_differences(spec(backend="torch"), spec(backend="openvino")) == []
    assert spec_differences(spec(precision="fp32"), spec(precision="bf16")) == [
        "feature.precision: 'fp32' on disk, 'bf16' now"
    ]
    # inference rebuilds the recorded feature on its own device with the runtime for it
    recorded = {"name": "effnet_rgb_flow", "image_size": 112, "backend": "torch",
                "precision": "bf16", "device": "cpu"}
    feat = build_video_feature(recorded, device="cpu")
    assert (feat.cfg.backend, feat.cfg.precision) == ("auto", "bf16")
    assert feat.rgb.backend == "openvino"
    # runtime options may be set at inference; options that change the features may not
    assert build_video_feature(recorded, "cpu", {"backend": "torch"}).rgb.backend == "torch"
    with pytest.raises(ConfigError, match="'precision' cannot be set at inference"):
        build_video_feature(recorded, "cpu", {"precision": "fp32"})
