"""One video + one reference -> a video with generated sound: what ``vs-generate`` runs.

Any video ffmpeg decodes (rate, size, codec, length; sound track or not) and any reference
audio (format, rate, channels) with at least 0.1 s of sound; a reference shorter than 0.5 s
(a one-shot such as a snare hit) is trimmed to its sound and tiled to that length (the rule:
:func:`vs_plugin.infer.reference.prepare_reference`).

Memory stays bounded whatever the video's length; two passes over it:

1. frames are decoded and featurised ``FEATURE_CHUNK`` at a time, and each chunk's float32
   features are appended to an anonymous temporary file (:class:`FeatureFile`, in
   ``$TMPDIR``: ``4 * dim`` bytes per frame, 10 KiB for the 2560-dim default, about 130 MB
   for 10 minutes; deleted when done, or by the system if the process is killed);
2. with the frame count known, :func:`stream_sound` reads the generator's windows back one
   batch at a time and passes the sound through as it is finished: the windows' mels are
   cross-faded incrementally (``windows.OverlapAdder``), stretched to the picture's duration
   block by block (``generation.FrameStretcher``), vocoded in the vocoder's chunks
   (``vocode.ChunkedVocoder``) and appended to the 16-bit WAV (``audio.io.open_wav``),
   which is then muxed.

Only a batch of generator windows, one vocoder chunk and the overlaps still to blend are in
memory at any time; the result equals (to the sample) the whole-array functions composed:
``extract_video_features`` -> ``generate_mel`` -> ``stretch_frames`` -> ``vocode`` ->
``fit_length``, which the recipe and the tests use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vs_plugin.audio.io import load_audio, open_wav
from vs_plugin.audio.mel import log_mel
from vs_plugin.errors import InputError, OutputError, is_disk_full
from vs_plugin.features.spec import build_video_feature
from vs_plugin.infer.generation import FrameSource, FrameStretcher, GenerationConfig, iter_mel
from vs_plugin.infer.mux import check_container, mux
from vs_plugin.infer.reference import REFERENCE_SECONDS, prepare_reference
from vs_plugin.infer.vocode import ChunkedVocoder
from vs_plugin.infer.windows import plan_windows
from vs_plugin.interfaces import VideoFeature, Vocoder
from vs_plugin.io.ffmpeg_io import QUIET, reason, source
from vs_plugin.io.spans import MediaTiming, media_timing
from vs_plugin.models.varietysound import VarietySoundModel
from vs_plugin.utils.files import sweep_temporaries_of
from vs_plugin.video.io import picture_chain, video_info

log = logging.getLogger("vs_plugin.generate")

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


def check_output(path: str | Path, video: str | Path | None = None,
                 reference: str | Path | None = None) -> Path:
    """Fail early (before any work) if ``path`` cannot be written: a folder, a missing or
    read-only folder, a suffix that is neither ``.wav`` nor a container ``mux`` writes, or
    the ``video`` or ``reference`` file itself (which would be overwritten)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(path, "output is a directory")
    if path.suffix.lower() != ".wav":
        check_container(path, or_else=".wav for the sound alone")
    for role, given in (("input video", video), ("reference", reference)):
        if given is not None and _same_file(path, Path(given)):
            raise InputError(path, f"is the {role} itself; choose another output path")
    if not folder.is_dir():
        raise InputError(folder, "output folder does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(folder, "output folder is not writable")
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet)
        return False


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


def iter_video_features(
    path: str | Path,
    feature: VideoFeature,
    size: tuple[int, int] = FRAME_SIZE,
    chunk: int = FEATURE_CHUNK,
) -> Iterator[np.ndarray]:
    """Float32 features ``(<=chunk, dim)`` of consecutive frames of ``path``, chunk by chunk.

    Each chunk is featurised with one neighbouring frame on either side (then dropped), so
    features that look at motion between frames see the same neighbours as in one pass. At
    most two decoded chunks are held. Raises InputError for a video that does not decode or
    decodes to no frames.
    """
    prev_tail: np.ndarray | None = None  # last frame before the pending chunk
    pending: np.ndarray | None = None
    for frames in stream_frames(path, feature.fps, size, chunk):
        if pending is not None:
            yield _as_float32(_featurise(feature, prev_tail, pending, frames[:1], path))
            prev_tail = pending[-1:].copy()
        pending = frames
    if pending is None:
        raise InputError(path, "video stream decodes to no frames")
    yield _as_float32(_featurise(feature, prev_tail, pending, None, path))


