"""A ``real_sfx`` clip's sound from its JSON: its events, its sound track, and ideal outputs.

A clip's JSON holds the event times, each event's gain (dB) and layer draw, its source's
one-shots (paths relative to the corpus root, recorded in ``"root"``) and its background.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vs_plugin.data.real_sfx.shots import load_shot, render_events
from vs_plugin.data.synth.sound import render_background

CORPUS = "real_sfx"  # the "corpus" field of every clip's JSON


def is_real_sfx(meta: dict) -> bool:
    """True for the JSON of a ``real_sfx`` clip."""
    return isinstance(meta, dict) and meta.get("corpus") == CORPUS


def source_shots(meta: dict, sample_rate: int, root: str | Path | None = None) -> list[np.ndarray]:
    """The one-shots of a clip's source at ``sample_rate`` (``root`` overrides ``meta["root"]``).

    Raises InputError naming a one-shot that is missing or unreadable; KeyError for a JSON
    that is not a ``real_sfx`` clip's.
    """
    base = Path(root if root is not None else meta["root"])
    return [load_shot(base / rel, sample_rate) for rel in meta["source"]["layers"]]


def render_clean(
    meta: dict, sample_rate: int | None = None, root: str | Path | None = None
) -> np.ndarray:
    """``(round(duration * sr),)`` float32: a clip's events in its own source, no background."""
    sr = int(sample_rate or meta["sample_rate"])
    return render_events(
        meta["events"],
        meta["gains_db"],
        meta["layer_draws"],
        source_shots(meta, sr, root),
        float(meta["duration"]),
        sr,
    )


def render_audio(meta: dict, root: str | Path | None = None) -> np.ndarray:
    """The clip's sound track at its own rate: clean events plus its background (if any)."""
    sr = int(meta["sample_rate"])
    clean = render_clean(meta, sr, root)
    if not meta.get("background"):
        return clean
    rms = float(np.sqrt(np.mean(clean.astype(np.float64) ** 2)))
    bg = render_background(meta["background"], float(meta["duration"]), sr, rms)
    return np.clip(clean + bg, -1.0, 1.0).astype(np.float32)


def render_ideal(
    video_meta: dict,
    ref_meta: dict,
    sample_rate: int = 22050,
    root: str | Path | None = None,
) -> np.ndarray:
    """The ideal output of the pair (video A, reference B): A's events, each at A's gain,
    played by B's source (A's layer draws pick among B's takes), no background.

    ``(round(A.duration * sample_rate),)`` float32. ``video_meta`` needs only ``events`` and
    ``duration`` (any corpus; events without gains get 0 dB and the middle take).
    ``ref_meta`` is a ``real_sfx`` clip's JSON. Raises InputError naming a missing one-shot.
    """
    events = list(video_meta["events"])
    gains = video_meta.get("gains_db") or [0.0] * len(events)
    draws = video_meta.get("layer_draws") or [0.5] * len(events)
    return render_events(
        events,
        gains,
        draws,
        source_shots(ref_meta, sample_rate, root),
        float(video_meta["duration"]),
        sample_rate,
    )
