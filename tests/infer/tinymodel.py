"""Test helpers: a cheap registered video feature, a fast test vocoder, an exported tiny model.

The exported model is the ``tiny`` preset with random weights, written through the real
``export_generator`` so that ``load_exported`` reads it like a trained one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vs_plugin.audio.mel import MelConfig
from vs_plugin.interfaces import VideoFeature, Vocoder
from vs_plugin.registry import VIDEO_FEATURES, VOCODERS, config_to_dict

FEATURE_DIM = 16


@dataclass
class FrameStatsConfig:
    fps: float = 21.5
    step: int = 8  # pixel subsampling before the statistics (changes the features)


@VIDEO_FEATURES.register("test_frame_stats", config=FrameStatsConfig)
class FrameStatsFeature(VideoFeature):
    """Per frame: RGB means and stds, motion energy, a 3x3 grey thumbnail (16 dims)."""

    dim = FEATURE_DIM

    def __init__(self, cfg: FrameStatsConfig) -> None:
        self.cfg = cfg
        self.fps = cfg.fps
        self.calls: list[int] = []  # chunk sizes seen (the streaming path is tested)

    def __call__(self, frames: np.ndarray, *, source=None) -> np.ndarray:
        self.calls.append(len(frames))
        step = self.cfg.step
        f = frames[:, ::step, ::step].astype(np.float32) / 255.0  # subsampled: tests stay fast
        grey = f.mean(axis=3)
        motion = np.abs(np.diff(grey, axis=0, prepend=grey[:1])).mean(axis=(1, 2))
        t, h, w = grey.shape
        thumb = grey[:, : h // 3 * 3, : w // 3 * 3].reshape(t, 3, h // 3, 3, w // 3)
        thumb = thumb.mean(axis=(2, 4)).reshape(t, 9)
        stats = [f.mean(axis=(1, 2)), f.std(axis=(1, 2)), motion[:, None], thumb]
        return np.concatenate(stats, axis=1).astype(np.float32)


@dataclass
class SineVocoderConfig:
    pass


@VOCODERS.register("test_sine", config=SineVocoderConfig)
class SineVocoder(Vocoder):
    """Instant stand-in vocoder: a tone whose loudness follows the mel energy (plumbing tests)."""

    sample_rate = 22050
    hop_length = 256
    n_mels = 80

    def __init__(self, cfg: SineVocoderConfig | None = None) -> None:
        self.frames_seen: list[int] = []

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        self.frames_seen.append(len(mel))
        env = np.repeat(np.exp(mel).mean(axis=1), self.hop_length)
        t = np.arange(len(env)) / self.sample_rate
        return (0.5 * np.tanh(env) * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def tiny_generator(seed: int = 0):
    """``(generator, spec)``: the ``tiny`` preset reading ``FEATURE_DIM`` dims, random weights."""
    from vs_plugin.models.presets import build_generator, generator_spec

    torch.manual_seed(seed)
    spec = generator_spec("tiny", video_dim=FEATURE_DIM)
    return build_generator(spec).eval(), spec


def write_tiny_stats(folder: Path) -> tuple[Path, Path]:
    """``(mel.npz, video.npz)`` in ``folder``: mel mean -5 / scale 2, video 0.3 / 0.2."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / "mel.npz", mean=np.full(80, -5.0, np.float32), scale=np.full(80, 2.0, np.float32)
    )
    np.savez(
        folder / "video.npz",
        mean=np.full(FEATURE_DIM, 0.3, np.float32),
        scale=np.full(FEATURE_DIM, 0.2, np.float32),
    )
    return folder / "mel.npz", folder / "video.npz"


def export_tiny(
    out_dir: Path,
    seed: int = 0,
    *,
    video_feature: dict | None = None,
    mel: MelConfig | None = None,
) -> Path:
    """An exported ``tiny`` generator (random weights) reading ``test_frame_stats`` features.

    ``video_feature`` / ``mel`` are the recorded specs (default: the feature's defaults and
    the default mel analysis).
    """
    from vs_plugin.models.export import export_generator

    gen, spec = tiny_generator(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    mel_stats, video_stats = write_tiny_stats(out_dir.parent / "stats")
    if video_feature is None:
        video_feature = config_to_dict("test_frame_stats", FrameStatsConfig())
    export_generator(gen, spec, out_dir, mel_stats, video_stats, video_feature, mel=mel)
    return out_dir


def export_tiny_legacy(out_dir: Path, seed: int = 0, *, recorded_specs: bool = True) -> Path:
    """The same model in the layout of exports before ``format`` 3.

    ``generator.pt`` holds the generator's state dict alone, the statistics are npz files,
    ``generator.yaml`` has ``format`` 2 (``recorded_specs=False``: no format and only the
    feature's name, as still older exports).
    """
    import shutil

    import yaml

    gen, spec = tiny_generator(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(gen.state_dict(), out_dir / "generator.pt")
    mel_stats, video_stats = write_tiny_stats(out_dir.parent / "stats")
    shutil.copyfile(mel_stats, out_dir / "mel_stats.npz")
    shutil.copyfile(video_stats, out_dir / "video_stats.npz")
    meta: dict = {"generator": spec, "video_feature": {"name": "test_frame_stats"}}
    if recorded_specs:
        meta = {
            "format": 2,
            "generator": spec,
            "video_feature": config_to_dict("test_frame_stats", FrameStatsConfig()),
            "mel": vars(MelConfig()),
            "arch": None,
        }
    (out_dir / "generator.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    card = {"name": "varietysound_legacy", "model_family": "varietysound",
            "model_config": {"generator": spec}, "checkpoint": "generator.pt"}  # fmt: skip
    (out_dir / "card.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    return out_dir
