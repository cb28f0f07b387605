"""The built-in synthetic corpus ``vas_synth``: VAS-shaped clips with known ground truth.

It lets the whole recipe run on a machine without VAS, and it makes the task measurable: every
clip is rendered from a JSON description (event times, visual scene, timbre, background), so the
ideal output of a cross pair (events of video A, timbre of reference B, no background) can be
rendered exactly with :func:`render_ideal`.

Design rules that keep the corpus honest for timbre transfer:

- the picture depends only on the event times and the scene, never on the timbre, so the
  timbre can only be learnt from the reference audio;
- each category has a few timbre *families* (clearly different spectra) and each family a few
  fixed *variants* (pitch, decay, spectral tilt, noise), shared by many clips;
- every event sounds the same one-shot, placed sample-exactly at the event time, with a sharp
  attack; a quieter per-clip background (hum, coloured noise, distant sounds) is added on top.

Layout written under ``root``: ``<category>/videos/<split>_<NNNN>.mp4`` and the ``.json`` of
the same stem beside it (written last: it marks the clip as finished), plus ``corpus.json``
recording the generator settings. Utterance ids are ``<category>-<stem>``, as the ``vas``
corpus would name the same files; the split is fixed by the generator.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import ffmpeg
import numpy as np
import soundfile as sf
from scipy import signal
from tqdm import tqdm

from vs_plugin.errors import InputError
from vs_plugin.interfaces import Corpus, CorpusItem
from vs_plugin.registry import CORPORA
from vs_plugin.io.ffmpeg_io import pipe_source, run, sink, source
from vs_plugin.utils.files import atomic_path, write_text_atomic

SPLITS = ("train", "valid", "test")
CLEAN_PEAK = 0.9  # events are limited to this peak so that the mixture never clips
SHOT_PEAK = 0.5  # every one-shot is normalised to this peak: equal loudness across timbres
MIN_GAP = 0.4  # seconds between events: onsets stay separable
EDGE = 0.25  # no event in the first EDGE seconds
TAIL = 0.5  # ... nor in the last TAIL seconds

Params = dict[str, Any]


@dataclass
class SynthCorpusConfig:
    """Settings of the generated corpus; clip content depends on everything but the counts."""

    root: str = "downloads/vas_synth"
    categories: list[str] = field(default_factory=lambda: ["drum", "bell", "knock", "whistle"])
    n_train: int = 128  # clips per category
    n_valid: int = 32  # the paper's per-category validation size
    n_test: int = 32  # the paper's per-category test size
    duration: float = 10.0  # seconds (the paper's clip length)
    fps: float = 21.5
    height: int = 256
    width: int = 340
    sample_rate: int = 22050
    min_events: int = 2
    max_events: int = 8
    variants_per_family: int = 4
    background_db: float = -20.0  # background RMS relative to the events' RMS
    seed: int = 0
    jobs: int = 1  # parallel writer processes


# -- timbres ---------------------------------------------------------------------------------
def _partials(ratios: Sequence[float], tilt: float, decay: float, spread: float, rng) -> list:
    """[ratio, amplitude, decay] rows: amplitude falls as ratio**-tilt, decays jitter by spread."""
    rows = []
    for r in ratios:
        amp = float(r) ** (-tilt)
        d = decay * float(rng.uniform(1 - spread, 1 + spread)) / (1 + 0.15 * (float(r) - 1))
        rows.append([round(float(r), 4), round(amp, 4), round(max(d, 0.005), 4)])
    return rows


def _base(rng, **kw: Any) -> Params:
    p: Params = {
        "f0": 100.0,
        "partials": [],
        "glide": 0.0,
        "glide_tau": 0.03,
        "vibrato_hz": 0.0,
        "vibrato_depth": 0.0,
        "attack": 0.002,
        "sustain": 0.0,
        "noise": {"amp": 0.0, "lo": 100.0, "hi": 8000.0, "decay": 0.05},
        "click": 0.0,  # level of a broadband strike/chiff transient at the onset
        "noise_seed": int(rng.integers(0, 2**31 - 1)),
    }
    p.update(kw)
    return p


def _kick(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(45, 60),
        partials=_partials([1.0, 2.0], rng.uniform(1.5, 3.0), rng.uniform(0.25, 0.4), 0.1, rng),
        glide=rng.uniform(1.5, 2.5),
        glide_tau=rng.uniform(0.02, 0.04),
        noise={"amp": rng.uniform(0.05, 0.15), "lo": 1000.0, "hi": 4000.0, "decay": 0.01},
    )


def _snare(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(180, 230),
        partials=_partials([1.0, 1.6], 1.0, rng.uniform(0.06, 0.1), 0.1, rng),
        noise={
            "amp": rng.uniform(1.2, 2.0),
            "lo": rng.uniform(1500, 2500),
            "hi": rng.uniform(6000, 8000),
            "decay": rng.uniform(0.12, 0.18),
        },
    )


def _tom(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(110, 140),
        partials=_partials(
            [1.0, 1.5, 2.1], rng.uniform(0.5, 1.0), rng.uniform(0.3, 0.45), 0.1, rng
        ),
        glide=rng.uniform(0.2, 0.4),
        glide_tau=0.05,
        noise={"amp": rng.uniform(0.2, 0.4), "lo": 300.0, "hi": 1200.0, "decay": 0.04},
    )


def _church(rng) -> Params:
    ratios = [0.5, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.2]
    return _base(
        rng,
        f0=rng.uniform(540, 570),
        partials=_partials(ratios, rng.uniform(0.3, 0.6), rng.uniform(0.5, 0.7), 0.2, rng),
        noise={"amp": 0.1, "lo": 2000.0, "hi": 6000.0, "decay": 0.01},
        click=rng.uniform(0.15, 0.3),
    )


def _glass(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(1900, 2000),
        partials=_partials([1.0, 2.76], rng.uniform(0.8, 1.5), rng.uniform(0.5, 0.8), 0.1, rng),
        attack=0.001,
        noise={"amp": rng.uniform(0.05, 0.15), "lo": 3000.0, "hi": 8000.0, "decay": 0.005},
        click=rng.uniform(0.2, 0.4),
    )


def _gong(rng) -> Params:
    ratios = np.sort(rng.uniform(1.0, 6.0, size=10))
    return _base(
        rng,
        f0=rng.uniform(60, 70),
        partials=_partials(ratios, rng.uniform(1.0, 1.4), rng.uniform(0.5, 0.7), 0.3, rng),
        attack=0.002,
        noise={"amp": rng.uniform(0.5, 0.7), "lo": 100.0, "hi": 600.0, "decay": 0.3},
        click=rng.uniform(0.2, 0.4),
    )


def _wood(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(700, 850),
        partials=_partials([1.0], 1.0, rng.uniform(0.04, 0.06), 0.1, rng),
        attack=0.001,
        noise={
            "amp": rng.uniform(0.8, 1.2),
            "lo": rng.uniform(600, 700),
            "hi": rng.uniform(1500, 1700),
            "decay": rng.uniform(0.02, 0.04),
        },
    )


def _metal(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(3000, 3300),
        partials=_partials(
            [1.0, 1.41, 1.93], rng.uniform(0.3, 0.8), rng.uniform(0.15, 0.3), 0.1, rng
        ),
        attack=0.001,
        noise={"amp": rng.uniform(0.6, 0.9), "lo": 3000.0, "hi": 7000.0, "decay": 0.08},
    )


def _door(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(80, 120),
        partials=_partials([1.0, 1.7], 1.5, rng.uniform(0.06, 0.1), 0.1, rng),
        noise={
            "amp": rng.uniform(1.0, 1.5),
            "lo": 60.0,
            "hi": rng.uniform(300, 400),
            "decay": rng.uniform(0.06, 0.1),
        },
    )


def _pure(rng) -> Params:
    f0 = rng.uniform(2150, 2300)
    return _base(
        rng,
        f0=f0,
        partials=[[1.0, 1.0, 0.04], [2.0, round(rng.uniform(0.03, 0.1), 4), 0.04]],
        attack=0.008,
        sustain=rng.uniform(0.18, 0.28),
        vibrato_hz=rng.uniform(4, 6),
        vibrato_depth=0.005,
        noise={"amp": rng.uniform(0.1, 0.3), "lo": 0.9 * f0, "hi": 1.1 * f0, "decay": 0.04},
        click=rng.uniform(0.6, 0.9),
    )


def _breathy(rng) -> Params:
    f0 = rng.uniform(850, 1000)
    return _base(
        rng,
        f0=f0,
        partials=[[1.0, rng.uniform(0.3, 0.5), 0.05]],
        attack=0.008,
        sustain=rng.uniform(0.2, 0.3),
        noise={"amp": 1.0, "lo": 0.8 * f0, "hi": 1.25 * f0, "decay": 0.05},
        click=rng.uniform(0.3, 0.5),
    )


def _warble(rng) -> Params:
    return _base(
        rng,
        f0=rng.uniform(400, 420),
        partials=_partials(range(1, 7), rng.uniform(0.8, 1.2), 0.05, 0.0, rng),
        attack=0.008,
        sustain=rng.uniform(0.2, 0.3),
        vibrato_hz=rng.uniform(4, 6),
        vibrato_depth=0.006,
        click=rng.uniform(0.3, 0.5),
    )


#: category -> family -> sampler of one variant's parameters. Order is part of the seed scheme.
FAMILIES: dict[str, dict[str, Callable[[Any], Params]]] = {
    "drum": {"kick": _kick, "snare": _snare, "tom": _tom},
    "bell": {"church": _church, "glass": _glass, "gong": _gong},
    "knock": {"wood": _wood, "metal": _metal, "door": _door},
    "whistle": {"pure": _pure, "breathy": _breathy, "warble": _warble},
}
CATEGORY_NAMES = tuple(FAMILIES)


def _clean_json(obj: Any) -> Any:
    """numpy scalars -> Python floats/ints rounded for a stable, readable JSON."""
    if isinstance(obj, dict):
        return {k: _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_json(v) for v in obj]
    if isinstance(obj, np.integer | int) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, np.floating | float):
        return round(float(obj), 6)
    return obj


def timbre_variant(category: str, family: str, variant: int, corpus_seed: int = 0) -> Params:
    """The fixed parameters of one individual sound source (shared by all its clips)."""
    if category not in FAMILIES:
        raise ValueError(f"unknown category {category!r}; known: {', '.join(CATEGORY_NAMES)}")
    fams = FAMILIES[category]
    if family not in fams:
        raise ValueError(f"unknown {category} family {family!r}; known: {', '.join(fams)}")
    cat_id = CATEGORY_NAMES.index(category)
    fam_id = list(fams).index(family)
    rng = np.random.default_rng([corpus_seed, cat_id, fam_id, variant, 7])
    params = fams[family](rng)
    return _clean_json(
        {"category": category, "family": family, "variant": variant, "params": params}
    )


def _decay_env(t: np.ndarray, sustain: float, decay: float) -> np.ndarray:
    return np.where(t < sustain, 1.0, np.exp(-(t - sustain) / max(decay, 1e-4)))


def render_one_shot(params: Params, sample_rate: int = 22050) -> np.ndarray:
    """The sound of one event: partials with glide/vibrato plus band noise, peak SHOT_PEAK."""
    p = params
    decays = [row[2] for row in p["partials"]] + [p["noise"]["decay"] if p["noise"]["amp"] else 0]
    length = float(np.clip(p["sustain"] + p["attack"] + 6 * max(decays), 0.1, 1.8))
    n = int(round(length * sample_rate))
    t = np.arange(n) / sample_rate
    attack = np.clip(t / max(p["attack"], 1.0 / sample_rate), 0.0, 1.0)
    hold = p["sustain"] + p["attack"]
    freq = p["f0"] * (1 + p["glide"] * np.exp(-t / p["glide_tau"]))
    if p["vibrato_depth"]:
        freq = freq * (1 + p["vibrato_depth"] * np.sin(2 * np.pi * p["vibrato_hz"] * t))
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    nyquist = sample_rate / 2
    out = np.zeros(n)
    for ratio, amp, decay in p["partials"]:
        if ratio * float(freq.max()) >= 0.95 * nyquist:
            continue  # would alias at this sample rate
        out += amp * _decay_env(t, hold, decay) * np.sin(ratio * phase)
    noise = p["noise"]
    if noise["amp"] > 0:
        white = np.random.default_rng(p["noise_seed"]).standard_normal(n)
        hi = min(noise["hi"], 0.45 * sample_rate)
        sos = signal.butter(4, [noise["lo"], hi], btype="bandpass", fs=sample_rate, output="sos")
        band = signal.sosfilt(sos, white)
        band /= np.sqrt(np.mean(band**2)) + 1e-12
        out += noise["amp"] * 0.3 * band * _decay_env(t, hold, noise["decay"])
    if p.get("click", 0.0) > 0:
        burst = np.random.default_rng([p["noise_seed"], 1]).standard_normal(n)
        out += p["click"] * 0.3 * burst * np.exp(-t / 0.006)
    out *= attack
    fade = int(0.4 * n)  # a long fade: cutting a ringing tail short would click
    out[n - fade :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
    return (SHOT_PEAK * out / (np.max(np.abs(out)) + 1e-12)).astype(np.float32)


def _timbre_of(meta: dict) -> Params:
    """Accept a clip's whole JSON or its ``timbre`` entry."""
    return meta.get("timbre", meta)


