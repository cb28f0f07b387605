"""ScoringItems from the recipe's directories, ideal targets, and the disentanglement scorer."""

from __future__ import annotations

import math

import pytest

from tests.scoring.sounds import fake_render_ideal
from vs_plugin.data.kaldi_dir import SOUND, read_data_dir
from vs_plugin.errors import InputError
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.items import build_items, ground_truth_items, render_ideals


def test_items_follow_the_pairs(experiment):
    items = build_items(experiment["infer"], experiment["data"], experiment["gt"])
    assert [it.utt for it in items] == sorted(it.utt for it in items)
    it = next(i for i in items if i.utt == "tone_00-tone_01")
    data = experiment["data"]
    assert it.category == "tone"
    assert it.original == data / "wav" / "tone_00.wav"  # the video's own sound
    assert it.reference == data / "wav" / "tone_01.wav"  # the timbre reference
    assert it.target == experiment["gt"] / "wav" / "tone_00.wav"  # GT of the video
    assert it.event_times == pytest.approx(experiment["truth"]["tone_00"]["events"], abs=1e-4)
    assert it.extra["cross"] is True
    gt = ground_truth_items(items)
    assert gt[0].generated == items[0].target and gt[0].target is None


def test_ideal_targets_are_rendered_once(experiment, tmp_path):
    data = read_data_dir(experiment["data"], required=SOUND)
    items = build_items(experiment["infer"], data)
    calls = []

    def renderer(v, t, sr):
        calls.append(1)
        return fake_render_ideal(v, t, sr)

    render_ideals(items, data, tmp_path, renderer=renderer)
    assert all(it.ideal is not None and it.ideal.exists() for it in items)
    render_ideals(items, data, tmp_path, renderer=renderer)
    assert len(calls) == len(items)  # cached on the second pass


def test_unknown_reference_is_a_clear_error(experiment, tmp_path):
    infer = tmp_path / "infer"
    infer.mkdir()
    (infer / "wav.scp").write_text(f"x {experiment['data'] / 'wav' / 'tone_00.wav'}\n")
    (infer / "pairs.tsv").write_text("x\ttone_00\tnope\n")
    with pytest.raises(InputError, match=r"pairs.tsv: x: reference 'nope' is not in"):
        build_items(infer, experiment["data"])


def test_disentanglement_prefers_reference_timbre(experiment, tmp_path):
    data = read_data_dir(experiment["data"], required=SOUND)
    items = build_items(experiment["infer"], data, experiment["gt"])
    render_ideals(items, data, tmp_path, renderer=fake_render_ideal)
    scorer = SCORERS.build("disentanglement")
    ours = scorer.score(next(i for i in items if i.utt == "tone_00-tone_01"))
    # the test system transfers timbre perfectly: close to the ideal, on time, no leakage
    assert ours["onset_f1"] == 1.0
    assert ours["timbre_leakage"] < 0 and ours["timbre_sim_ref"] > ours["timbre_sim_orig"]
    assert ours["ideal_logmel_l1"] < 1.0
    # the video's own ground truth (no transfer at all) leaks and is farther from the ideal
    gt = scorer.score(next(i for i in ground_truth_items(items) if i.utt == "tone_00-tone_01"))
    assert gt["timbre_leakage"] > 0
    assert gt["ideal_mcd"] > ours["ideal_mcd"]
    assert math.isfinite(ours["ideal_leakage"]) and ours["ideal_leakage"] < 0
    assert "not a published metric" in scorer.describe()
