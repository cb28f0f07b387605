"""A small dump directory (docs/CONTRACTS.md layout) whose mels follow the video features.

Each clip has a few "events": video frames where an indicator feature jumps, and at the same
time (x4 mel frames) a burst of energy in the mel with a per-clip spectral colour (timbre).
So a generator can learn the mel from the video, and a misaligned mel is detectably wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vs_plugin.utils.files import write_scp

VIDEO_DIM = 64  # the trainer sizes the model from the dump; small keeps CPU tests fast
N_MELS = 80
UPSAMPLE = 4
SILENCE = float(np.log(1e-5))


def _clip(
    rng: np.random.Generator, frames: int, video_dim: int = VIDEO_DIM
) -> tuple[np.ndarray, np.ndarray]:
    events = np.zeros(frames, dtype=np.float32)
    events[rng.choice(frames, size=max(1, frames // 6), replace=False)] = 1.0
    video = rng.normal(0.0, 0.3, (frames, video_dim)).astype(np.float32)
    video[:, :64] += events[:, None] * 3.0  # the "visible" event channels
    colour = np.exp(-((np.arange(N_MELS) - rng.uniform(10, 70)) ** 2) / (2 * 8.0**2))
    envelope = np.repeat(events, UPSAMPLE) * np.tile([1.0, 0.7, 0.4, 0.2], frames)
    mel = SILENCE + 2.0 + 9.0 * envelope[:, None] * colour[None, :]
    mel += rng.normal(0.0, 0.1, mel.shape)
    return video, mel.astype(np.float32)


def make_dump(
    root: Path, sets: dict[str, int], frames: int = 20, seed: int = 0, video_dim: int = VIDEO_DIM
) -> Path:
    """Write ``root/<set>/{mel,video}/...`` for each set with that many clips, plus stats.

    ``video_dim`` (>= 64) is the video feature size (a preset's, to build it unchanged).
    """
    rng = np.random.default_rng(seed)
    cats = ("dog", "drum")
    for name, n in sets.items():
        streams: dict[str, dict[str, np.ndarray]] = {"mel": {}, "video": {}}
        for i in range(n):
            video, mel = _clip(rng, frames, video_dim)
            utt = f"{cats[i % 2]}_{name}_{i:03d}"
            streams["video"][utt], streams["mel"][utt] = video, mel
        for stream, arrays in streams.items():
            d = root / name / stream
            (d / "data").mkdir(parents=True, exist_ok=True)
            scp, shapes = {}, {}
            for utt, arr in arrays.items():
                path = d / "data" / f"{utt}.npy"
                np.save(path, arr.astype(np.float16))
                scp[utt], shapes[utt] = str(path.resolve()), f"{arr.shape[0]},{arr.shape[1]}"
            write_scp(d / "feats.scp", scp)
            write_scp(d / "feats_shape", shapes)
            if name == "train":
                stacked = np.concatenate(list(arrays.values())).astype(np.float32)
                np.savez(d / "stats.npz", mean=stacked.mean(0), scale=stacked.std(0) + 1e-3)
        write_scp(root / name / "utt2category", {u: u.split("_")[0] for u in streams["mel"]})
    return root


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Small tensors on a shared CPU: one thread avoids OpenMP contention (10x faster here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 training and 2 validation clips of 16 video frames (64 mel frames)."""
    return make_dump(tmp_path_factory.mktemp("dump"), {"train": 6, "valid": 2}, frames=16)


def tiny_job(dump: Path, exp: Path, **train: object) -> dict:
    """A job config for the tiny preset on ``dump`` (CPU, no workers, no progress bar)."""
    return {
        "exp_dir": str(exp),
        "dump_dir": str(dump),
        "device": "cpu",
        "model": {"preset": "tiny"},  # n_mels and video_dim come from the dump
        "train": {
            "batch_size": 2,
            "epochs": 2,
            "hold_epochs": 1,
            "lr": 1e-3,
            "num_workers": 0,
            "progress_bar": False,
            "checkpoint_every": 2,
            "image_every": 1,
            "log_every": 1,
            **train,
        },
    }