def render_events(
    events: Iterable[float], timbre: dict, duration: float, sample_rate: int = 22050
) -> np.ndarray:
    """``timbre``'s one-shot at every event time, limited to CLEAN_PEAK; no background."""
    shot = render_one_shot(_timbre_of(timbre)["params"], sample_rate)
    n = int(round(duration * sample_rate))
    out = np.zeros(n, dtype=np.float64)
    for e in events:
        i = int(round(e * sample_rate))
        if 0 <= i < n:
            seg = shot[: n - i]
            out[i : i + seg.size] += seg
    peak = float(np.max(np.abs(out))) if n else 0.0
    if peak > CLEAN_PEAK:
        out *= CLEAN_PEAK / peak
    return out.astype(np.float32)


def render_clean(meta: dict, sample_rate: int = 22050) -> np.ndarray:
    """A clip's events with its own timbre and no background."""
    return render_events(meta["events"], meta["timbre"], meta["duration"], sample_rate)


def render_ideal(video_meta: dict, timbre_meta: dict, sample_rate: int = 22050) -> np.ndarray:
    """The ideal output for the cross pair (video A, reference B): A's events, B's timbre.

    ``timbre_meta`` may be clip B's whole JSON or just its ``timbre`` entry.
    """
    return render_events(
        video_meta["events"], _timbre_of(timbre_meta), video_meta["duration"], sample_rate
    )


