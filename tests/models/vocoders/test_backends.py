"""HiFi-GAN's CPU backends: the quality guard against torch fp32, selection by name, the
graph cache, and the one-line error for a missing package.

The guard: log-mel L1 (the project's ``log_mel``) between a backend's waveform and the torch
fp32 waveform <= 0.05 on the synthetic recordings of test_vocoder_quality (harmonics, impacts,
noise floor): 3 s at its usual level (peak 0.5; longer than OpenVINO's window, so it runs in
overlapping windows) and 1 s 10 dB quieter (peak 0.15; one exact-shape call). Measured: OpenVINO
bf16 0.028 / 0.021, OpenVINO fp32 and ONNX Runtime fp32 under 1e-5.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from tests.models.vocoders.test_vocoder_quality import BOUND, multires_mel_error, recording
from vs_plugin.audio.mel import log_mel
from vs_plugin.errors import ConfigError
from vs_plugin.models.vocoders import backends
from vs_plugin.models.vocoders.hifigan import HiFiGANConfig, HiFiGANVocoder
from vs_plugin.registry import VOCODERS
from vs_plugin.utils import runtimes

GUARD = 0.05


@pytest.fixture(scope="module", autouse=True)
def _fresh_graph_cache(graph_cache):
    """Every test of this module uses the module's own graph cache (tests/conftest.py)."""
    return graph_cache


@pytest.fixture(scope="module")
def clips() -> list[tuple[np.ndarray, np.ndarray]]:
    """(waveform, log-mel) of a 3 s recording at peak 0.5 and of a 1 s one at peak 0.15."""
    loud = recording(seconds=3.0)
    quiet = 0.3 * recording(seconds=1.0, seed=1)[::-1].copy()
    return [(w, log_mel(w)) for w in (loud, quiet)]


@pytest.fixture(scope="module")
def reference(clips) -> list[np.ndarray]:
    """The torch fp32 waveforms of ``clips``."""
    voc = VOCODERS.build({"name": "hifigan", "device": "cpu", "backend": "torch"})
    assert (voc.backend, voc.precision, voc.dtype) == ("torch", "fp32", torch.float32)
    return [voc(mel) for _, mel in clips]


def build(backend: str, precision: str = "auto") -> HiFiGANVocoder:
    return VOCODERS.build(
        {"name": "hifigan", "device": "cpu", "backend": backend, "precision": precision}
    )


@pytest.mark.parametrize(
    "backend, precision",
    [("openvino", "bf16"), ("openvino", "fp32"), ("onnxruntime", "fp32")],
)
def test_fast_path_is_within_the_guard_of_torch_fp32(backend, precision, clips, reference):
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnx")
    voc = build(backend, precision)
    assert (voc.backend, voc.precision) == (backend, precision)
    for (wav, mel), ref in zip(clips, reference):
        out = voc(mel)
        assert out.dtype == np.float32 and out.shape == ref.shape == (len(mel) * 256,)
        l1 = float(np.abs(log_mel(out) - log_mel(ref)).mean())
        assert l1 <= GUARD, (backend, precision, l1)
        if precision == "fp32":  # the same arithmetic, up to summation order
            assert l1 < 1e-3 and np.abs(out - ref).max() < 1e-3, l1
        assert multires_mel_error(wav, out) < BOUND


