"""REGNET (Chen et al., 2020): the video-to-sound half of the paper's cascade baseline.

Sizes are the published configuration (github.com/PeihaoChen/regnet, ``config/*_opts.yml``):
a 512-d Gaussian noise vector is concatenated to every video frame; 3 Conv1d (k5, 2048 ch,
BatchNorm, ReLU, dropout 0.5) and a 2-layer BiLSTM (hidden 512) with a Linear(1024, 1024)
projection encode the video; the "audio forwarding regularizer" (a 2-layer BiLSTM over the
ground-truth mel, hidden 32, its top layer's backward final state through Linear(32, 32),
repeated over time) is concatenated to it; the decoder is ConvTranspose1d(k4, s2) -> Conv1d
(k5) -> ConvTranspose1d(k4, s2) -> Conv1d(k5) (BatchNorm + ReLU between), i.e. x4 in time; a
5-layer postnet (Conv1d k5, 512 ch, BatchNorm, tanh) adds a residual.

The regulariser sees the ground-truth mel only in training: in eval mode (and whenever no
target is given) its input is zeroed, as the published model does at test time (``vis``
input mode), so that generation depends on the video alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import repeat
from torch import nn

from vs_plugin.interfaces import Generator
from vs_plugin.registry import GENERATORS


@dataclass
class RegNetConfig:
    n_mels: int = 80
    video_dim: int = 2048  # RGB + flow BN-Inception features in the published code
    upsample: int = 4  # fixed by the two stride-2 transposed convolutions
    random_z_dim: int = 512
    encoder_channels: int = 2048  # encoder_embedding_dim
    encoder_convs: int = 3
    encoder_kernel: int = 5
    encoder_lstm_layers: int = 2
    encoder_dropout: float = 0.5
    auxiliary_dim: int = 32  # the audio forwarding regularizer's code width
    auxiliary_lstm_layers: int = 2
    decoder_channels: int = 1024  # decoder_conv_dim; the encoder's output width (2048 / 2)
    postnet_channels: int = 512
    postnet_convs: int = 5
    postnet_kernel: int = 5
    init_std: float = 0.02  # N(0, std) for every Conv / Linear weight, zero biases; 0 = torch's


def regnet_init(module: nn.Module, std: float = 0.02) -> None:
    """The published ``init_weights(init_type="normal", gain=0.02)``: every convolution and
    linear layer's weight ~ N(0, ``std``), bias 0 (LSTMs and BatchNorm1d keep torch's)."""
    if std <= 0:
        return
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class RegNetVideoEncoder(nn.Module):
    """``(B, video_dim, T)`` -> ``(B, encoder_channels // 2, T)``; noise z drawn per clip."""

    def __init__(self, cfg: RegNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c, k = cfg.encoder_channels, cfg.encoder_kernel
        if k % 2 == 0 or c % 4:
            raise ValueError(f"regnet: need an odd encoder_kernel and channels % 4 == 0, got {cfg}")
        self.convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(cfg.video_dim + cfg.random_z_dim if i == 0 else c, c, k, padding=k // 2),
                nn.BatchNorm1d(c),
            )
            for i in range(cfg.encoder_convs)
        )
        self.lstm = nn.LSTM(
            c, c // 4, cfg.encoder_lstm_layers, batch_first=True, bidirectional=True
        )
        self.proj = nn.Linear(c // 2, c // 2)
        self.out_channels = c // 2

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        b, _, t = video.shape
        z = torch.randn(b, self.cfg.random_z_dim, 1, device=video.device, dtype=video.dtype)
        x = torch.cat([video, z.expand(-1, -1, t)], dim=1)
        for conv in self.convs:
            x = F.dropout(F.relu(conv(x)), self.cfg.encoder_dropout, self.training)
        h, _ = self.lstm(x.transpose(1, 2))
        return self.proj(h).transpose(1, 2)


class AudioForwardingRegularizer(nn.Module):
    """Ground-truth mel ``(B, n_mels, T_mel)`` -> a constant code ``(B, auxiliary_dim, T)``.

    The published ``lstm_last`` variant: 2-layer BiLSTM with ``auxiliary_dim`` hidden units;
    the top layer's backward final state through a Linear, repeated over ``T`` frames.
    """

    def __init__(self, cfg: RegNetConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            cfg.n_mels, cfg.auxiliary_dim, cfg.auxiliary_lstm_layers,
            batch_first=True, bidirectional=True,
        )  # fmt: skip
        self.proj = nn.Linear(cfg.auxiliary_dim, cfg.auxiliary_dim)
        self.out_channels = cfg.auxiliary_dim

    def forward(self, mel: torch.Tensor, length: int) -> torch.Tensor:
        _, (h, _) = self.lstm(mel.transpose(1, 2))
        return repeat(self.proj(h[-1]), "b c -> b c t", t=length)


class RegNetDecoder(nn.Module):
    """``(B, in_channels, T)`` -> ``(B, n_mels, 4 T)``: two x2 transposed convolutions."""

    def __init__(self, in_channels: int, cfg: RegNetConfig) -> None:
        super().__init__()
        half, m = cfg.decoder_channels // 2, cfg.n_mels
        self.net = nn.Sequential(
            nn.ConvTranspose1d(in_channels, half, 4, stride=2, padding=1),
            nn.BatchNorm1d(half),
            nn.ReLU(),
            nn.Conv1d(half, half, 5, padding=2),
            nn.BatchNorm1d(half),
            nn.ReLU(),
            nn.ConvTranspose1d(half, m, 4, stride=2, padding=1),
            nn.BatchNorm1d(m),
            nn.ReLU(),
            nn.Conv1d(m, m, 5, padding=2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class RegNetPostnet(nn.Module):
    """Tacotron-2 style postnet: ``postnet_convs`` Conv1d + BatchNorm (tanh but the last)."""

    def __init__(self, cfg: RegNetConfig) -> None:
        super().__init__()
        c, k, m = cfg.postnet_channels, cfg.postnet_kernel, cfg.n_mels
        if cfg.postnet_convs < 2:
            raise ValueError(f"regnet: postnet_convs must be >= 2, got {cfg.postnet_convs}")
        chans = [m] + [c] * (cfg.postnet_convs - 1) + [m]
        self.convs = nn.ModuleList(
            nn.Sequential(nn.Conv1d(i, o, k, padding=k // 2), nn.BatchNorm1d(o))
            for i, o in zip(chans[:-1], chans[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs[:-1]:
            x = torch.tanh(conv(x))
        return self.convs[-1](x)


@GENERATORS.register("regnet", config=RegNetConfig)
class RegNetGenerator(Generator):
    """REGNET's generator: video (+ ground-truth mel in training) -> mel (Chen et al. 2020).

    ``forward(video (B, video_dim, T), ref_mel=None, bg_mel=None, *, target=None,
    return_decoder=False)`` returns the postnet output ``(B, n_mels, 4 T)`` (and, with
    ``return_decoder``, also the decoder's output before the postnet residual, for the
    two-term loss). ``target`` feeds the audio forwarding regularizer in training mode; in
    eval mode, or without a target, the regularizer sees zeros. The reference and the
    background are ignored: REGNET has no timbre input.
    """

    def __init__(self, cfg: RegNetConfig) -> None:
        super().__init__()
        if cfg.upsample != 4:
            raise ValueError(f"regnet: the decoder upsamples 4x, got upsample={cfg.upsample}")
        if cfg.encoder_channels // 2 != cfg.decoder_channels:
            raise ValueError("regnet: decoder_channels must be encoder_channels / 2")
        self.cfg = cfg
        self.n_mels, self.video_dim, self.upsample = cfg.n_mels, cfg.video_dim, cfg.upsample
        self.encoder = RegNetVideoEncoder(cfg)
        self.auxiliary = AudioForwardingRegularizer(cfg)
        self.decoder = RegNetDecoder(self.encoder.out_channels + cfg.auxiliary_dim, cfg)
        self.postnet = RegNetPostnet(cfg)
        regnet_init(self, cfg.init_std)

    def auxiliary_input(self, video: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        """What the regularizer sees: the target in training, zeros otherwise."""
        t_mel = video.shape[-1] * self.upsample
        if target is None or not self.training:
            return video.new_zeros(video.shape[0], self.n_mels, t_mel)
        return target

    def forward(
        self,
        video: torch.Tensor,
        ref_mel: torch.Tensor | None = None,
        bg_mel: torch.Tensor | None = None,
        *,
        target: torch.Tensor | None = None,
        return_decoder: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if video.dim() != 3 or video.shape[1] != self.video_dim:
            raise ValueError(
                f"regnet: video must be (B, {self.video_dim}, T), got {tuple(video.shape)}"
            )
        t = video.shape[-1]
        aux = self.auxiliary(self.auxiliary_input(video, target), t)
        dec = self.decoder(torch.cat([self.encoder(video), aux.to(video.dtype)], dim=1))
        mel = dec + self.postnet(dec)
        return (mel, dec) if return_decoder else mel

    @torch.no_grad()
    def generate(self, video: torch.Tensor, ref_mel: torch.Tensor | None = None) -> torch.Tensor:
        """Inference: the video alone (regularizer zeroed); the reference is ignored."""
        return self(video)