# -- background ------------------------------------------------------------------------------
def _sample_background(rng, level_db: float, duration: float) -> Params:
    n_distant = int(rng.integers(0, 4))
    return _clean_json(
        {
            "level_db": level_db,
            "hum_hz": float(rng.choice([50.0, 60.0])),
            "hum_weight": rng.uniform(0.0, 1.0),
            "noise_color": rng.uniform(0.0, 2.0),  # spectral slope: 0 white, 1 pink, 2 brown
            "noise_weight": rng.uniform(0.5, 1.0),
            "distant": [
                [
                    rng.uniform(0, max(duration - 1.0, 0.1)),
                    rng.uniform(200, 1200),
                    rng.uniform(0.3, 1.0),
                ]
                for _ in range(n_distant)
            ],
            "distant_weight": rng.uniform(0.3, 1.0),
            "seed": int(rng.integers(0, 2**31 - 1)),
        }
    )


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x**2)))
    return x / rms if rms > 0 else x


def render_background(
    bg: Params, duration: float, sample_rate: int, events_rms: float
) -> np.ndarray:
    """Hum + coloured noise + soft distant tones, at ``level_db`` below ``events_rms``."""
    n = int(round(duration * sample_rate))
    t = np.arange(n) / sample_rate
    rng = np.random.default_rng(bg["seed"])
    hum = sum(np.sin(2 * np.pi * k * bg["hum_hz"] * t) / k for k in range(1, 5))
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spec *= np.where(f > 20, np.maximum(f, 20.0) ** (-bg["noise_color"] / 2), 0.0)
    noise = np.fft.irfft(spec, n)
    distant = np.zeros(n)
    for start, freq, dur in bg["distant"]:
        env = np.clip((t - start) / 0.15, 0, 1) * np.clip((start + dur - t) / 0.15, 0, 1)
        distant += env * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    mix = (
        bg["hum_weight"] * _unit_rms(hum)
        + bg["noise_weight"] * _unit_rms(noise)
        + bg["distant_weight"] * _unit_rms(distant)
    )
    gain = events_rms * 10 ** (bg["level_db"] / 20)
    return (gain * _unit_rms(mix)).astype(np.float32)


