"""MFCC similarity and the reference-match rate on sounds whose answer is known.

Four sound sources (two tones, two noise bursts) rendered at several event times: an output
that copies the reference must score as the reference's source, one that copies the video's
own sound as the video's; the same sound gives the top similarity; a silent reference is
refused naming the file.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from tests.scoring.sounds import SR, render
from vs_plugin.audio.mel import log_mel
from vs_plugin.errors import InputError
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.mfcc import MFCCSimilarityScorer, mfcc_from_log_mel, mfcc_stats
from vs_plugin.scoring.reference_match import ReferenceMatchConfig, ReferenceMatchScorer

SOURCES = {
    "tone/low": {"kind": "tone", "f0": 150.0, "decay": 0.12},
    "tone/high": {"kind": "tone", "f0": 900.0, "decay": 0.05},
    "noise/dark": {"kind": "noise", "seed": 3, "decay": 0.03, "bright": False},
    "noise/bright": {"kind": "noise", "seed": 5, "decay": 0.02, "bright": True},
}


def _events(rng: np.random.Generator) -> list[float]:
    return sorted(float(t) for t in rng.uniform(0.15, 1.6, size=int(rng.integers(2, 5))))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """data/train (6 clips per source) and data/test (2 per source), Kaldi-style."""
    root = tmp_path_factory.mktemp("refmatch")
    rng = np.random.default_rng(0)
    sets = {}
    for name, per_source in (("train", 6), ("test", 2)):
        d = root / "data" / name
        d.mkdir(parents=True)
        wav, timbre = {}, {}
        for s_i, (src, params) in enumerate(SOURCES.items()):
            for k in range(per_source):
                utt = f"{src.replace('/', '_')}-{name}{k}"
                path = d / f"{utt}.wav"
                sf.write(path, render(_events(rng), params, 2.0, seed=100 * s_i + k), SR)
                wav[utt], timbre[utt] = path, src
        (d / "wav.scp").write_text("".join(f"{u} {wav[u]}\n" for u in sorted(wav)))
        (d / "utt2timbre").write_text("".join(f"{u} {timbre[u]}\n" for u in sorted(wav)))
        sets[name] = (d, wav, timbre)
    return sets


def _item(corpus, generated, video_utt, ref_utt) -> ScoringItem:
    d, wav, timbre = corpus["test"]
    return ScoringItem(
        utt=f"{video_utt}__{ref_utt}",
        generated=generated,
        reference=wav[ref_utt],
        original=wav[video_utt],
        extra={
            "cross": video_utt != ref_utt,
            "data_dir": str(d),
            "video_timbre": timbre[video_utt],
            "reference_timbre": timbre[ref_utt],
        },
    )


def _cross_pairs(corpus):
    _, wav, timbre = corpus["test"]
    utts = sorted(wav)
    return [(v, r) for v in utts for r in utts if timbre[v] != timbre[r]]


def test_mfcc_of_log_mel_matches_librosa():
    import librosa

    wav = render([0.2, 0.9], SOURCES["tone/low"], 1.5)
    mel = log_mel(wav)
    ours = mfcc_from_log_mel(mel, 13)
    ref = librosa.feature.mfcc(S=20 * np.log10(np.exp(mel.T)), n_mfcc=14)[1:].T
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-3)


def test_silent_mel_has_no_timbre():
    assert mfcc_stats(np.full((50, 80), -11.5)) is None


def test_mfcc_similarity_same_sound_is_top_and_leakage_signs(corpus):
    scorer = SCORERS.build({"name": "mfcc_similarity"})
    assert isinstance(scorer, MFCCSimilarityScorer)
    _, wav, _ = corpus["test"]
    for video, ref in _cross_pairs(corpus)[:6]:
        as_ref = scorer.score(_item(corpus, wav[ref], video, ref))
        assert as_ref["mfcc_sim_ref"] == pytest.approx(1.0)
        assert as_ref["mfcc_leakage"] < 0
        as_orig = scorer.score(_item(corpus, wav[video], video, ref))
        assert as_orig["mfcc_sim_orig"] == pytest.approx(1.0)
        assert as_orig["mfcc_leakage"] > 0


def test_mfcc_similarity_same_pair_has_no_leakage(corpus):
    _, wav, _ = corpus["test"]
    utt = sorted(wav)[0]
    out = MFCCSimilarityScorer().score(_item(corpus, wav[utt], utt, utt))
    assert out["mfcc_sim_ref"] == pytest.approx(1.0)
    assert math.isnan(out["mfcc_leakage"])


def test_mfcc_similarity_silent_reference_names_the_file(corpus, tmp_path):
    _, wav, _ = corpus["test"]
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, dtype=np.float32), SR)
    video = sorted(wav)[0]
    item = _item(corpus, wav[video], video, sorted(wav)[-1])
    item.reference = silent
    with pytest.raises(InputError, match="silent.wav"):
        MFCCSimilarityScorer().score(item)


def test_reference_match_is_one_for_ideal_outputs_and_zero_for_originals(corpus):
    scorer = SCORERS.build({"name": "reference_match"})
    assert isinstance(scorer, ReferenceMatchScorer)
    _, wav, _ = corpus["test"]
    pairs = _cross_pairs(corpus)
    # the reference's own audio stands in for an ideal output (its source, other events)
    ideal = [scorer.score(_item(corpus, wav[r], v, r))["ref_match"] for v, r in pairs]
    orig = [scorer.score(_item(corpus, wav[v], v, r))["ref_match"] for v, r in pairs]
    assert np.mean(ideal) == pytest.approx(1.0)
    assert np.mean(orig) == pytest.approx(0.0)
    assert scorer.last is not None and scorer.last.cv_accuracy > 0.9
    assert "cross-validated accuracy" in scorer.describe()


def test_reference_match_skips_pairs_of_one_source_and_unlabelled_sets(corpus, tmp_path):
    _, wav, timbre = corpus["test"]
    same = [u for u in sorted(wav) if timbre[u] == "tone/low"]
    out = ReferenceMatchScorer().score(_item(corpus, wav[same[0]], same[0], same[1]))
    assert math.isnan(out["ref_match"])
    item = _item(corpus, wav[same[0]], same[0], sorted(wav)[-1])
    item.extra["data_dir"] = str(tmp_path / "data" / "test")  # no train dir with labels there
    assert math.isnan(ReferenceMatchScorer().score(item)["ref_match"])


def test_reference_match_explicit_train_dir_missing_labels_names_the_file(corpus, tmp_path):
    _, wav, _ = corpus["test"]
    (tmp_path / "wav.scp").write_text("")
    (tmp_path / "utt2timbre").write_text("")
    scorer = ReferenceMatchScorer(ReferenceMatchConfig(train_data=str(tmp_path)))
    v, r = _cross_pairs(corpus)[0]
    with pytest.raises(InputError, match="utt2timbre"):
        scorer.score(_item(corpus, wav[r], v, r))