def test_windows_tile_the_mel_with_context():
    for frames in (257, 344, 861, 2580):
        plan = backends.plan_windows(frames, 256, 16)
        assert plan[0][:2] == (0, 0) and plan[-1][0] + 256 == plan[-1][2] == frames
        for (start, keep_from, keep_to), nxt in zip(plan, plan[1:]):
            assert keep_to == nxt[1]  # no gap, no overlap of kept output
            assert keep_from - start >= 16 * (start > 0) and start + 256 - keep_to >= 16
        assert len(plan) == -(-(frames - 32) // 224)  # the fewest windows
    with pytest.raises(ValueError):
        backends.plan_windows(256, 256, 16)


def test_default_on_the_cpu_is_openvino(clips):
    voc = VOCODERS.build({"name": "hifigan", "device": "cpu"})
    assert voc.cfg == HiFiGANConfig(device="cpu")
    expected = "bf16" if runtimes.openvino_has_bf16() else "fp32"
    assert (voc.backend, voc.precision) == ("openvino", expected)
    assert voc.dtype == torch.float32  # the torch module stays fp32: it is only exported
    # another length compiles another shape; repeated lengths reuse theirs
    a = voc(clips[0][1][:40])
    voc(clips[0][1][:50])
    np.testing.assert_array_equal(voc(clips[0][1][:40]), a)
    voc(clips[0][1])  # longer than a window: windows of one shape
    assert {s[2] for s in voc.runner().compiled} == {40, 50, backends.WINDOW}


def test_backend_and_precision_are_chosen_by_name():
    assert HiFiGANVocoder(HiFiGANConfig(device="cpu", backend="torch")).backend == "torch"
    voc = build("openvino", "fp32")
    assert (voc.backend, voc.precision) == ("openvino", "fp32")
    # auto means torch on CUDA; the CPU runtimes refuse CUDA in one line
    assert voc.resolve(torch.device("cpu")) == ("openvino", "fp32")
    assert build("auto", "fp32").resolve(torch.device("cuda")) == ("torch", "fp32")
    with pytest.raises(ConfigError, match="CPU only"):
        voc.resolve(torch.device("cuda"))
    with pytest.raises(ConfigError, match="backend must be one of"):
        build("tensorrt")
    with pytest.raises(ConfigError, match="fp32 only"):
        build("onnxruntime", "bf16")


def test_the_converted_graph_is_cached_and_reused(graph_cache, clips, monkeypatch):
    voc = build("openvino", "bf16")
    out = voc(clips[0][1])
    folders = sorted(graph_cache.glob("hifigan-openvino-*"))
    assert len(folders) == 1 and (folders[0] / "model.xml").exists()
    assert not list(graph_cache.glob(".*tmp~*"))  # no leftovers of the atomic export

    def no_export(*args, **kwargs):
        raise AssertionError("exported again despite the cache")

    monkeypatch.setattr(backends.OpenVINORunner, "_export", no_export)
    np.testing.assert_array_equal(build("openvino", "bf16")(clips[0][1]), out)
    # another checkpoint (hash) or package version gets another folder
    other = backends.cache_dir("0" * 64, "openvino", ["openvino"])
    assert other.parent == graph_cache and other != folders[0]


@pytest.mark.parametrize("module, backend", [("onnxruntime", "onnxruntime"),
                                              ("openvino", "openvino")])
def test_a_missing_package_is_a_one_line_error(module, backend, monkeypatch, clips):
    voc = build(backend, "fp32")
    monkeypatch.setitem(sys.modules, module, None)  # what an uninstalled package looks like
    with pytest.raises(ConfigError) as err:
        voc(clips[0][1])
    message = str(err.value)
    assert "\n" not in message
    assert f"'{backend}' needs the {module} package" in message
    assert f"pip install {module}==" in message


def test_auto_falls_back_to_torch_without_openvino(monkeypatch, clips, reference, caplog):
    monkeypatch.setitem(sys.modules, "openvino", None)
    voc = VOCODERS.build({"name": "hifigan", "device": "cpu"})
    assert (voc.backend, voc.precision) == ("torch", "fp32")
    assert "pip install openvino" in caplog.text
    np.testing.assert_allclose(voc(clips[0][1]), reference[0], atol=1e-6)


def test_prepare_compiles_the_window_shape_that_a_long_mel_then_uses(clips):
    voc = build("openvino", "fp32")
    voc.prepare(10)  # a short mel's exact length is unknown: nothing compiled yet
    assert voc._runner is None or not voc.runner().compiled
    voc.prepare(1000)
    assert set(voc.runner().compiled) == {(1, voc.n_mels, backends.WINDOW)}
    voc(clips[0][1])  # 3 s: longer than a window, so it runs at the prepared shape only
    assert set(voc.runner().compiled) == {(1, voc.n_mels, backends.WINDOW)}
