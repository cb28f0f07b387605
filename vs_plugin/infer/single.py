"""One video + one reference -> a video with generated sound: what ``vs-generate`` runs.

Any video ffmpeg decodes (rate, size, codec, length; sound track or not) and any reference
audio (format, rate, channels; at least ``MIN_REFERENCE_SECONDS`` long). Frames are decoded
as a stream in chunks so memory stays bounded for long videos; the generator and vocoder
work on overlapping windows (see ``generation`` and ``vocode``).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vs_plugin.audio.io import check_audible, load_audio, save_wav
from vs_plugin.audio.mel import log_mel
from vs_plugin.errors import InputError
from vs_plugin.features.spec import build_video_feature
from vs_plugin.infer.generation import GenerationConfig, generate_mel, stretch_frames
from vs_plugin.infer.mux import mux
from vs_plugin.infer.vocode import fit_length, vocode
from vs_plugin.interfaces import VideoFeature, Vocoder
from vs_plugin.io.ffmpeg_io import QUIET, reason, source
from vs_plugin.io.spans import MediaTiming, media_timing
from vs_plugin.models.varietysound import VarietySoundModel
from vs_plugin.utils.files import sweep_temporaries_of
from vs_plugin.video.io import picture_chain

log = logging.getLogger("vs_plugin.generate")

MIN_REFERENCE_SECONDS = 0.5  # shorter references carry too little timbre to encode
FRAME_SIZE = (256, 340)  # (H, W) frames are resized to, as in the conformed training data
FEATURE_CHUNK = 215  # frames decoded and featurised at a time


@dataclass
class GenerateReport:
    output: Path
    duration: float  # seconds of video (and of the generated sound)
    video_frames: int
    windows: int
    timings: dict[str, float] = field(default_factory=dict)  # features/generator/vocoder/mux
    warnings: list[str] = field(default_factory=list)  # one line each, already logged

    @property
    def total(self) -> float:
        return sum(self.timings.values())

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items())
        after = self.total - self.timings.get("features", 0.0)
        return (
            f"wrote {self.output} ({self.duration:.2f} s, {self.windows} window(s)) in "
            f"{self.total:.2f} s: {parts}; real-time factor {self.total / self.duration:.3f} "
            f"({after / self.duration:.3f} after features)"
        )


def check_output(path: str | Path) -> Path:
    """Fail early (before any work) if ``path`` cannot be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(path, "output is a directory")
    if not folder.is_dir():
        raise InputError(folder, "output folder does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(folder, "output folder is not writable")
    return path


def stream_frames(
    path: str | Path, fps: float, size: tuple[int, int], chunk: int = FEATURE_CHUNK
) -> Iterator[np.ndarray]:
    """Decode ``path`` at ``fps`` and ``size=(H, W)`` and yield ``(<=chunk, H, W, 3)`` uint8."""
    path = Path(path)
    h, w = size
    frame_bytes = h * w * 3
    proc = (
        picture_chain(source(path).video)
        .filter("fps", fps=fps)
        .filter("scale", w, h)
        .output("pipe:", format="rawvideo", pix_fmt="rgb24")
        .global_args(*QUIET)
        .run_async(pipe_stdout=True, pipe_stderr=True)
    )
    try:
        while True:
            data = proc.stdout.read(frame_bytes * chunk)
            n = len(data) // frame_bytes
            if n:
                yield np.frombuffer(data[: n * frame_bytes], np.uint8).reshape(n, h, w, 3)
            if len(data) < frame_bytes * chunk:
                break
        stderr = proc.stderr.read()
        if proc.wait() != 0:
            raise InputError(path, f"video could not be decoded ({reason(stderr)})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def extract_video_features(
    path: str | Path,
    feature: VideoFeature,
    size: tuple[int, int] = FRAME_SIZE,
    chunk: int = FEATURE_CHUNK,
) -> np.ndarray:
    """``(T, dim)`` features of the whole video, computed chunk by chunk.

    Each chunk is featurised with one neighbouring frame on either side (then dropped), so
    features that look at motion between frames see the same neighbours as in one pass.
    """
    rows: list[np.ndarray] = []
    prev_tail: np.ndarray | None = None  # last frame before the pending chunk
    pending: np.ndarray | None = None
    for frames in stream_frames(path, feature.fps, size, chunk):
        if pending is not None:
            rows.append(_featurise(feature, prev_tail, pending, frames[:1], path))
            prev_tail = pending[-1:]
        pending = frames
    if pending is None:
        raise InputError(path, "video stream decodes to no frames")
    rows.append(_featurise(feature, prev_tail, pending, None, path))
    return np.concatenate(rows).astype(np.float32)


def _featurise(feature, before, frames, after, source) -> np.ndarray:
    parts = [p for p in (before, frames, after) if p is not None]
    feats = np.asarray(feature(np.concatenate(parts), source=source))
    start = 0 if before is None else len(before)
    return feats[start : start + len(frames)]


def recorded_video_feature(
    model: VarietySoundModel, runtime: Mapping[str, Any] | None = None
) -> VideoFeature:
    """The video feature the model was trained on, built from its recorded spec.

    Every option comes from ``generator.yaml`` (as stage 1 recorded it) except the device,
    which follows the generator's, and the runtime-only options in ``runtime`` (backend,
    batch size). Raises ConfigError for an option that would change the features,
    RegistryError for an unknown name or field.
    """
    device = next(model.generator.parameters()).device
    return build_video_feature(model.video_feature, device=str(device), runtime=runtime)


def load_reference(path: str | Path, model: VarietySoundModel) -> np.ndarray:
    """Raw log-mel of a reference file; InputError for silent, NaN or too-short audio."""
    sr, hop = model.mel.sample_rate, model.mel.hop_length
    need = max(MIN_REFERENCE_SECONDS, model.generator.min_reference_frames * hop / sr)
    wav = load_audio(path, sr)
    check_audible(wav, path, min_seconds=need, sample_rate=sr)
    return log_mel(wav, model.mel)


def generate_clip(
    video: str | Path,
    reference: str | Path,
    output: str | Path,
    model: VarietySoundModel,
    vocoder: Vocoder,
    *,
    gen: GenerationConfig | None = None,
    feature: VideoFeature | None = None,
) -> GenerateReport:
    """Generate the sound of ``video`` in the timbre of ``reference``; write ``output``.

    ``output`` ending in ``.wav`` gets the sound only; anything else gets the muxed video.
    Nothing is left at ``output`` if any step fails.
    """
    gen = gen or GenerationConfig()
    video, reference, output = Path(video), Path(reference), check_output(output)
    sweep_temporaries_of(output)  # left by an earlier, killed run for this output
    timings: dict[str, float] = {}
    timing = media_timing(video)  # one packet scan: where the picture is and how much of it
    if timing.picture is None:
        raise InputError(video, "has no video stream")
    timing.check_readable()
    ref_mel = load_reference(reference, model)

    t0 = time.perf_counter()
    feature = feature or recorded_video_feature(model)
    feats = extract_video_features(video, feature)
    if feats.shape[1] != model.generator.video_dim:
        raise InputError(
            model.directory,
            f"video feature gives {feats.shape[1]} dims; the model expects "
            f"{model.generator.video_dim}",
        )
    duration, shortfall = picture_duration(timing, len(feats), feature.fps)
    if shortfall:
        log.warning("%s: %s; sound is made for that length", video, shortfall)
    timings["features"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    mel, windows = generate_mel(model, feats, ref_mel, cfg=gen)
    sr, hop = model.mel.sample_rate, model.mel.hop_length
    samples = int(round(duration * sr))
    mel = stretch_frames(mel, -(-samples // hop))
    timings["generator"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    wav = fit_length(vocode(vocoder, mel), samples)
    timings["vocoder"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if output.suffix.lower() == ".wav":
        save_wav(output, wav, sr)
    else:
        with tempfile.TemporaryDirectory(prefix="vs-generate.") as tmp:
            sound = save_wav(Path(tmp) / "sound.wav", wav, sr)
            mux(video, sound, output, duration=duration)
    timings["mux"] = time.perf_counter() - t0
    notes = [shortfall] if shortfall else []
    return GenerateReport(output, duration, len(feats), windows, timings, notes)


def picture_duration(timing: MediaTiming, frames: int, fps: float) -> tuple[float, str]:
    """Seconds of picture to make sound for, and a warning when that is less than stated.

    The readable packets' span when the file is cut short; further limited to the decoded
    frames (``frames`` at ``fps``) when those fall over one frame short of it.
    """
    stated = timing.header_duration
    duration = timing.picture.duration if timing.is_partial else stated
    decoded = frames / fps
    if decoded < duration - 1.0 / fps:
        duration = decoded
    if duration < stated - max(timing.frame_period * 0.5, 1.0 / fps):
        return duration, (
            f"only {duration:.2f} s of picture decodes of the {stated:.2f} s the header states"
        )
    return duration, ""
