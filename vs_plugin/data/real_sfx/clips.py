"""One clip: its JSON description and its video file, in one of several containers and codecs.

The picture is ``vas_synth``'s scene renderer (a visible hit at each event time, nothing that
depends on the sound); the sound is the clip's source's one-shots at the event times with a
low noise floor. Container, codecs, frame rate and picture size cycle from clip to clip, like
footage found in the wild.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np
import soundfile as sf

from vs_plugin.data.real_sfx.config import CATEGORY_NAMES, RealSFXCorpusConfig, parse_size
from vs_plugin.data.real_sfx.render import CORPUS, render_audio
from vs_plugin.data.real_sfx.sources import category_seed
from vs_plugin.data.synth.clips import _sample_events, clip_utt
from vs_plugin.data.synth.config import SPLITS
from vs_plugin.data.synth.scene import SHAPES, render_frames, sample_scene
from vs_plugin.io.ffmpeg_io import pipe_source, run, sink, source
from vs_plugin.utils.files import atomic_path, write_text_atomic


@dataclass(frozen=True)
class Format:
    """How a clip is written: file extension, ffmpeg muxer, codec options, audio rate."""

    ext: str
    muxer: str
    video: dict[str, Any]
    audio: dict[str, Any]
    audio_rate: int | None = None  # None: the corpus rate
    extra: dict[str, Any] = field(default_factory=dict)


_X264 = {"vcodec": "libx264", "pix_fmt": "yuv420p", "preset": "veryfast", "crf": 20}
#: the containers and codecs clips cycle through (``RealSFXCorpusConfig.formats``)
FORMATS: dict[str, Format] = {
    "mp4": Format(
        ".mp4",
        "mp4",
        _X264,
        {"acodec": "aac", "aac_coder": "fast", "audio_bitrate": "128k"},
        extra={"movflags": "+faststart"},
    ),
    "mkv": Format(".mkv", "matroska", _X264, {"acodec": "flac"}),
    "mkv_vorbis": Format(".mkv", "matroska", _X264, {"acodec": "libvorbis", "q:a": 4}),
    "webm": Format(
        ".webm",
        "webm",
        {
            "vcodec": "libvpx-vp9",
            "pix_fmt": "yuv420p",
            "crf": 36,
            "b:v": 0,
            "deadline": "realtime",
            "cpu-used": 8,
            "row-mt": 1,
        },
        {"acodec": "libopus", "b:a": "64k"},
        audio_rate=48000,  # Opus does not take 22050 Hz
    ),
    "mov": Format(".mov", "mov", _X264, {"acodec": "pcm_s16le"}),
    "avi": Format(
        ".avi", "avi", {"vcodec": "mjpeg", "pix_fmt": "yuvj420p", "q:v": 4}, {"acodec": "pcm_s16le"}
    ),
}
#: one fixed (shape, RGB colour) per category when ``category_pictures`` is on
CATEGORY_LOOKS = {
    name: (SHAPES[i % len(SHAPES)], colour)
    for i, (name, colour) in enumerate(
        zip(
            CATEGORY_NAMES,
            (
                [200, 60, 60],
                [60, 190, 80],
                [70, 110, 200],
                [200, 190, 60],
                [190, 70, 190],
                [60, 190, 190],
                [200, 130, 50],
            ),
        )
    )
}


def clip_variant(
    cfg: RealSFXCorpusConfig, category: str, split: str, index: int
) -> tuple[str, float, tuple[int, int]]:
    """(format name, frame rate, (width, height)) of a clip; each cycles over the clips."""
    k = index + 2 * SPLITS.index(split) + 5 * category_seed(category) + cfg.seed
    rates = [float(cfg.fps), *(float(r) for r in cfg.frame_rates)]
    sizes = [(int(cfg.width), int(cfg.height)), *(parse_size(s) for s in cfg.sizes)]
    return cfg.formats[k % len(cfg.formats)], rates[k % len(rates)], sizes[k % len(sizes)]


def clip_ext(cfg: RealSFXCorpusConfig, category: str, split: str, index: int) -> str:
    """The file extension (with the dot) of a clip's video."""
    return FORMATS[clip_variant(cfg, category, split, index)[0]].ext