def render_audio(meta: dict, sample_rate: int = 22050) -> np.ndarray:
    """The clip's sound track: clean events plus its background."""
    clean = render_clean(meta, sample_rate)
    rms = float(np.sqrt(np.mean(clean.astype(np.float64) ** 2)))
    bg = render_background(meta["background"], meta["duration"], sample_rate, rms)
    return np.clip(clean + bg, -1.0, 1.0).astype(np.float32)


# -- pictures --------------------------------------------------------------------------------
SHAPES = ("circle", "square", "triangle", "diamond")
TEXTURES = ("solid", "gradient", "stripes", "checker", "noise")
ACTIONS = ("strike", "bounce", "flash")


def _sample_scene(rng) -> Params:
    def colour(lo: int, hi: int) -> list[int]:
        return [int(v) for v in rng.integers(lo, hi, size=3)]

    return {
        "texture": str(rng.choice(TEXTURES)),
        "bg_color": colour(0, 110),
        "bg_color2": colour(0, 110),
        "texture_scale": int(rng.integers(8, 40)),
        "texture_seed": int(rng.integers(0, 2**31 - 1)),
        "shape": str(rng.choice(SHAPES)),
        "color": colour(60, 200),
        "x": round(float(rng.uniform(0.3, 0.7)), 4),
        "y": round(float(rng.uniform(0.55, 0.75)), 4),
        "size": round(float(rng.uniform(0.12, 0.2)), 4),
        "action": str(rng.choice(ACTIONS)),
    }


