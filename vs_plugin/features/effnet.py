"""RGB + optical-flow features from EfficientNet-Lite0 (ImageNet weights shipped in a package).

The offline stand-in for the paper's BN-Inception RGB+flow features: works without any file
from the user. Each frame gives 1280 RGB dims (the frame, resized to ``image_size``) and 1280
flow dims (its flow image through a second copy of the network whose stem starts as the mean
of the RGB kernels replicated over the flow's x/y channels: TSN's cross-modality start).
Output ``(T, 2560)``.

Both networks run in torch or, on the CPU, in OpenVINO (``backend``; the same values to float
rounding), in ``precision`` fp32 or bf16 (different values, so recorded in the feature spec):
see :mod:`vs_plugin.features.runtime`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vs_plugin.errors import ConfigError
from vs_plugin.features.common import check_frames, resize_images
from vs_plugin.features.effnet_lite import (
    FEATURE_DIM,
    IMAGENET_MEAN,
    IMAGENET_STD,
    cross_modality_stem,
    fuse_for_inference,
    load_lite0,
    weights_path,
)
from vs_plugin.features.runtime import ImageNetRunner, check_choice
from vs_plugin.interfaces import VideoFeature
from vs_plugin.registry import VIDEO_FEATURES
from vs_plugin.utils.device import pick_device
from vs_plugin.utils.runtimes import files_digest
from vs_plugin.video.flow import METHODS, flow_images


@dataclass
class EffNetRGBFlowConfig:
    weights: str = ""  # empty: the packaged ImageNet checkpoint
    fps: float = 21.5
    image_size: int = 224
    crop: str = "resize"  # resize (whole frame squeezed) | center (short side, centre crop)
    flow_method: str = "dis"  # dis | tvl1 (TV-L1 is ~300x slower on CPU)
    flow_height: int = 128  # flow is computed at this reduced size, then resized
    flow_width: int = 170
    flow_bound: float = 20.0
    batch_size: int = 32  # images per torch call (OpenVINO uses its own measured batch)
    device: str = "auto"
    # auto: OpenVINO on the CPU when installed, else torch (same values to float rounding)
    backend: str = "auto"
    precision: str = "fp32"  # fp32 | bf16 (faster on AMX CPUs; other values, so in the spec)


@VIDEO_FEATURES.register("effnet_rgb_flow", config=EffNetRGBFlowConfig)
class EffNetRGBFlowFeature(VideoFeature):
    """EfficientNet-Lite0 RGB + optical-flow features, 2 x 1280 per frame."""

    def __init__(self, cfg: EffNetRGBFlowConfig) -> None:
        if cfg.flow_method not in METHODS:
            raise ConfigError(f"flow_method must be one of {METHODS}, not {cfg.flow_method!r}")
        check_choice(cfg.backend, cfg.precision)
        self.cfg = cfg
        self.fps = cfg.fps
        self.dim = 2 * FEATURE_DIM
        self.device = pick_device(cfg.device)
        weights = Path(cfg.weights) if cfg.weights else weights_path()
        rgb = load_lite0(weights)
        flow = cross_modality_stem(copy.deepcopy(rgb), 2)
        self.rgb_net = fuse_for_inference(rgb).to(self.device)
        self.flow_net = fuse_for_inference(flow).to(self.device)
        self.rgb_mean, self.rgb_std = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
        # flow channels see the mean statistics of the RGB channels they were made from
        self.flow_mean = np.full(2, np.mean(IMAGENET_MEAN))
        self.flow_std = np.full(2, np.mean(IMAGENET_STD))
        digest = files_digest([weights])
        common = {"device": self.device, "batch_size": cfg.batch_size,
                  "backend": cfg.backend, "precision": cfg.precision}
        self.rgb = ImageNetRunner(self.rgb_net, self.rgb_mean, self.rgb_std,
                                  graph_key=digest, network="effnet-lite0-rgb", **common)
        self.flow = ImageNetRunner(self.flow_net, self.flow_mean, self.flow_std,
                                   graph_key=digest, network="effnet-lite0-flow", **common)

    def __call__(self, frames: np.ndarray, *, source: str | Path | None = None) -> np.ndarray:
        frames = check_frames(frames)
        cfg = self.cfg
        rgb = self.rgb(resize_images(frames, cfg.image_size, cfg.crop))
        flows = flow_images(
            frames, cfg.flow_method, (cfg.flow_height, cfg.flow_width), cfg.flow_bound
        )
        flow = self.flow(resize_images(flows, cfg.image_size, cfg.crop))
        return np.concatenate([rgb, flow], axis=1).astype(np.float32)
