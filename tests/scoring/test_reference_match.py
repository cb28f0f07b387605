"""The reference-match rate on corpora that know only categories (no ``utt2timbre``).

Four categories, each of one sound (two tones, two noise bursts of distinct spectra) rendered
at random event times, in a Kaldi-style data dir with ``wav.scp`` and ``utt2category`` only:
the scorer must fall back on a category classifier, score an output with the reference's
category's sound at the video's times 1 and the video's own sound 0, and leave same-category
pairs out. Where ``utt2timbre`` exists the source classifier is used as before.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from tests.scoring.sounds import SR, render
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring import reference_match
from vs_plugin.scoring.items import build_items
from vs_plugin.scoring.reference_match import ReferenceMatchConfig, ReferenceMatchScorer

SOUNDS = {
    "engine": {"kind": "tone", "f0": 150.0, "decay": 0.12},
    "bell": {"kind": "tone", "f0": 900.0, "decay": 0.05},
    "drum": {"kind": "noise", "seed": 3, "decay": 0.03, "bright": False},
    "hiss": {"kind": "noise", "seed": 5, "decay": 0.02, "bright": True},
}
# the same clips as sources within two coarse categories (for the utt2timbre path)
COARSE = {"engine": "tone", "bell": "tone", "drum": "noise", "hiss": "noise"}


def _events(rng: np.random.Generator) -> list[float]:
    return sorted(float(t) for t in rng.uniform(0.15, 1.6, size=int(rng.integers(2, 5))))


def _write(path, rows: dict) -> None:
    path.write_text("".join(f"{k} {rows[k]}\n" for k in sorted(rows)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """``cat/data/{train,test}`` (categories only) and ``src/data/{train,test}`` (the same
    clips in two coarse categories, with utt2timbre naming the four sounds)."""
    root = tmp_path_factory.mktemp("catmatch")
    rng = np.random.default_rng(0)
    out = {"root": root, "events": {}, "wav": {}, "label": {}}
    for name, per in (("train", 6), ("test", 2)):
        wavs = {}
        for s_i, (label, params) in enumerate(SOUNDS.items()):
            for k in range(per):
                utt = f"{label}-{name}{k}"
                events = _events(rng)
                path = root / "wav" / f"{utt}.wav"
                path.parent.mkdir(exist_ok=True)
                sf.write(path, render(events, params, 2.0, seed=100 * s_i + k), SR)
                wavs[utt] = path
                out["events"][utt], out["label"][utt] = events, label
        out["wav"].update(wavs)
        for kind in ("cat", "src"):
            d = root / kind / "data" / name
            d.mkdir(parents=True)
            _write(d / "wav.scp", wavs)
            if kind == "cat":
                _write(d / "utt2category", {u: out["label"][u] for u in wavs})
            else:
                _write(d / "utt2category", {u: COARSE[out["label"][u]] for u in wavs})
                _write(d / "utt2timbre", {u: out["label"][u] for u in wavs})
    return out


def _test_utts(corpus) -> list[str]:
    return sorted(u for u in corpus["wav"] if "-test" in u)


def _item(corpus, kind: str, generated, video: str, ref: str) -> ScoringItem:
    """An item as ``build_items`` makes it for the ``kind`` ("cat" or "src") data dir."""
    label = corpus["label"]
    if kind == "cat":
        cats, timbre = {video: label[video], ref: label[ref]}, {}
    else:
        cats = {video: COARSE[label[video]], ref: COARSE[label[ref]]}
        timbre = {video: label[video], ref: label[ref]}
    return ScoringItem(
        utt=f"{video}__{ref}",
        generated=generated,
        category=cats[video],
        reference=corpus["wav"][ref],
        original=corpus["wav"][video],
        extra={
            "video_utt": video,
            "reference_utt": ref,
            "cross": video != ref,
            "data_dir": str(corpus["root"] / kind / "data" / "test"),
            "video_timbre": timbre.get(video),
            "reference_timbre": timbre.get(ref),
            "video_category": cats[video],
            "reference_category": cats[ref],
        },
    )


@pytest.fixture(scope="module")
def ideals(corpus):
    """(video, reference) -> the ideal output: the reference's sound at the video's times."""
    folder = corpus["root"] / "ideal"
    folder.mkdir()
    out = {}
    utts = _test_utts(corpus)
    for v in utts:
        for r in utts:
            if v != r:
                path = folder / f"{v}__{r}.wav"
                params = SOUNDS[corpus["label"][r]]
                sf.write(path, render(corpus["events"][v], params, 2.0, seed=7), SR)
                out[v, r] = path
    return out


def _pairs(corpus, same: bool) -> list[tuple[str, str]]:
    label, utts = corpus["label"], _test_utts(corpus)
    return [
        (v, r) for v in utts for r in utts if v != r and (label[v] == label[r]) == same
    ]


def test_categories_are_used_when_the_training_data_has_no_utt2timbre(corpus, ideals):
    scorer = SCORERS.build({"name": "reference_match"})
    assert isinstance(scorer, ReferenceMatchScorer)
    pairs = _pairs(corpus, same=False)
    assert len(pairs) == 48
    ideal = [scorer.score(_item(corpus, "cat", ideals[v, r], v, r)) for v, r in pairs]
    orig = [scorer.score(_item(corpus, "cat", corpus["wav"][v], v, r)) for v, r in pairs]
    assert np.mean([s["ref_match"] for s in ideal]) == pytest.approx(1.0)
    assert np.mean([s["ref_match"] for s in orig]) <= 0.1
    assert min(s["ref_match_margin"] for s in ideal) > 0
    assert scorer.last is not None and scorer.last.labels == "categories"
    assert sorted(scorer.last.classes) == sorted(SOUNDS) and scorer.last.n_train == 24
    text = scorer.describe()
    assert "on categories" in text and "utt2category" in text and "4 categories" in text
    assert "cross-validated accuracy" in text


def test_same_category_pairs_are_not_counted(corpus, ideals):
    scorer = ReferenceMatchScorer()
    pairs = _pairs(corpus, same=True)
    assert pairs
    for v, r in pairs:
        out = scorer.score(_item(corpus, "cat", ideals[v, r], v, r))
        assert math.isnan(out["ref_match"]) and math.isnan(out["ref_match_margin"])
    assert scorer.last is None  # nothing to score: nothing fitted
    assert "on categories" in scorer.describe()


def test_the_video_category_falls_back_on_the_item_category(corpus, ideals):
    v, r = _pairs(corpus, same=False)[0]
    item = _item(corpus, "cat", ideals[v, r], v, r)
    del item.extra["video_category"]  # items made before it was recorded
    assert ReferenceMatchScorer().score(item)["ref_match"] == 1.0
    del item.extra["reference_category"]  # unknown: not counted
    assert math.isnan(ReferenceMatchScorer().score(item)["ref_match"])


def test_one_classifier_per_train_dir_and_label_kind(corpus, ideals):
    v, r = _pairs(corpus, same=False)[0]
    for kind in ("cat", "src"):
        ReferenceMatchScorer().score(_item(corpus, kind, ideals[v, r], v, r))
    keys = [k for k in reference_match._FITTED if str(corpus["root"]) in k[0]]
    kinds = {(k[0].split("/")[-3], k[1]) for k in keys}
    assert kinds == {("cat", "categories"), ("src", "sources")}
    n = len(reference_match._FITTED)
    scorer = ReferenceMatchScorer()
    scorer.score(_item(corpus, "cat", ideals[v, r], v, r))
    assert len(reference_match._FITTED) == n  # reused, not fitted again
    ReferenceMatchScorer(ReferenceMatchConfig(c=0.5)).score(
        _item(corpus, "cat", ideals[v, r], v, r)
    )
    assert len(reference_match._FITTED) == n + 1  # other settings: another fit


def test_with_utt2timbre_the_source_path_is_unchanged(corpus, ideals):
    scorer = ReferenceMatchScorer()
    label = corpus["label"]
    # a pair of one coarse category but two sources: scored on sources
    v, r = next(
        (v, r)
        for v, r in _pairs(corpus, same=False)
        if COARSE[label[v]] == COARSE[label[r]]
    )
    assert scorer.score(_item(corpus, "src", ideals[v, r], v, r))["ref_match"] == 1.0
    assert scorer.score(_item(corpus, "src", corpus["wav"][v], v, r))["ref_match"] == 0.0
    same = next((v, r) for v, r in _pairs(corpus, same=True))
    assert math.isnan(scorer.score(_item(corpus, "src", ideals[same], *same))["ref_match"])
    assert scorer.last is not None and scorer.last.labels == "sources"
    assert sorted(scorer.last.classes) == sorted(SOUNDS)
    assert scorer.describe().startswith(
        "reference match (this project's metric): 1 when a sound-source classifier "
        "(logistic regression on MFCC mean+std of active frames, fitted on the training "
        "clips' utt2timbre) prefers the reference's source to the video's own; only pairs "
        "of different sources; chance 0.5; margin = P(ref) - P(video); 4 sources, 24 "
        "training clips, cross-validated accuracy"
    )
    # a source-labelled set whose items lack sources is not scored on categories instead
    item = _item(corpus, "src", ideals[v, r], v, r)
    item.extra["video_timbre"] = item.extra["reference_timbre"] = None
    assert math.isnan(scorer.score(item)["ref_match"])


def test_items_carry_both_clips_categories(experiment):
    items = build_items(experiment["infer"], experiment["data"])
    assert items
    for it in items:
        v, r = it.extra["video_utt"], it.extra["reference_utt"]
        assert it.extra["video_category"] == it.category == v.split("_")[0]
        assert it.extra["reference_category"] == r.split("_")[0]
