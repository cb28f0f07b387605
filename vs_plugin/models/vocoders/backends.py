"""CPU runtimes for the HiFi-GAN generator besides torch eager: OpenVINO and ONNX Runtime.

Each runner takes a mel batch ``(B, n_mels, frames)`` float32 (natural-log magnitudes) and
returns the waveform ``(B, 1, frames * hop)`` float32 in [-1, 1]. The graph is built from the
installed packages only (never downloaded): the folded torch generator is converted once, the
result is cached (:mod:`vs_plugin.utils.runtimes`) under a key made of the checkpoint's and
config's hash, the backend, the versions of torch and the backend's package and this
module's graph format, and later processes only read it back.

OpenVINO runs a static-shape graph: with a dynamic time axis every new length paid 3 to 4 s
on its first call, and compiling a static shape in bf16 costs about 2 s plus 4.5 ms per frame
on one core (most of it generating kernels for that shape), more than running it. So mels longer
than ``WINDOW`` frames are cut into windows of exactly ``WINDOW`` frames, overlapping so that
each window's kept output has ``CONTEXT`` frames of real input on both sides (HiFi-GAN V1's
receptive field is 14 frames each way): the output equals a full-length run up to rounding,
one compiled shape serves every length, and the overlap costs 10 to 20 % more frames on
typical lengths. Shorter mels run at their exact shape (a few recent shapes are kept). The
``bf16`` precision runs the convolutions on the CPU's AMX / AVX512-BF16 units (2.2 to 2.7 x
faster than torch fp32 on a 10 s mel, windows included, on a 2-core AMX CPU; log-mel L1 about
0.03 to the fp32 output); ``fp32`` keeps the fp32 arithmetic (as fast as torch fp32 here).
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn

from vs_plugin.utils import runtimes
from vs_plugin.utils.runtimes import cached_export

log = logging.getLogger("vs_plugin.vocoder")

BACKENDS = ("auto", "torch", "openvino", "onnxruntime")
GRAPH_FORMAT = 1  # bump when the generator's code or the export changes the cached graphs
COMPILED_SHAPES = 4  # OpenVINO: compiled models kept, one per recent input shape
WINDOW = 256  # OpenVINO: mel frames per window of a long input (one static shape)
CONTEXT = 16  # frames of input kept on each side of a window's output (receptive field: 14)


def require(module: str, backend: str) -> ModuleType:
    """Import ``module`` for vocoder ``backend``, or raise a one-line ConfigError."""
    return runtimes.require(module, f"vocoder backend {backend!r}")


def cache_dir(weights_digest: str, backend: str, dists: list[str]) -> Path:
    """``<cache>/hifigan-<backend>-<key>``: key = weights, versions, graph format."""
    return runtimes.graph_folder("hifigan", weights_digest, backend, GRAPH_FORMAT, dists)


def plan_windows(frames: int, window: int, context: int) -> list[tuple[int, int, int]]:
    """Windows of ``window`` frames covering ``frames`` (> ``window``) with ``context``.

    Returns ``(start, keep_from, keep_to)`` per window (absolute frame indices): the window
    reads ``[start, start + window)`` and its output frames ``[keep_from, keep_to)`` are kept.
    The kept ranges tile ``[0, frames)``; each has at least ``context`` input frames on both
    sides, except at the mel's own ends. Starts are spread evenly, the last window ends at
    ``frames``, and the count is the least that keeps the context.
    """
    core = window - 2 * context
    if core <= 0 or frames <= window:
        raise ValueError(f"need frames > window > 2 * context, got {frames}, {window}, {context}")
    n = math.ceil((frames - 2 * context) / core)
    starts = [round(i * (frames - window) / (n - 1)) for i in range(n)]
    bounds = [0] + [s + context for s in starts[1:]] + [frames]
    return [(s, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)]


class OpenVINORunner:
    """The generator as an OpenVINO model on the CPU, compiled per input shape.

    ``precision``: ``bf16`` (convolutions in bfloat16 on AMX/AVX512-BF16; on a CPU without
    them OpenVINO computes in fp32) or ``fp32``.
    """

    def __init__(self, model: nn.Module, n_mels: int, hop_length: int, weights_digest: str,
                 precision: str, threads: int, window: int = WINDOW) -> None:
        self.ov = require("openvino", "openvino")
        self.hop_length = hop_length
        self.window = window
        self.threads = threads
        self.graph = runtimes.OpenVINOModule(
            model, torch.zeros(1, n_mels, 64), network="hifigan", digest=weights_digest,
            graph_format=GRAPH_FORMAT, precision=precision, threads=threads,
            kept_shapes=COMPILED_SHAPES, user="vocoder backend 'openvino'",
            export=lambda path: self._export(model, n_mels, path),
        )

    @property
    def compiled(self) -> dict[tuple[int, ...], Any]:
        """The compiled models by input shape (the most recent last)."""
        return self.graph.compiled

    def _export(self, model: nn.Module, n_mels: int, path: Path) -> None:
        """Trace ``model`` with OpenVINO's PyTorch front end and save the IR (fp32 weights)."""
        from openvino.frontend import FrontEndManager
        from openvino.frontend.pytorch.ts_decoder import TorchScriptPythonDecoder

        example = torch.zeros(1, n_mels, 64)
        with torch.no_grad():
            decoder = TorchScriptPythonDecoder(model.eval(), example_input=(example,),
                                               shared_memory=False)
            frontend = FrontEndManager().load_by_framework("pytorch")
            ov_model = frontend.convert(frontend.load(decoder))
        ov_model.reshape({0: self.ov.PartialShape([-1, n_mels, -1])})
        self.ov.save_model(ov_model, path, compress_to_fp16=False)

    def _run(self, mel: np.ndarray) -> np.ndarray:
        """One compiled call at ``mel``'s exact shape: ``(B, n_mels, T)`` -> ``(B, 1, T * hop)``."""
        return self.graph(mel)

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        """``(B, n_mels, frames)`` float32 -> ``(B, 1, frames * hop)`` float32."""
        mel = np.asarray(mel, dtype=np.float32)
        batch, _, frames = mel.shape
        if frames <= self.window:
            return self._run(mel)
        hop = self.hop_length
        out = np.empty((batch, 1, frames * hop), np.float32)
        for start, keep_from, keep_to in plan_windows(frames, self.window, CONTEXT):
            wav = self._run(mel[:, :, start : start + self.window])
            out[:, :, keep_from * hop : keep_to * hop] = wav[
                :, :, (keep_from - start) * hop : (keep_to - start) * hop
            ]
        return out


