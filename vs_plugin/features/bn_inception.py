"""BN-Inception RGB + optical-flow features, the paper's video features (T x 2048).

The network (Ioffe & Szegedy, 2015, as used by TSN) is written here; its ImageNet weights are
not redistributable with this package, so the user supplies them: TSN's / Cadene's
``bn_inception-52deb4733.pth`` (from the ``pretrainedmodels`` project), whose key names
(``conv1_7x7_s2``, ``inception_3a_1x1_bn``, ...) are mapped onto these modules and loaded
strictly. Inputs follow that checkpoint: BGR, 0..255, minus (104, 117, 128). The flow stream
stacks ``flow_stack`` consecutive flow images (TSN used 5, i.e. 10 channels) and starts from
the RGB weights with the cross-modality stem unless ``flow_weights`` is given.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vs_plugin.errors import ConfigError, InputError
from vs_plugin.features.common import check_frames, resize_images, run_batched
from vs_plugin.interfaces import VideoFeature
from vs_plugin.registry import VIDEO_FEATURES
from vs_plugin.utils.device import pick_device
from vs_plugin.video.flow import METHODS, flow_images

WEIGHTS_HINT = (
    "BN-Inception ImageNet weights are not shipped; download TSN's / Cadene pretrainedmodels' "
    "bn_inception-52deb4733.pth (http://data.lip6.fr/cadene/pretrainedmodels/) and pass "
    "weights=/path/to/it, or use video_feature effnet_rgb_flow (works offline)"
)

# name: (1x1, 3x3 reduce, 3x3, double 3x3 reduce, double 3x3, pool kind, pool proj, stride)
INCEPTION = {
    "3a": (64, 64, 64, 64, 96, "avg", 32, 1),
    "3b": (64, 64, 96, 64, 96, "avg", 64, 1),
    "3c": (0, 128, 160, 64, 96, "max", 0, 2),
    "4a": (224, 64, 96, 96, 128, "avg", 128, 1),
    "4b": (192, 96, 128, 96, 128, "avg", 128, 1),
    "4c": (160, 128, 160, 128, 160, "avg", 128, 1),
    "4d": (96, 128, 192, 160, 192, "avg", 128, 1),
    "4e": (0, 128, 192, 192, 256, "max", 0, 2),
    "5a": (352, 192, 320, 160, 224, "avg", 128, 1),
    "5b": (352, 192, 320, 192, 224, "max", 128, 1),
}
FEATURE_DIM = 1024
BGR_MEAN = (104.0, 117.0, 128.0)


class ConvBN(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, pad: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=True)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    def __init__(self, cin: int, spec: tuple) -> None:
        super().__init__()
        c1, r3, c3, rd, cd, pool, proj, stride = spec
        self.c1 = ConvBN(cin, c1, 1) if c1 else None
        self.r3, self.c3 = ConvBN(cin, r3, 1), ConvBN(r3, c3, 3, stride, 1)
        self.rd, self.d1 = ConvBN(cin, rd, 1), ConvBN(rd, cd, 3, 1, 1)
        self.d2 = ConvBN(cd, cd, 3, stride, 1)
        if pool == "avg":
            self.pool = nn.AvgPool2d(3, 1, 1, ceil_mode=True, count_include_pad=True)
        else:
            self.pool = nn.MaxPool2d(3, stride, 1 if stride == 1 else 0, ceil_mode=True)
        self.proj = ConvBN(cin, proj, 1) if proj else None
        self.out_channels = c1 + c3 + cd + (proj or cin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [self.c1(x)] if self.c1 is not None else []
        outs.append(self.c3(self.r3(x)))
        outs.append(self.d2(self.d1(self.rd(x))))
        p = self.pool(x)
        outs.append(self.proj(p) if self.proj is not None else p)
        return torch.cat(outs, dim=1)


class BNInception(nn.Module):
    """BN-Inception up to the global average pool (1024-d)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = ConvBN(in_channels, 64, 7, 2, 3)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2_reduce = ConvBN(64, 64, 1)
        self.conv2 = ConvBN(64, 192, 3, 1, 1)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        blocks, cin = {}, 192
        for name, spec in INCEPTION.items():
            blocks[name] = Inception(cin, spec)
            cin = blocks[name].out_channels
        self.blocks = nn.ModuleDict(blocks)
        self.fc = nn.Linear(cin, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(self.conv2_reduce(x)))
        for block in self.blocks.values():
            x = block(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


_STEM = {"conv1_7x7_s2": "conv1", "conv2_3x3_reduce": "conv2_reduce", "conv2_3x3": "conv2"}
_BRANCH = {
    "1x1": "c1",
    "3x3_reduce": "r3",
    "3x3": "c3",
    "double_3x3_reduce": "rd",
    "double_3x3_1": "d1",
    "double_3x3_2": "d2",
    "pool_proj": "proj",
}
_KEY = re.compile(
    r"^(?:inception_(\w\w)_)?(\w+?)(_bn)?\.(weight|bias|running_mean|running_var|num_batches_tracked)$"
)


def map_tsn_key(key: str) -> str:
    """``inception_3a_double_3x3_1_bn.weight`` -> ``blocks.3a.d1.bn.weight`` etc."""
    if key.startswith(("last_linear.", "fc.")):
        return "fc." + key.split(".", 1)[1]
    m = _KEY.match(key)
    if m is None:
        raise KeyError(key)
    block, layer, bn, param = m.groups()
    part = "bn" if bn else "conv"
    if block is None:
        if layer not in _STEM:
            raise KeyError(key)
        return f"{_STEM[layer]}.{part}.{param}"
    if layer not in _BRANCH:
        raise KeyError(key)
    return f"blocks.{block}.{_BRANCH[layer]}.{part}.{param}"


def load_bn_inception(path: str | Path, in_channels: int = 3) -> BNInception:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"weights file not found. {WEIGHTS_HINT}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    state = {k.removeprefix("module.").removeprefix("base_model."): v for k, v in state.items()}
    try:
        mapped = {map_tsn_key(k): v for k, v in state.items()}
    except KeyError as exc:
        raise InputError(path, f"unexpected key {exc} for a BN-Inception checkpoint") from None
    stem_in = mapped["conv1.conv.weight"].shape[1]
    net = BNInception(in_channels=stem_in, num_classes=mapped["fc.weight"].shape[0])
    missing, unexpected = net.load_state_dict(mapped, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise InputError(
            path,
            f"does not match BN-Inception (missing {missing[:3]}, unexpected {unexpected[:3]})",
        )
    if stem_in != in_channels:
        net = cross_modality_stem(net, in_channels)
    return net.eval()


def cross_modality_stem(net: BNInception, in_channels: int) -> BNInception:
    """Stem kernel = mean over its input channels, replicated ``in_channels`` times (TSN)."""
    old = net.conv1.conv
    new = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, old.stride, old.padding)
    with torch.no_grad():
        new.weight.copy_(old.weight.mean(dim=1, keepdim=True).expand(-1, in_channels, -1, -1))
        new.bias.copy_(old.bias)
    net.conv1.conv = new
    return net


@dataclass
class BNInceptionRGBFlowConfig:
    weights: str = ""  # TSN / Cadene ImageNet checkpoint (required unless random_init)
    flow_weights: str = ""  # a flow-stream checkpoint; empty: cross-modality start from RGB
    random_init: bool = False  # tests only: random weights, no file needed
    fps: float = 21.5
    image_size: int = 224
    crop: str = "center"  # TSN: short side, centre crop
    flow_method: str = "dis"
    flow_height: int = 128
    flow_width: int = 170
    flow_bound: float = 20.0
    flow_stack: int = 5  # consecutive flow images per input (TSN: 5 -> 10 channels)
    batch_size: int = 16
    device: str = "auto"


@VIDEO_FEATURES.register("bn_inception_rgb_flow", config=BNInceptionRGBFlowConfig)
class BNInceptionRGBFlowFeature(VideoFeature):
    """BN-Inception RGB + optical-flow features (the paper's), 2 x 1024 per frame."""

    def __init__(self, cfg: BNInceptionRGBFlowConfig) -> None:
        if cfg.flow_method not in METHODS:
            raise ConfigError(f"flow_method must be one of {METHODS}, not {cfg.flow_method!r}")
        self.cfg = cfg
        self.fps = cfg.fps
        self.dim = 2 * FEATURE_DIM
        self.device = pick_device(cfg.device)
        flow_in = 2 * cfg.flow_stack
        if cfg.random_init:
            rgb = BNInception().eval()
            flow = BNInception(in_channels=flow_in).eval()
        else:
            if not cfg.weights:
                raise InputError(None, f"bn_inception_rgb_flow: no weights given. {WEIGHTS_HINT}")
            rgb = load_bn_inception(cfg.weights)
            if cfg.flow_weights:
                flow = load_bn_inception(cfg.flow_weights, in_channels=flow_in)
            else:
                flow = cross_modality_stem(copy.deepcopy(rgb), flow_in)
        self.rgb_net, self.flow_net = rgb.to(self.device), flow.to(self.device)

    def _stack(self, flows: np.ndarray) -> np.ndarray:
        """(T, h, w, 2) -> (T, h, w, 2 * flow_stack): flows t .. t+L-1, clamped at the end."""
        t, L = flows.shape[0], self.cfg.flow_stack
        idx = np.minimum(np.arange(t)[:, None] + np.arange(L)[None, :], t - 1)
        stacked = flows[idx]  # (T, L, h, w, 2)
        return np.ascontiguousarray(stacked.transpose(0, 2, 3, 1, 4).reshape(*flows.shape[:3], -1))

    def __call__(self, frames: np.ndarray, *, source: str | Path | None = None) -> np.ndarray:
        frames = check_frames(frames)
        cfg = self.cfg
        bgr = resize_images(frames, cfg.image_size, cfg.crop)[..., ::-1]
        rgb = run_batched(
            self.rgb_net.features,
            np.ascontiguousarray(bgr),
            np.array(BGR_MEAN),
            np.ones(3),
            self.device,
            cfg.batch_size,
            scale=1.0,
        )
        flows = flow_images(
            frames, cfg.flow_method, (cfg.flow_height, cfg.flow_width), cfg.flow_bound
        )
        stacked = self._stack(resize_images(flows, cfg.image_size, cfg.crop))
        c = stacked.shape[-1]
        flow = run_batched(
            self.flow_net.features,
            stacked,
            np.full(c, 128.0),
            np.ones(c),
            self.device,
            cfg.batch_size,
            scale=1.0,
        )
        return np.concatenate([rgb, flow], axis=1).astype(np.float32)