def _scene(rng: np.random.Generator, category: str, category_pictures: bool) -> dict:
    scene = sample_scene(rng)
    if category_pictures:
        shape, colour = CATEGORY_LOOKS[category]
        scene["shape"], scene["color"] = shape, list(colour)
    return scene


def make_clip_meta(
    cfg: RealSFXCorpusConfig,
    root: str | Path,
    category: str,
    split: str,
    index: int,
    source: dict,
) -> dict:
    """Everything needed to re-render clip ``index`` of ``category``/``split`` (its JSON).

    ``source`` is the clip's entry of the category's source list (``inventory``); ``root``
    is the corpus root its one-shot paths are relative to. The content depends only on the
    config's content fields, the seed and ``source``.
    """
    seq = np.random.SeedSequence([cfg.seed, category_seed(category), SPLITS.index(split), index])
    seed = int(seq.generate_state(1)[0])
    sub = [np.random.default_rng([seed, k]) for k in range(4)]
    events = _sample_events(sub[0], cfg)
    fmt, fps, (width, height) = clip_variant(cfg, category, split, index)
    background = None
    if cfg.background_db:
        background = {
            "level_db": float(cfg.background_db),
            "hum_hz": 50.0,
            "hum_weight": 0.0,
            "noise_color": round(float(sub[3].uniform(1.0, 2.0)), 4),  # pink .. brown
            "noise_weight": 1.0,
            "distant": [],
            "distant_weight": 0.0,
            "seed": int(sub[3].integers(0, 2**31 - 1)),
        }
    return {
        "corpus": CORPUS,
        "utt": clip_utt(category, split, index),
        "category": category,
        "split": split,
        "seed": seed,
        "corpus_seed": int(cfg.seed),
        "duration": float(cfg.duration),
        "fps": fps,
        "height": height,
        "width": width,
        "format": fmt,
        "sample_rate": int(cfg.sample_rate),
        "events": events,
        "gains_db": [
            round(float(g), 3) for g in sub[2].uniform(-cfg.gain_db, cfg.gain_db, len(events))
        ],
        "layer_draws": [round(float(u), 4) for u in sub[2].uniform(0.0, 1.0, len(events))],
        "timbre_label": source["label"],
        "source": {
            "id": source["id"],
            "package": source["package"],
            "version": source["version"],
            "layers": [layer["shot"] for layer in source["layers"]],
        },
        "root": str(Path(root).absolute()),
        "scene": _scene(sub[1], category, cfg.category_pictures),
        "background": background,
    }


def write_clip(path: str | Path, meta: dict) -> Path:
    """Render ``meta`` into ``path`` (its format's container) and its JSON beside it.

    The JSON is written last: it marks the clip as finished. Raises InputError naming
    ``path`` when ffmpeg cannot encode it (OutputError when the disk is full).
    """
    path = Path(path)
    fmt = FORMATS[meta["format"]]
    sr = int(meta["sample_rate"])
    frames = render_frames(meta)
    audio = render_audio(meta)
    rate = Fraction(meta["fps"]).limit_denominator(1001)
    with tempfile.TemporaryDirectory(prefix="real_sfx_") as tmp_dir:
        wav_tmp = Path(tmp_dir) / "audio.wav"
        sf.write(str(wav_tmp), audio, sr, subtype="FLOAT")
        with atomic_path(path, suffix=fmt.ext) as tmp:
            video_in = pipe_source(
                format="rawvideo",
                pix_fmt="rgb24",
                s=f"{meta['width']}x{meta['height']}",
                framerate=f"{rate.numerator}/{rate.denominator}",
            )
            out = ffmpeg.output(
                video_in,
                source(wav_tmp),
                sink(tmp),
                **fmt.video,
                **fmt.audio,
                **fmt.extra,
                ar=fmt.audio_rate or sr,
                ac=1,
                t=meta["duration"],
                format=fmt.muxer,
            )
            run(out, blame=path, what="could not encode clip", input=frames.tobytes())
    write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=1) + "\n")
    return path


def write_job(args: tuple[str, dict]) -> str:
    """``write_clip`` for a process pool: ``(path, meta)`` -> path."""
    write_clip(args[0], args[1])
    return args[0]
