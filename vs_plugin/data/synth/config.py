"""Settings of the built-in synthetic corpus and the constants its renderers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
