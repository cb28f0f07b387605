"""HiFi-GAN's CPU paths side by side: seconds per second of audio and log-mel L1 to torch fp32.

The paths are timed alternately (one call of each per round, ``repeats`` rounds after a
warm-up round), so a machine whose load changes during the run slows them all alike. The
input is the log-mel of a synthetic sound (vibrato harmonics, noisy impacts, a noise floor) of
``seconds`` (10 s = 861 frames of 80 bins). ``first_call_s`` is the warm-up call: for the
OpenVINO and ONNX Runtime paths it includes loading the cached graph and compiling it for the
input's shape (the one-time export into the cache is not timed here).

Paths: ``torch-fp32`` (the reference), ``torch-bf16``, ``openvino-fp32``, ``openvino-bf16``,
``onnxruntime-fp32`` (the vocoder's backend/precision options), and experiments that are not
vocoder options: ``torch-compile`` (inductor, dynamic shapes), ``torch-compile-freezing``
(inductor with frozen weights, static shape), ``torch-jit`` (trace, freeze,
optimize_for_inference), ``torch-int8-fx`` (FX static int8 quantisation, x86 backend, three
calibration mels).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from tools.bench.common import median
from vs_plugin.audio.mel import log_mel
from vs_plugin.registry import VOCODERS

SR = 22050
HOP = 256
DEFAULT_PATHS = "torch-fp32,torch-bf16,onnxruntime-fp32,openvino-fp32,openvino-bf16"


def synthetic_sound(
    seconds: float, seed: int = 0, impacts: Sequence[float] | None = None
) -> np.ndarray:
    """``(seconds * 22050,)`` float32, peak 0.5: a vibrato harmonic tone with an on/off
    envelope, noisy 0.12 s impacts (at ``impacts`` seconds; default every 0.45 s from 0.15 s)
    and a noise floor. The vocoder tests use it too (their bounds were set on it)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 180 * (1 + 0.2 * np.sin(2 * np.pi * 1.3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    harm = sum(np.sin(k * phase) / k for k in range(1, 12)) * np.clip(np.sin(2 * np.pi * t), 0, 1)
    hits = np.zeros_like(t)
    for start in np.arange(0.15, seconds, 0.45) if impacts is None else impacts:
        i, n = int(start * SR), int(0.12 * SR)
        seg = hits[i : i + n]
        seg += np.exp(-np.arange(seg.size) / 400) * rng.standard_normal(seg.size)
    x = 0.6 * harm + 0.8 * hits + 0.01 * rng.standard_normal(t.size)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def _module_path(model: torch.nn.Module, dtype: torch.dtype = torch.float32
                 ) -> Callable[[np.ndarray], np.ndarray]:
    def run(mel: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(mel.T))[None].to(dtype)
        with torch.inference_mode():
            return model(x)[0, 0].float().numpy()

    return run


def build_path(name: str, mel: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A callable ``(frames, 80) log-mel -> (frames * 256,) waveform`` for path ``name``."""
    backend, _, precision = name.rpartition("-")
    if backend in ("torch", "openvino", "onnxruntime") and precision in ("fp32", "bf16"):
        return VOCODERS.build({"name": "hifigan", "device": "cpu", "backend": backend,
                               "precision": precision})
    model = VOCODERS.build({"name": "hifigan", "device": "cpu", "backend": "torch"}).model
    example = torch.from_numpy(np.ascontiguousarray(mel.T))[None]
    if name == "torch-compile":
        return _module_path(torch.compile(model, dynamic=True))
    if name == "torch-compile-freezing":
        return _module_path(torch.compile(model, dynamic=False, options={"freezing": True}))
    if name == "torch-jit":
        with torch.no_grad():
            traced = torch.jit.trace(model, example)
            return _module_path(torch.jit.optimize_for_inference(torch.jit.freeze(traced)))
    if name == "torch-int8-fx":
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

        torch.backends.quantized.engine = "x86"
        prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping("x86"),
                              (example,))
        with torch.no_grad():
            for seed in (1, 2, 3):
                calib = log_mel(synthetic_sound(2.0, seed))
                prepared(torch.from_numpy(np.ascontiguousarray(calib.T))[None])
        return _module_path(convert_fx(prepared))
    raise ValueError(f"unknown vocoder path {name!r}")


def bench_vocoder(seconds: float, paths: list[str], repeats: int) -> list[dict[str, Any]]:
    """One row per path; the first path is the reference of ``ratio`` and ``logmel_l1``."""
    frames = int(seconds * SR / HOP)
    mel = log_mel(synthetic_sound(seconds))[:frames]
    audio_s = frames * HOP / SR
    fns, build_s, first_s, outs = {}, {}, {}, {}
    for name in paths:
        t0 = time.perf_counter()
        fns[name] = build_path(name, mel)
        build_s[name] = time.perf_counter() - t0
    for name in paths:  # warm-up round
        t0 = time.perf_counter()
        outs[name] = fns[name](mel)
        first_s[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(repeats):
        for name in paths:
            t0 = time.perf_counter()
            fns[name](mel)
            times[name].append(time.perf_counter() - t0)
    ref = paths[0]
    ref_mel = log_mel(outs[ref])
    rows = []
    for name in paths:
        sec = median(times[name])
        rows.append({
            "path": name, "frames": frames, "threads": torch.get_num_threads(),
            "seconds": sec, "s_per_audio_s": sec / audio_s,
            "ratio": sec / median(times[ref]),
            "min_s": min(times[name]), "max_s": max(times[name]),
            "logmel_l1": float(np.abs(log_mel(outs[name]) - ref_mel).mean()),
            "build_s": build_s[name], "first_call_s": first_s[name],
        })
    return rows
