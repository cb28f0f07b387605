"""Scorer throughput (clips/s) on built-in-corpus clips against themselves, and a cross pair."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.bench.media import synth_clips
from vs_plugin.audio.io import save_wav
from vs_plugin.data.synth import render_ideal
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS


def bench_score(seconds: float, clips: int, scorers: list[str]) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="vs-bench-score."))
    items = synth_clips(seconds, max(2, clips), tmp)
    scoring = []
    for i, it in enumerate(items):
        other = items[(i + 1) % len(items)]
        meta = json.loads(Path(it.path).with_suffix(".json").read_text())
        ometa = json.loads(Path(other.path).with_suffix(".json").read_text())
        ideal = save_wav(tmp / f"{it.utt}.ideal.wav", render_ideal(meta, ometa))
        scoring.append(ScoringItem(
            utt=it.utt, generated=it.path, category=it.category, target=it.path,
            reference=other.path, original=it.path, ideal=ideal,
            event_times=list(meta["events"]),
        ))
    rows = []
    for name in scorers:
        scorer = SCORERS.build(name)
        scorer.score(scoring[0])  # warm-up: model loading is not throughput
        t0 = time.perf_counter()
        for item in scoring:
            scorer.score(item)
        sec = time.perf_counter() - t0
        rows.append({"scorer": name, "clips": len(scoring), "clip_seconds": seconds,
                     "clips_per_s": len(scoring) / sec, "describe": scorer.describe()[:60]})
    return rows
