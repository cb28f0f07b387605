"""Onset scorer: exact on synthetic clicks, blind to 100 ms shifts at 50 ms, CondFoleyGen AP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from tests.scoring.sounds import SR, clicks
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.onset import OnsetConfig, detect_onsets, match, onset_ap, onset_metrics

TIMES = [0.3, 0.75, 1.2, 1.9, 2.45]


def test_detects_clicks_at_their_times():
    times, conf = detect_onsets(clicks(TIMES))
    assert len(times) == len(TIMES)
    assert np.max(np.abs(times - TIMES)) < 0.012  # two 5.8 ms hops
    assert np.all((conf > 0) & (conf <= 1))


def test_scorer_exact_then_blind_to_a_100ms_shift(tmp_path):
    exact, late = tmp_path / "exact.wav", tmp_path / "late.wav"
    sf.write(exact, clicks(TIMES), SR)
    sf.write(late, clicks([t + 0.1 for t in TIMES]), SR)
    scorer = SCORERS.build("onset")
    good = scorer.score(ScoringItem(utt="a", generated=exact, event_times=TIMES))
    assert good["onset_f1"] == 1.0 and good["onset_acc"] == 1.0 and good["onset_ap"] == 1.0
    assert good["onset_mae_ms"] < 12
    bad = scorer.score(ScoringItem(utt="b", generated=late, event_times=TIMES))
    assert bad["onset_f1"] == 0.0
    assert bad["onset_acc"] == 1.0  # the count still matches: accuracy ignores timing
    assert math.isnan(bad["onset_mae_ms"])
    # the AP window is CondFoleyGen's 100 ms: a 100 ms shift sits on its edge
    wide = SCORERS.build({"name": "onset", "tolerance": 0.15})
    assert wide.score(ScoringItem(utt="b", generated=late, event_times=TIMES))["onset_f1"] == 1.0


def test_reference_from_original_audio_when_no_events(tmp_path):
    orig, gen = tmp_path / "orig.wav", tmp_path / "gen.wav"
    sf.write(orig, clicks(TIMES), SR)
    sf.write(gen, clicks(TIMES[:3]), SR)
    m = SCORERS.build("onset").score(ScoringItem(utt="c", generated=gen, original=orig))
    assert m["onsets_ref"] == 5 and m["onsets_gen"] == 3
    assert m["onset_recall"] == pytest.approx(0.6) and m["onset_precision"] == 1.0
    assert m["onset_f1"] == pytest.approx(2 * 3 / 8)
    assert m["onset_acc"] == 0.0


def test_matching_is_one_to_one_and_maximal():
    # 0.50 could take either estimate; the best matching pairs both references
    assert sorted(match([0.48, 0.53], [0.50, 0.56], 0.05)) == [(0, 0), (1, 1)]
    assert match([1.0], [1.2], 0.05) == []


def test_ap_by_hand():
    ref = [1.0, 2.0, 3.0]
    est, conf = [1.02, 2.5, 3.03], [0.9, 0.8, 0.4]
    # labels/scores: hit 0.9, miss 0 (ref 2.0), hit 0.4, false alarm 0.8
    # ranked 0.9(+) 0.8(-) 0.4(+) 0(+): AP = (1/1 + 2/3 + 3/4) / 3
    assert onset_ap(ref, est, conf, 0.1) == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    assert onset_ap(ref, [], [], 0.1) == 0.0
    assert math.isnan(onset_ap([], est, conf, 0.1))
    m = onset_metrics(ref, est, conf, OnsetConfig())
    assert m["onset_f1"] == pytest.approx(2 * 2 / 6)
    assert m["onset_mae_ms"] == pytest.approx(25.0)


def test_a_clip_start_transient_does_not_hide_the_events():
    """Sound already playing at the clip's start (or a vocoder's start-up) is a huge onset at
    t~0; after normalisation it would push every real event under the threshold."""
    wav = clicks(TIMES) * 0.05
    n = int(0.06 * SR)
    wav[:n] += 3.0 * np.sin(0.3 * np.arange(n)) * np.exp(-np.arange(n) / 400)
    kept, _ = detect_onsets(wav)
    assert len(match(TIMES, kept, 0.05)) == len(TIMES)
    assert np.all(kept > 0.1)
    hidden, _ = detect_onsets(wav, OnsetConfig(skip_start=0.0))
    assert len(match(TIMES, hidden, 0.05)) < len(TIMES)
