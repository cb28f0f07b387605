"""The mel feature: ``vs_plugin.audio.mel.log_mel``, the HiFi-GAN universal vocoder's analysis."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from vs_plugin.audio.mel import MelConfig, log_mel
from vs_plugin.interfaces import AudioFeature
from vs_plugin.registry import AUDIO_FEATURES


@dataclass
class MelFeatureConfig:
    """``MelConfig``'s fields as a mutable dataclass (the registry merges overrides into it;
    ``MelConfig`` is frozen). Same fields and defaults, checked by tests/features."""

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0


@AUDIO_FEATURES.register("mel", config=MelFeatureConfig)
class MelFeature(AudioFeature):
    """Natural-log 80-bin mel (22050 Hz, hop 256): N samples -> N // 256 frames."""

    def __init__(self, cfg: MelFeatureConfig) -> None:
        self.cfg = cfg
        self.mel_cfg = MelConfig(**dataclasses.asdict(cfg))
        self.sample_rate = cfg.sample_rate
        self.hop_length = cfg.hop_length
        self.dim = cfg.n_mels

    def __call__(self, wav: np.ndarray) -> np.ndarray:
        return log_mel(wav, self.mel_cfg)
