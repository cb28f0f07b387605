"""Resemblyzer timbre similarity: 1 with itself, clearly lower across timbres."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.scoring.sounds import SR, render
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.timbre import TimbreSimilarityScorer

EVENTS = [0.2, 0.6, 1.1, 1.5, 2.0, 2.4]
TONE = {"kind": "tone", "f0": 220.0, "decay": 0.12}
TONE_B = {"kind": "tone", "f0": 233.0, "decay": 0.12}
NOISE = {"kind": "noise", "seed": 3, "decay": 0.03}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("timbre")
    out = {}
    for name, timbre, events in (
        ("tone", TONE, EVENTS),
        ("tone_b", TONE_B, EVENTS[1:]),
        ("noise", NOISE, EVENTS),
    ):
        out[name] = d / f"{name}.wav"
        sf.write(out[name], render(events, timbre, 3.0), SR)
    out["silent"] = d / "silent.wav"
    sf.write(out["silent"], np.zeros(SR, np.float32), SR)
    return out


@pytest.fixture(scope="module")
def scorer():
    return SCORERS.build("timbre_similarity")


def test_self_similarity_is_one(scorer, files):
    item = ScoringItem(utt="u", generated=files["tone"], reference=files["tone"])
    assert scorer.score(item)["timbre_sim"] == pytest.approx(1.0, abs=1e-5)


def test_other_timbre_is_clearly_lower(scorer, files):
    same_kind = scorer.similarity(files["tone"], files["tone_b"])
    other = scorer.similarity(files["tone"], files["noise"])
    assert other < same_kind - 0.05
    assert other < 0.9


def test_silent_output_scores_zero_and_vad_is_reported(scorer, files):
    item = ScoringItem(utt="u", generated=files["silent"], reference=files["tone"])
    assert scorer.score(item)["timbre_sim"] == 0.0
    assert "no VAD trimming" in scorer.describe()
    vad = SCORERS.build({"name": "timbre_similarity", "vad_trim": True})
    assert isinstance(vad, TimbreSimilarityScorer) and "VAD-trimming ON" in vad.describe()
    # trimming changes what is embedded for bursty non-speech sound
    sim = vad.similarity(files["noise"], files["noise"])
    assert sim == pytest.approx(1.0, abs=1e-5)
