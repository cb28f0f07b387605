"""Where a video feature's image CNN runs: torch, or OpenVINO on the CPU, in fp32 or bf16.

``backend`` is a runtime choice: OpenVINO's fp32 output equals torch's to float rounding
(relative L1 under 1e-4, tested), so features made by one are used with the other.
``precision`` changes the values: ``bf16`` runs the convolutions in bfloat16 (OpenVINO on
AMX / AVX512-BF16 CPUs, ``torch.autocast`` on torch), about 7 % relative L1 from fp32 on
EfficientNet-Lite0 (cosine >= 0.99 per frame), so it is part of the feature spec and stage 1
and ``vs-generate`` always use the same one. On a CPU without bfloat16 units OpenVINO
computes ``bf16`` in fp32 (a warning says so).

Measured on a 2-core AMX Xeon, EfficientNet-Lite0 on 215 frames at 224 px (BENCHMARKS.md):
torch fp32 2.0 s, OpenVINO fp32 0.86 s, OpenVINO bf16 0.42 s.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from vs_plugin.errors import ConfigError
from vs_plugin.features.common import run_batched
from vs_plugin.utils import runtimes

log = logging.getLogger("vs_plugin.features")

BACKENDS = ("auto", "torch", "openvino")
PRECISIONS = ("fp32", "bf16")
GRAPH_FORMAT = 1  # bump when a network's code or the export changes the cached graphs
OPENVINO_BATCH = 8  # images per OpenVINO call (fastest measured; the last batch is padded)


def check_choice(backend: str, precision: str) -> None:
    """ConfigError for an unknown backend or precision."""
    if backend not in BACKENDS:
        raise ConfigError(f"feature backend must be one of {BACKENDS}, not {backend!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"feature precision must be one of {PRECISIONS}, not {precision!r}")


def resolve_backend(backend: str, device: torch.device) -> str:
    """``auto``: OpenVINO on the CPU when installed, else torch; OpenVINO needs the CPU."""
    if backend == "auto":
        return "openvino" if device.type == "cpu" and runtimes.has_module("openvino") else "torch"
    if backend == "openvino" and device.type != "cpu":
        raise ConfigError(
            f"feature backend 'openvino' runs on the CPU only, not on {device.type} "
            "(use backend torch or auto there)"
        )
    return backend


class _Features(nn.Module):
    """``forward`` = the wrapped network's pooled ``features`` (what is converted)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)


class ImageNetRunner:
    """A CNN's pooled features of uint8 images: ``(N, H, W, C)`` -> ``(N, D)`` float32.

    Images are scaled to [0, 1] and normalised with ``mean``/``std`` per channel, then run
    ``batch_size`` at a time (torch) or ``OPENVINO_BATCH`` at a time (OpenVINO; one compiled
    shape per image size). ``graph_key`` names the network and its weights (e.g. a digest of
    the weights file plus which head) for the graph cache.
    """

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float], *,
                 device: torch.device, batch_size: int, backend: str, precision: str,
                 graph_key: str, network: str) -> None:
        check_choice(backend, precision)
        self.net = net
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self.device = device
        self.batch_size = batch_size
        self.backend = resolve_backend(backend, device)
        self.precision = precision
        self.graph_key = graph_key
        self.network = network
        self._model: runtimes.OpenVINOModule | None = None

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if self.backend == "torch":
            autocast = (
                torch.autocast(self.device.type, dtype=torch.bfloat16)
                if self.precision == "bf16" else contextlib.nullcontext()
            )
            with autocast:
                return run_batched(self.net.features, images, self.mean, self.std,
                                   self.device, self.batch_size)
        return self._run_openvino(images)

    # OpenVINO ------------------------------------------------------------------------
    def _openvino(self) -> runtimes.OpenVINOModule:
        if self._model is None:
            if self.precision == "bf16" and not runtimes.openvino_has_bf16():
                log.warning("this CPU has no bfloat16 units: %s features computed in fp32 "
                            "although the spec says bf16", self.network)
            example = torch.zeros(1, len(self.mean), 64, 64)
            self._model = runtimes.OpenVINOModule(
                _Features(self.net), example, network=self.network, digest=self.graph_key,
                graph_format=GRAPH_FORMAT, precision=self.precision,
                user="feature backend 'openvino'",
            )
        return self._model

    def _run_openvino(self, images: np.ndarray) -> np.ndarray:
        n, h, w, c = images.shape
        batch = OPENVINO_BATCH
        model = self._openvino()
        # (x / 255 - mean) / std = (x - 255 mean) / (255 std)
        offset = (255.0 * self.mean).reshape(1, -1, 1, 1)
        scale = (1.0 / (255.0 * self.std)).reshape(1, -1, 1, 1)
        outs = []
        for start in range(0, n, batch):
            part = images[start : start + batch]
            x = np.zeros((batch, c, h, w), np.float32)  # the last batch is padded
            x[: len(part)] = part.transpose(0, 3, 1, 2)
            x[: len(part)] -= offset
            x[: len(part)] *= scale
            outs.append(model(x)[: len(part)])
        return np.concatenate(outs)