def _backdrop(scene: Params, height: int, width: int) -> np.ndarray:
    c1 = np.array(scene["bg_color"], dtype=np.float32)
    c2 = np.array(scene["bg_color2"], dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    s = scene["texture_scale"]
    kind = scene["texture"]
    if kind == "gradient":
        w = (yy / max(height - 1, 1))[..., None]
    elif kind == "stripes":
        w = (((xx + yy) // s) % 2)[..., None].astype(np.float32)
    elif kind == "checker":
        w = (((xx // s) + (yy // s)) % 2)[..., None].astype(np.float32)
    elif kind == "noise":
        rng = np.random.default_rng(scene["texture_seed"])
        small = rng.uniform(0, 1, size=(max(height // s, 2), max(width // s, 2))).astype(np.float32)
        w = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    else:
        w = np.zeros((height, width, 1), dtype=np.float32)
    return np.clip(c1 * (1 - w) + c2 * w, 0, 255).astype(np.uint8)


def _draw_shape(img: np.ndarray, shape: str, cx: float, cy: float, r: float, color) -> None:
    col = tuple(int(c) for c in color)
    if shape == "circle":
        cv2.circle(img, (round(cx), round(cy)), max(round(r), 1), col, -1, cv2.LINE_AA)
        return
    if shape == "square":
        pts = [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    elif shape == "triangle":
        pts = [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    else:  # diamond
        pts = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    poly = np.round(np.array(pts)).astype(np.int32)
    cv2.fillPoly(img, [poly], col, cv2.LINE_AA)


def render_frames(meta: dict) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB from the scene and event times only (never the timbre).

    At each event the object is hit (strike: a bar comes down on it; bounce: it lands; flash:
    it swells) and lights up, fading over about 0.1 s.
    """
    scene, events = meta["scene"], np.asarray(meta["events"], dtype=np.float64)
    h, w, fps = int(meta["height"]), int(meta["width"]), float(meta["fps"])
    n = int(round(meta["duration"] * fps))
    back = _backdrop(scene, h, w)
    base_col = np.array(scene["color"], dtype=np.float32)
    r0 = scene["size"] * min(h, w) / 2
    cx, cy = scene["x"] * w, scene["y"] * h
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for k in range(n):
        t = k / fps
        past = events[events <= t]
        glow = float(np.exp(-(t - past[-1]) / 0.08)) if past.size else 0.0
        near = float(np.min(np.abs(events - t))) if events.size else 1.0
        img = back.copy()
        y, r = cy, r0
        if scene["action"] == "bounce":
            nxt = events[events > t]
            a = past[-1] if past.size else min(t, 0.0) - 0.5
            b = nxt[0] if nxt.size else t + 0.5
            y = cy - min(0.35 * h, 0.8 * h * (t - a) * (b - t) / max(b - a, 1e-3))
        elif scene["action"] == "flash":
            r = r0 * (1 + 0.35 * glow)
        col = base_col + (255 - base_col) * 0.85 * glow
        _draw_shape(img, scene["shape"], cx, y, r, col)
        if scene["action"] == "strike":
            lift = min(near / 0.15, 1.0) * 0.25 * h
            top = y - r0 - 0.06 * h - lift
            p1 = (round(cx - 1.2 * r0), round(top))
            p2 = (round(cx + 1.2 * r0), round(top + 0.06 * h))
            cv2.rectangle(img, p1, p2, (200, 200, 200), -1)
        if glow > 0.05:
            cv2.circle(img, (round(cx), round(y)), round(r * 1.6), (255, 255, 255), 2, cv2.LINE_AA)
        frames[k] = img
    return frames


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
        "scene": _sample_scene(sub[1]),
        "timbre": timbre_variant(category, family, variant, cfg.seed),
        "background": _sample_background(sub[3], cfg.background_db, cfg.duration),
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


def _write_job(args: tuple[str, dict]) -> str:
    write_clip(args[0], args[1])
    return args[0]


# -- the corpus ------------------------------------------------------------------------------
_COUNT_FIELDS = ("root", "n_train", "n_valid", "n_test", "jobs", "categories")


def _check_config(cfg: SynthCorpusConfig) -> None:
    unknown = [c for c in cfg.categories if c not in FAMILIES]
    if unknown or not cfg.categories:
        raise ValueError(
            f"vas_synth: unknown categories {unknown}; known: {', '.join(CATEGORY_NAMES)}"
        )
    if cfg.height % 2 or cfg.width % 2 or min(cfg.height, cfg.width) < 16:
        raise ValueError("vas_synth: height and width must be even and at least 16 (yuv420p)")
    if not 1 <= cfg.min_events <= cfg.max_events:
        raise ValueError("vas_synth: need 1 <= min_events <= max_events")
    if events_that_fit(cfg.duration) < cfg.min_events:
        raise ValueError(
            f"vas_synth: {cfg.min_events} events {MIN_GAP} s apart do not fit in "
            f"{cfg.duration} s clips (lower min_events or raise duration)"
        )
    if cfg.variants_per_family < 1 or cfg.fps <= 0 or cfg.sample_rate < 8000:
        raise ValueError("vas_synth: variants_per_family >= 1, fps > 0, sample_rate >= 8000")
    if min(cfg.n_train, cfg.n_valid, cfg.n_test) < 0:
        raise ValueError("vas_synth: clip counts must be >= 0")


@CORPORA.register("vas_synth", config=SynthCorpusConfig)
class SynthCorpus(Corpus):
    """Generated VAS-like clips (events, scenes, timbre families) with exact ground truth."""

    def __init__(self, cfg: SynthCorpusConfig) -> None:
        _check_config(cfg)
        self.cfg = cfg
        self.root = Path(cfg.root).absolute()

    def describe(self) -> str:
        c = self.cfg
        return (
            f"vas_synth at {self.root}: {len(c.categories)} categories x "
            f"({c.n_train}/{c.n_valid}/{c.n_test} train/valid/test), {c.duration} s, seed {c.seed}"
        )

    def video_path(self, category: str, split: str, index: int) -> Path:
        return self.root / category / "videos" / f"{clip_stem(split, index)}.mp4"

    def plan(self) -> list[CorpusItem]:
        """The clips this configuration defines, whether written yet or not."""
        counts = {"train": self.cfg.n_train, "valid": self.cfg.n_valid, "test": self.cfg.n_test}
        out = []
        for category in self.cfg.categories:
            for split in SPLITS:
                for i in range(counts[split]):
                    utt = clip_utt(category, split, i)
                    path = self.video_path(category, split, i)
                    out.append(CorpusItem(utt, path, category, split))
        return sorted(out, key=lambda it: it.utt)

    def _claim_root(self) -> None:
        """Record the content settings; refuse a root generated with different ones."""
        content = {k: v for k, v in dataclasses.asdict(self.cfg).items() if k not in _COUNT_FIELDS}
        record = self.root / "corpus.json"
        if record.exists():
            try:
                old = json.loads(record.read_text(encoding="utf-8"))
            except ValueError:
                raise InputError(record, "unreadable corpus record (not JSON)") from None
            if old != content:
                diff = sorted(k for k in set(old) | set(content) if old.get(k) != content.get(k))
                raise InputError(
                    record,
                    f"corpus was generated with different settings ({', '.join(diff)}); "
                    "use another root or delete it",
                )
            return
        write_text_atomic(record, json.dumps(content, indent=1, sort_keys=True) + "\n")

    @staticmethod
    def is_done(item: CorpusItem) -> bool:
        return item.path.exists() and item.path.with_suffix(".json").exists()

    def items(self) -> list[CorpusItem]:
        """Write the missing clips (nothing already there is redone), then list them all."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._claim_root()
        plan = self.plan()
        todo = [
            (
                str(it.path),
                make_clip_meta(
                    self.cfg, it.category, it.split, int(it.path.stem.rsplit("_", 1)[1])
                ),
            )
            for it in plan
            if not self.is_done(it)
        ]
        if todo:
            bar = tqdm(total=len(todo), desc="vas_synth", unit="clip", disable=None)
            if self.cfg.jobs > 1:
                with ProcessPoolExecutor(self.cfg.jobs) as pool:
                    for _ in pool.map(_write_job, todo):
                        bar.update()
            else:
                for job in todo:
                    _write_job(job)
                    bar.update()
            bar.close()
        write_text_atomic(self.root / ".done", f"{len(plan)} clips\n")
        return plan


def load_meta(path: str | Path) -> dict:
    """A clip's ground truth, from its ``.json`` or from the ``.mp4`` beside it."""
    path = Path(path).with_suffix(".json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "ground-truth JSON not found") from None
    except ValueError:
        raise InputError(path, "ground-truth JSON is not valid JSON") from None


def main(argv: Sequence[str] | None = None) -> int:
    d = SynthCorpusConfig()
    ap = argparse.ArgumentParser(
        prog="python -m vs_plugin.data.synth",
        description="Write the built-in synthetic corpus (vas_synth) in the VAS layout: "
        "<root>/<category>/videos/<id>.mp4 with <id>.json ground truth beside each clip. "
        "Re-running only writes what is missing.",
    )
    ap.add_argument("--root", required=True, help="output folder")
    ap.add_argument("--categories", nargs="+", default=d.categories, choices=CATEGORY_NAMES)
    ap.add_argument("--n-train", type=int, default=d.n_train, help="train clips per category")
    ap.add_argument("--n-valid", type=int, default=d.n_valid, help="valid clips per category")
    ap.add_argument("--n-test", type=int, default=d.n_test, help="test clips per category")
    ap.add_argument("--duration", type=float, default=d.duration, help="seconds per clip")
    ap.add_argument("--fps", type=float, default=d.fps)
    ap.add_argument("--height", type=int, default=d.height)
    ap.add_argument("--width", type=int, default=d.width)
    ap.add_argument("--min-events", type=int, default=d.min_events)
    ap.add_argument("--max-events", type=int, default=d.max_events)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--jobs", type=int, default=d.jobs, help="parallel writer processes")
    a = ap.parse_args(argv)
    cfg = SynthCorpusConfig(
        root=a.root,
        categories=list(a.categories),
        n_train=a.n_train,
        n_valid=a.n_valid,
        n_test=a.n_test,
        duration=a.duration,
        fps=a.fps,
        height=a.height,
        width=a.width,
        min_events=a.min_events,
        max_events=a.max_events,
        seed=a.seed,
        jobs=a.jobs,
    )
    try:
        corpus = SynthCorpus(cfg)
        items = corpus.items()
    except (ValueError, InputError) as exc:
        print(f"vas_synth: error: {exc}", file=sys.stderr)
        return 2
    print(f"{corpus.describe()}: {len(items)} clips ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
