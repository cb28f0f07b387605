"""Small real-looking training data for the model tests: synthetic sounds with events."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vs_plugin.audio.mel import MelConfig, log_mel

SR = 22050
HOP = 256


def _event_clip(rng: np.random.Generator, n_frames: int, kind: str) -> tuple[np.ndarray, list]:
    """A clip of ``n_frames`` mel frames: a quiet steady hum + 3 short events of one timbre.

    The floor is a steady hum rather than white noise so that the quiet frames are
    predictable (a model cannot learn the random texture of a noise floor quickly).
    """
    n = n_frames * HOP
    t = np.arange(n) / SR
    wav = sum(0.002 * np.sin(2 * np.pi * f * t) for f in (110.0, 740.0, 2900.0))
    onsets = sorted(rng.choice(np.arange(4, n_frames - 16), size=3, replace=False).tolist())
    for onset in onsets:
        start, dur = onset * HOP, int(0.12 * SR)
        env = np.exp(-np.arange(dur) / (0.04 * SR))
        seg = slice(start, start + dur)
        if kind == "tone":
            sig = sum(np.sin(2 * np.pi * 330 * h * t[seg]) / h for h in (1, 2, 3))
        else:
            noise = rng.standard_normal(dur)
            sig = np.diff(noise, prepend=0.0)  # bright, high-passed noise
        wav[seg] += 0.5 * env[: len(t[seg])] * sig
    return wav.astype(np.float32), onsets


def make_event_batch() -> dict[str, torch.Tensor]:
    """Two examples (a tonal and a noisy timbre) with video features tied to the events.

    mel: (2, 80, 128) per-bin standardised log-mels; video: (2, 32, 32), an event envelope at
    the video rate projected on a random direction, plus a little noise.
    """
    rng = np.random.default_rng(0)
    video_frames, up, dim = 32, 4, 32
    mels, videos = [], []
    direction = rng.standard_normal(dim)
    for kind in ("tone", "noise"):
        wav, onsets = _event_clip(rng, video_frames * up, kind)
        mels.append(log_mel(wav, MelConfig())[: video_frames * up].T)
        env = np.zeros(video_frames)
        for onset in onsets:
            env[onset // up : onset // up + 3] = 1.0
        videos.append(np.outer(direction, env) + 0.1 * rng.standard_normal((dim, video_frames)))
    mel = np.stack(mels)
    mel = (mel - mel.mean(axis=(0, 2), keepdims=True)) / mel.std(axis=(0, 2), keepdims=True)
    return {
        "mel": torch.tensor(mel, dtype=torch.float32),
        "video": torch.tensor(np.stack(videos), dtype=torch.float32),
    }


@pytest.fixture(scope="session")
def event_batch() -> dict[str, torch.Tensor]:
    return make_event_batch()