def extract_video_features(
    path: str | Path,
    feature: VideoFeature,
    size: tuple[int, int] = FRAME_SIZE,
    chunk: int = FEATURE_CHUNK,
) -> np.ndarray:
    """``(T, dim)`` float32 features of the whole video (:func:`iter_video_features` joined)."""
    return np.concatenate(list(iter_video_features(path, feature, size, chunk)))


def _as_float32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def _featurise(feature, before, frames, after, source) -> np.ndarray:
    parts = [p for p in (before, frames, after) if p is not None]
    feats = np.asarray(feature(np.concatenate(parts), source=source))
    start = 0 if before is None else len(before)
    return feats[start : start + len(frames)]


class FeatureFile:
    """Float32 feature rows ``(T, dim)`` kept on disk: appended in order, read back by slices.

    An anonymous temporary file in ``folder`` (default: ``$TMPDIR``), written and read with
    plain file calls (no memory map, whose pages would count as the process's memory). It
    has no name (on POSIX systems), so nothing is left behind even if the process is killed.
    ``len()`` is the rows written; ``file[a:b]`` reads rows ``a..b-1`` into a new
    ``(b - a, dim)`` array, so it serves as the ``video`` of
    :func:`~vs_plugin.infer.generation.iter_mel`. Raises OutputError naming the folder when
    its disk is full.
    """

    def __init__(self, dim: int, folder: str | Path | None = None) -> None:
        self.dim = int(dim)
        self.folder = Path(folder if folder is not None else tempfile.gettempdir())
        self._rows = 0
        self._file = tempfile.TemporaryFile(  # noqa: SIM115 - open for the object's life
            prefix="vs-generate.features.", dir=self.folder
        )

    def __len__(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        return self._rows * self.dim * 4

    def append(self, rows: np.ndarray) -> None:
        """Write ``(n, dim)`` rows (cast to float32) after those already written."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"feature rows must be (n, {self.dim}), got {rows.shape}")
        try:
            self._file.seek(self.nbytes)
            self._file.write(memoryview(rows).cast("B"))
            self._file.flush()
        except OSError as exc:
            if is_disk_full(exc):
                raise OutputError(
                    self.folder,
                    f"no space left on device for the video's temporary features "
                    f"({(self.nbytes + rows.nbytes) / 1e6:.0f} MB); set TMPDIR to a folder "
                    "with more room",
                ) from None
            raise
        self._rows += len(rows)

    def __getitem__(self, rows: slice) -> np.ndarray:
        """Rows ``rows.start..rows.stop-1`` (clipped to those written) as float32 ``(n, dim)``."""
        if not isinstance(rows, slice):
            raise TypeError("FeatureFile reads slices of rows")
        start, stop, step = rows.indices(self._rows)
        if step != 1:
            raise ValueError("FeatureFile reads contiguous rows only")
        out = np.empty((max(0, stop - start), self.dim), dtype=np.float32)
        if out.size:
            self._file.seek(start * self.dim * 4)
            got = self._file.readinto(memoryview(out).cast("B"))
            if got != out.nbytes:
                raise OSError(f"temporary features cut short: read {got} of {out.nbytes} bytes")
        return out

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FeatureFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    """Raw log-mel ``(frames, n_mels)`` of a reference file, tiled if short.

    The file is decoded to mono at the model's rate and made ready by
    :func:`~vs_plugin.infer.reference.prepare_reference` with ``REFERENCE_SECONDS`` or the
    model's ``min_reference_frames``, whichever is longer: a file shorter than that is trimmed
    to its sound and repeated up to it. InputError (one line naming the file) for NaN, silent
    audio or less than ``MIN_REFERENCE_SOUND_SECONDS`` of sound.
    """
    sr, hop = model.mel.sample_rate, model.mel.hop_length
    need = max(REFERENCE_SECONDS, model.generator.min_reference_frames * hop / sr)
    wav = prepare_reference(load_audio(path, sr), sr, need, path=path)
    return log_mel(wav, model.mel)


@contextlib.contextmanager
def _timed(timings: dict[str, float] | None, part: str) -> Iterator[None]:
    """Add the seconds spent in the block to ``timings[part]`` (nothing if ``timings`` is None)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[part] = timings.get(part, 0.0) + time.perf_counter() - t0


def stream_sound(
    model: VarietySoundModel,
    vocoder: Vocoder,
    video: FrameSource,
    ref_mel: np.ndarray,
    samples: int,
    gen: GenerationConfig | None = None,
    timings: dict[str, float] | None = None,
) -> Iterator[np.ndarray]:
    """The generated sound of ``video``'s features, as consecutive float32 sample blocks.

    ``video``: raw features ``(T, dim)``, read one batch of generator windows at a time (a
    :class:`FeatureFile` or an array); ``ref_mel``: the reference's raw log-mel; ``samples``:
    the sound's exact length (the picture's duration at the vocoder's rate). The blocks add
    up to ``samples`` and equal ``fit_length(vocode(vocoder, stretch_frames(generate_mel(
    model, video, ref_mel, cfg=gen)[0], ceil(samples / hop))), samples)``; memory is bounded
    by a batch of windows and a vocoder chunk whatever ``T``. Seconds spent in the generator
    (with the cross-fades and the stretch) and in the vocoder are added to ``timings``
    (``"generator"``, ``"vocoder"``); time the consumer spends between blocks is not.
    """
    gen = gen or GenerationConfig()
    frames = -(-samples // model.mel.hop_length)  # mel frames of the sound, stretched
    stretcher = FrameStretcher(len(video) * model.upsample, frames)
    chunks = ChunkedVocoder(vocoder, frames)
    left = samples
    with contextlib.closing(iter_mel(model, video, ref_mel, cfg=gen)) as mels:
        while True:
            with _timed(timings, "generator"):
                mel = next(mels, None)
                if mel is not None:
                    mel = stretcher.push(mel)
            if mel is None:
                break
            with _timed(timings, "vocoder"):
                wav = chunks.push(mel)[:left]
            left -= len(wav)
            if len(wav):
                yield wav
    stretcher.finish()
    chunks.finish()
    if left > 0:  # a vocoder that returns fewer samples than frames * hop: pad with silence
        yield np.zeros(left, dtype=np.float32)


def mel_frames(seconds: float, sample_rate: int, hop_length: int) -> int:
    """Mel frames of ``seconds`` of sound at ``sample_rate`` Hz: ``ceil(samples / hop)``."""
    return -(-int(round(seconds * sample_rate)) // hop_length)


def prepare_vocoder_for(vocoder: Vocoder, video: str | Path) -> None:
    """``vocoder.prepare`` for the sound of ``video``, from its stated duration alone.

    For a caller that starts it in a background thread before loading the model (as
    ``vs-generate`` does), so that a compile (HiFi-GAN on OpenVINO: about 2 s of CPU) runs
    while the main thread is busy with single-threaded loading; pass the future to
    :func:`generate_clip`. A video that cannot be probed is left for ``generate_clip`` to
    report: nothing is prepared then.
    """
    try:
        seconds = video_info(video).duration
    except Exception as exc:  # noqa: BLE001 - a hint only: generate_clip reports bad videos
        log.debug("%s: vocoder not prepared in advance (%s)", video, exc)
        return
    vocoder.prepare(mel_frames(seconds, vocoder.sample_rate, vocoder.hop_length))


def generate_clip(
    video: str | Path,
    reference: str | Path,
    output: str | Path,
    model: VarietySoundModel,
    vocoder: Vocoder,
    *,
    gen: GenerationConfig | None = None,
    feature: VideoFeature | None = None,
    vocoder_ready: Future[None] | None = None,
) -> GenerateReport:
    """Generate the sound of ``video`` in the timbre of ``reference``; write ``output``.

    ``output`` ending in ``.wav`` gets the sound only; anything else gets the muxed video.
    Nothing is left at ``output`` if any step fails. Memory is bounded whatever the video's
    length (see the module's docstring); the features go through a temporary file in
    ``$TMPDIR`` (OutputError if its disk fills). Raises InputError for a bad video, reference
    or a feature that does not fit the model.

    ``vocoder_ready``: the caller's own ``vocoder.prepare`` already under way (see
    :func:`prepare_vocoder_for`); it is waited for before the first vocoder call, and the
    wait counts as vocoder time. None: ``vocoder.prepare`` runs here, beside the features.
    """
    gen = gen or GenerationConfig()
    video, reference = Path(video), Path(reference)
    output = check_output(output, video, reference)
    sweep_temporaries_of(output)  # left by an earlier, killed run for this output
    timings = dict.fromkeys(("features", "generator", "vocoder", "mux"), 0.0)
    timing = media_timing(video)  # one packet scan: where the picture is and how much of it
    if timing.picture is None:
        raise InputError(video, timing.picture_problem)
    timing.check_readable()
    ref_mel = load_reference(reference, model)
    sr, dim = model.mel.sample_rate, model.generator.video_dim
    with contextlib.ExitStack() as stack:
        prepared = vocoder_ready
        if prepared is None:  # the vocoder gets ready (e.g. compiles) beside the features
            pool = stack.enter_context(
                ThreadPoolExecutor(1, thread_name_prefix="vocoder-prepare")
            )
            expected = mel_frames(timing.header_duration, sr, model.mel.hop_length)
            prepared = pool.submit(vocoder.prepare, expected)
        # pass 1: features, chunk by chunk, to a temporary file; the frame count comes out
        with _timed(timings, "features"):
            feature = feature or recorded_video_feature(model)
            feats = stack.enter_context(FeatureFile(dim))
            blocks = stack.enter_context(
                contextlib.closing(iter_video_features(video, feature, FRAME_SIZE, FEATURE_CHUNK))
            )
            for block in blocks:
                if block.shape[1] != dim:
                    raise InputError(
                        model.directory,
                        f"video feature gives {block.shape[1]} dims; the model expects {dim}",
                    )
                feats.append(block)
            frames = len(feats)
            duration, shortfall = picture_duration(timing, frames, feature.fps)
        if shortfall:
            log.warning("%s: %s; sound is made for that length", video, shortfall)

        with _timed(timings, "vocoder"):
            prepared.result()  # waits for what is left of it; raises its error, if any
        # pass 2: generator, stretch and vocoder streamed into the WAV (then muxed)
        samples = int(round(duration * sr))
        if output.suffix.lower() == ".wav":
            sound = output
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="vs-generate."))
            sound = Path(tmp) / "sound.wav"
        sound_blocks = stream_sound(model, vocoder, feats, ref_mel, samples, gen, timings)
        with open_wav(sound, sr) as out, contextlib.closing(sound_blocks):
            for wav in sound_blocks:
                with _timed(timings, "mux"):  # writing the sound, as before streaming
                    out.write(wav)
        if sound != output:
            with _timed(timings, "mux"):
                mux(video, sound, output, duration=duration)
    windows = len(plan_windows(frames, gen.window, gen.overlap))
    notes = [shortfall] if shortfall else []
    return GenerateReport(output, duration, frames, windows, timings, notes)


def picture_duration(timing: MediaTiming, frames: int, fps: float) -> tuple[float, str]:
    """Seconds of picture to make sound for, and a warning when that is less than stated.

    The readable packets' span when the file is cut short, or when it runs more than a frame
    past the stated duration; further limited to the decoded frames (``frames`` at ``fps``)
    when those fall over one frame short of it.
    """
    stated = timing.header_duration
    duration = timing.picture.duration if timing.is_partial else stated
    if timing.picture.duration > stated + max(timing.frame_period, 1.0 / fps):
        # the packets run past the stated duration (variable frame rate with B-frames can
        # state one frame interval too few): the picture is shown that long, so is the sound
        duration = timing.picture.duration
    decoded = frames / fps
    if decoded < duration - 1.0 / fps:
        duration = decoded
    if duration < stated - max(timing.frame_period * 0.5, 1.0 / fps):
        return duration, (
            f"only {duration:.2f} s of picture decodes of the {stated:.2f} s the header states"
        )
    return duration, ""
