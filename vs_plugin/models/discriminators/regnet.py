"""REGNET's conditional discriminator: is this mel real, given the video? (Chen et al. 2020)

Published layout (github.com/PeihaoChen/regnet, ``Regnet_D``): the video features are
upsampled x4 by two ConvTranspose1d (k4, s2; 1024 ch, BatchNorm, LeakyReLU 0.2, then 64 ch),
the mel is projected to 64 channels (a k1 transposed convolution), both are concatenated
(128 ch) and a PatchGAN-style stack scores them: Conv1d 256 (k4 s2) -> 512 (k4 s2, BN) ->
1024 (k4 s1, BN) -> 1 (k4 s1), LeakyReLU 0.2 between.

Departure: the published model ends with a sigmoid and trains with ``BCELoss``; this module
returns the logits and the REGNET system applies ``binary_cross_entropy_with_logits`` (the
same function of the weights, numerically stable, and allowed under autocast).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vs_plugin.interfaces import Discriminator
from vs_plugin.models.regnet import regnet_init
from vs_plugin.registry import DISCRIMINATORS


@dataclass
class RegNetDiscriminatorConfig:
    video_channels: int = 1024  # decoder_conv_dim of the published config
    joint_channels: int = 64  # each stream's width before concatenation
    negative_slope: float = 0.2
    init_std: float = 0.02  # the published N(0, 0.02) initialisation; 0 = torch's


@DISCRIMINATORS.register("regnet", config=RegNetDiscriminatorConfig)
class RegNetDiscriminator(Discriminator):
    """``forward(mel (B, n_mels, 4 T), video (B, video_dim, T))`` -> logits ``(B, 1, T')``.

    ``T' = T - 2`` for the published strides (the patch scores). Needs ``upsample == 4``.
    """

    needs_video = True

    def __init__(
        self, cfg: RegNetDiscriminatorConfig, n_mels: int, video_dim: int, upsample: int
    ) -> None:
        super().__init__(cfg, n_mels, video_dim, upsample)
        if upsample != 4:
            raise ValueError(f"regnet discriminator: needs upsample 4, got {upsample}")
        s, j, v = cfg.negative_slope, cfg.joint_channels, cfg.video_channels
        self.video_conv = nn.Sequential(
            nn.ConvTranspose1d(video_dim, v, 4, stride=2, padding=1),
            nn.BatchNorm1d(v),
            nn.LeakyReLU(s),
            nn.ConvTranspose1d(v, j, 4, stride=2, padding=1),
        )
        self.mel_conv = nn.ConvTranspose1d(n_mels, j, 1)
        self.score = nn.Sequential(
            nn.Conv1d(2 * j, 256, 4, stride=2, padding=1),
            nn.LeakyReLU(s),
            nn.Conv1d(256, 512, 4, stride=2, padding=1),
            nn.BatchNorm1d(512),
            nn.LeakyReLU(s),
            nn.Conv1d(512, 1024, 4, stride=1, padding=1),
            nn.BatchNorm1d(1024),
            nn.LeakyReLU(s),
            nn.Conv1d(1024, 1, 4, stride=1, padding=1),
        )
        regnet_init(self, cfg.init_std)

    def forward(self, mel: torch.Tensor, video: torch.Tensor | None = None) -> torch.Tensor:
        if video is None:
            raise ValueError("regnet discriminator: needs the video features")
        v = self.video_conv(video)
        t = min(v.shape[-1], mel.shape[-1])
        x = torch.cat([v[..., :t], self.mel_conv(mel)[..., :t].to(v.dtype)], dim=1)
        return self.score(x)
