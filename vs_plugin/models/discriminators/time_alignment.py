"""Time-domain alignment discriminator (TDAD): is this mel in time with this video?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vs_plugin.interfaces import Discriminator
from vs_plugin.models.layers import upsampler
from vs_plugin.registry import DISCRIMINATORS


@dataclass
class TimeAlignmentConfig:
    upsample_channels: int = 1024
    upsample_kernel: int = 4
    mel_channels: int = 512  # the single Conv1d on the mel (paper: size unstated)
    mel_kernel: int = 3
    n_convs: int = 4
    channels: int = 512
    kernel_size: int = 4
    stride: int = 2  # the conv stack reduces time by this factor per layer but the last
    negative_slope: float = 0.2
    sigmoid: bool = True


@DISCRIMINATORS.register("time_alignment", config=TimeAlignmentConfig)
class TimeAlignmentDiscriminator(Discriminator):
    """D_t(mel | video) (paper Fig. 3f), a conditional discriminator.

    Video features are upsampled by ``log2(upsample)`` ConvTranspose1d layers (k4, s2) to the
    mel rate, the mel goes through one Conv1d, both are concatenated and scored by a Conv1d
    stack (BatchNorm + LeakyReLU after all but the last), then a sigmoid.
    ``forward(mel (B, n_mels, upsample*T), video (B, video_dim, T)) -> (B, N)`` scores in (0, 1);
    N shrinks with the stride (106 for 860 frames); mels shorter than ``min_frames`` are
    zero-padded to it. ``forward([mel, ...], video)`` scores several mels of the same
    video with one upsampling of the video (``scores_many``), each exactly as alone.
    """

    needs_video = True
    wants_misaligned_negative = True
    scores_many = True  # a list of mels shares one upsampling of the video

    def __init__(self, cfg: TimeAlignmentConfig, n_mels: int, video_dim: int, upsample: int):
        super().__init__(cfg, n_mels, video_dim, upsample)
        n_up = upsample.bit_length() - 1
        if 2**n_up != upsample:
            raise ValueError(f"time_alignment: upsample must be a power of two, got {upsample}")
        if cfg.n_convs < 1:
            raise ValueError("time_alignment: n_convs must be >= 1")
        self.video_up = upsampler(
            video_dim, cfg.upsample_channels, n_up, cfg.upsample_kernel, cfg.negative_slope
        )
        self.mel_conv = nn.Conv1d(n_mels, cfg.mel_channels, cfg.mel_kernel, padding="same")
        video_ch = cfg.upsample_channels if n_up else video_dim
        layers: list[nn.Module] = []
        c_in = video_ch + cfg.mel_channels
        pad = (cfg.kernel_size - 1) // 2
        for i in range(cfg.n_convs):
            last = i == cfg.n_convs - 1
            c_out = 1 if last else cfg.channels
            stride = 1 if last else cfg.stride
            layers.append(nn.Conv1d(c_in, c_out, cfg.kernel_size, stride=stride, padding=pad))
            if not last:
                layers += [nn.BatchNorm1d(c_out), nn.LeakyReLU(cfg.negative_slope)]
            c_in = c_out
        self.convs = nn.Sequential(*layers)
        self.min_frames = self._min_frames()

    def _min_frames(self) -> int:
        """The shortest input for which the strided conv stack still yields one score."""
        convs = [m for m in self.convs if isinstance(m, nn.Conv1d)]
        length = 1
        while True:
            out = length
            for c in convs:
                out = (out + 2 * c.padding[0] - c.kernel_size[0]) // c.stride[0] + 1
            if out >= 1:
                return length
            length += 1

    def forward(
        self, mel: torch.Tensor | Sequence[torch.Tensor], video: torch.Tensor | None = None
    ) -> torch.Tensor | list[torch.Tensor]:
        """Scores of ``mel``, or a list of scores for a list of mels of the same video."""
        if video is None:
            raise ValueError("time_alignment: needs the video features (needs_video=True)")
        v = self.video_up(video)
        if isinstance(mel, (list, tuple)):
            return [self._score(m, v, video) for m in mel]
        return self._score(mel, v, video)

    def _score(self, mel: torch.Tensor, v: torch.Tensor, video: torch.Tensor) -> torch.Tensor:
        if v.shape[-1] != mel.shape[-1]:
            raise ValueError(
                f"time_alignment: the mel has {mel.shape[-1]} frames but the video gives "
                f"{v.shape[-1]} ({self.upsample} x {video.shape[-1]})"
            )
        h = torch.cat([self.mel_conv(mel), v.to(mel.dtype)], dim=1)
        if h.shape[-1] < self.min_frames:  # very short clips: zero-pad to one score
            h = F.pad(h, (0, self.min_frames - h.shape[-1]))
        out = self.convs(h).flatten(1)
        return torch.sigmoid(out) if self.cfg.sigmoid else out
