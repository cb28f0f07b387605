"""The corpus's sounds: timbre families and variants, one-shots, event tracks, ideal outputs
and backgrounds (every sound is rendered from a clip's JSON description)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from scipy import signal

from vs_plugin.data.synth.config import CLEAN_PEAK, SHOT_PEAK, Params


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
def sample_background(rng, level_db: float, duration: float) -> Params:
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