class ONNXRuntimeRunner:
    """The generator as an ONNX graph (dynamic batch and time axes) on ONNX Runtime's CPU
    provider, full graph optimisation, ``threads`` intra-op threads; fp32 only."""

    def __init__(self, model: nn.Module, n_mels: int, weights_digest: str, threads: int) -> None:
        ort = require("onnxruntime", "onnxruntime")
        folder = cache_dir(weights_digest, "onnxruntime", ["onnxruntime", "onnx"])
        path = cached_export(folder, "generator.onnx",
                             lambda p: self._export(model, n_mels, p))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    @staticmethod
    def _export(model: nn.Module, n_mels: int, path: Path) -> None:
        """``torch.onnx.export`` (TorchScript exporter, opset 17) with dynamic B and frames."""
        require("onnx", "onnxruntime")
        example = torch.zeros(1, n_mels, 64)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                model.eval(), (example,), str(path), input_names=["mel"],
                output_names=["wav"], opset_version=17, dynamo=False,
                dynamic_axes={"mel": {0: "batch", 2: "frames"},
                              "wav": {0: "batch", 2: "samples"}},
            )

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        """``(B, n_mels, frames)`` float32 -> ``(B, 1, frames * hop)`` float32."""
        mel = np.ascontiguousarray(mel, dtype=np.float32)
        return self.session.run(None, {"mel": mel})[0]
