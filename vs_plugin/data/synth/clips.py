"""One clip: its JSON description (events, scene, timbre, background) and its H.264/AAC mp4."""

from __future__ import annotations

import json
import math
import tempfile
from fractions import Fraction
from pathlib import Path

import ffmpeg
import numpy as np
import soundfile as sf

from vs_plugin.data.synth.config import EDGE, MIN_GAP, SPLITS, TAIL, SynthCorpusConfig
from vs_plugin.data.synth.scene import render_frames, sample_scene
from vs_plugin.data.synth.sound import (
    CATEGORY_NAMES,
    FAMILIES,
    render_audio,
    sample_background,
    timbre_variant,
)
from vs_plugin.io.ffmpeg_io import pipe_source, run, sink, source
from vs_plugin.utils.files import atomic_path, write_text_atomic


# -- clips -----------------------------------------------------------------------------------
def events_that_fit(duration: float) -> int:
    """How many events MIN_GAP apart fit in [EDGE, duration - TAIL]."""
    span = duration - EDGE - TAIL
    return int(math.floor(span / MIN_GAP + 1e-9)) + 1 if span >= 0 else 0


def _sample_events(rng, cfg: SynthCorpusConfig) -> list[float]:
    """Sorted times in [EDGE, duration - TAIL] at least MIN_GAP apart, rounded to 0.1 ms.

    Short clips hold fewer events: the count is capped at what fits.
    """
    high = min(cfg.max_events, events_that_fit(cfg.duration))
    count = int(rng.integers(cfg.min_events, high + 1))
    span = cfg.duration - EDGE - TAIL - (count - 1) * MIN_GAP
    base = np.sort(rng.uniform(0.0, span, size=count))
    return [round(float(EDGE + b + i * MIN_GAP), 4) for i, b in enumerate(base)]


def clip_stem(split: str, index: int) -> str:
    """File name (without extension) of clip ``index`` of a split."""
    return f"{split}_{index:04d}"


def clip_utt(category: str, split: str, index: int) -> str:
    """Utterance id ``<category>-<stem>``, the id the ``vas`` corpus gives the same file."""
    return f"{category}-{clip_stem(split, index)}"


def make_clip_meta(cfg: SynthCorpusConfig, category: str, split: str, index: int) -> dict:
    """Everything needed to re-render clip ``index`` of ``category``/``split`` (its JSON)."""
    cat_id = CATEGORY_NAMES.index(category)
    seq = np.random.SeedSequence([cfg.seed, cat_id, SPLITS.index(split), index])
    seed = int(seq.generate_state(1)[0])
    sub = [np.random.default_rng([seed, k]) for k in range(4)]
    families = list(FAMILIES[category])
    family = families[int(sub[2].integers(len(families)))]
    variant = int(sub[2].integers(cfg.variants_per_family))
    return {
        "utt": clip_utt(category, split, index),
        "category": category,
        "split": split,
        "seed": seed,
        "corpus_seed": cfg.seed,
        "duration": float(cfg.duration),
        "fps": float(cfg.fps),
        "height": int(cfg.height),
        "width": int(cfg.width),
        "sample_rate": int(cfg.sample_rate),
        "events": _sample_events(sub[0], cfg),
        "scene": sample_scene(sub[1]),
        "timbre": timbre_variant(category, family, variant, cfg.seed),
        "background": sample_background(sub[3], cfg.background_db, cfg.duration),
    }


def write_clip(mp4_path: str | Path, meta: dict) -> Path:
    """Render ``meta`` into an H.264/AAC mp4 and its JSON beside it (JSON last = finished)."""
    mp4_path = Path(mp4_path)
    sr = int(meta["sample_rate"])
    frames = render_frames(meta)
    audio = render_audio(meta, sr)
    rate = Fraction(meta["fps"]).limit_denominator(1001)
    with tempfile.TemporaryDirectory(prefix="vas_synth_") as tmp_dir:
        wav_tmp = Path(tmp_dir) / "audio.wav"
        sf.write(str(wav_tmp), audio, sr, subtype="FLOAT")
        with atomic_path(mp4_path, suffix=".mp4") as tmp:
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
                vcodec="libx264",
                pix_fmt="yuv420p",
                preset="veryfast",
                crf=20,
                acodec="aac",
                aac_coder="fast",  # the default two-loop search doubles the encode time
                audio_bitrate="128k",
                ar=sr,
                ac=1,
                t=meta["duration"],
                movflags="+faststart",
                format="mp4",
            )
            run(out, blame=mp4_path, what="could not encode clip", input=frames.tobytes())
    write_text_atomic(mp4_path.with_suffix(".json"), json.dumps(meta, indent=1) + "\n")
    return mp4_path


def write_job(args: tuple[str, dict]) -> str:
    write_clip(args[0], args[1])
    return args[0]
