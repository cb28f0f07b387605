"""Griffin-Lim vocoder: no weights, a fallback when the HiFi-GAN checkpoint is unavailable.

It inverts ``vs_plugin.audio.mel.log_mel``: exp, a non-negative least-squares inverse of the
mel filter bank (pseudo-inverse, then multiplicative updates: librosa's ``mel_to_stft`` solves
the same problem but takes seconds per second of audio), then librosa's Griffin-Lim phase
reconstruction with the same STFT parameters.
The project's analysis pads (n_fft - hop) / 2 samples per side with no centring, so frame ``t``
is centred on sample ``t * hop + hop / 2``; librosa's centred frames sit on ``t * hop``, hence
the half-hop shift at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from vs_plugin.audio.mel import MelConfig
from vs_plugin.interfaces import Vocoder
from vs_plugin.registry import VOCODERS


@dataclass
class GriffinLimConfig:
    n_iter: int = 32
    momentum: float = 0.99
    nnls_iter: int = 10  # multiplicative updates of the non-negative mel inverse
    seed: int = 0  # random initial phase, fixed for reproducible output


@VOCODERS.register("griffin_lim", config=GriffinLimConfig)
class GriffinLimVocoder(Vocoder):
    """Log-mel ``(frames, 80)`` -> waveform of ``frames * hop`` samples at 22050 Hz."""

    def __init__(self, cfg: GriffinLimConfig | None = None, mel: MelConfig | None = None) -> None:
        self.cfg = cfg or GriffinLimConfig()
        self.mel = mel = mel or MelConfig()
        self.sample_rate = mel.sample_rate
        self.hop_length = mel.hop_length
        self.n_mels = mel.n_mels
        self._basis: np.ndarray | None = None
        self._pinv: np.ndarray | None = None

    def _linear_magnitude(self, mel_mag: np.ndarray) -> np.ndarray:
        """Non-negative ``S`` minimising ``|basis @ S - mel_mag|``, ``(n_fft//2+1, frames)``."""
        if self._basis is None:
            m = self.mel
            self._basis = librosa.filters.mel(
                sr=m.sample_rate, n_fft=m.n_fft, n_mels=m.n_mels, fmin=m.fmin, fmax=m.fmax
            ).astype(np.float64)
            self._pinv = np.linalg.pinv(self._basis)
        basis = self._basis
        s = np.maximum(self._pinv @ mel_mag, 1e-8)
        numerator = basis.T @ mel_mag
        for _ in range(self.cfg.nnls_iter):
            s *= numerator / np.maximum(basis.T @ (basis @ s), 1e-12)
        return s

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        mel = np.asarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[1] != self.n_mels:
            raise ValueError(f"expected a (frames, {self.n_mels}) mel, got {mel.shape}")
        m = self.mel
        frames = mel.shape[0]
        magnitude = self._linear_magnitude(np.exp(mel.T.astype(np.float64)))
        wav = librosa.griffinlim(
            magnitude,
            n_iter=self.cfg.n_iter,
            hop_length=m.hop_length,
            win_length=m.win_length,
            n_fft=m.n_fft,
            window="hann",
            center=True,
            momentum=self.cfg.momentum,
            init="random",
            random_state=self.cfg.seed,
        )
        n = frames * m.hop_length
        wav = np.concatenate([np.zeros(m.hop_length // 2), wav])[:n]
        return np.pad(wav, (0, n - wav.size)).astype(np.float32)
