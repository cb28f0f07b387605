"""Listening-test kits: counts per category, anonymous names, key round-trip, MOS by hand."""

from __future__ import annotations

import csv
import json
import math

import pytest

from tests.scoring.sounds import make_experiment
from vs_plugin.errors import InputError
from vs_plugin.scoring.listening import (
    GROUND_TRUTH,
    KitConfig,
    aggregate,
    build_kit,
    mos_tables,
    read_key,
    read_ratings,
)
from vs_plugin.scoring.stats import AVERAGE

T_975_DF2 = 4.302652729911275  # Student t 97.5 % quantile, 2 degrees of freedom (tables)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("kit")
    exp = make_experiment(root, {"tone": 12, "noise": 4}, videos=True, seconds=1.0)
    out = root / "listening_test"
    manifest = build_kit(
        out, exp["infer"], exp["gt"], exp["data"], KitConfig(seed=3), timbre_infer_dir=exp["timbre"]
    )
    return exp, out, manifest


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_counts_follow_the_design_and_adapt(kit):
    _, out, manifest = kit
    key = _rows(out / "key.csv")

    def count(test, cat, system=None):
        return sum(
            r["test"] == test and r["category"] == cat and (system is None or r["system"] == system)
            for r in key
        )

    for test in ("realism", "alignment"):
        assert count(test, "tone", "ours") == 10 and count(test, "tone", GROUND_TRUTH) == 10
        assert count(test, "noise", "ours") == 4 and count(test, "noise", GROUND_TRUTH) == 4
    assert count("timbre", "tone") == 15
    assert (
        len({r["reference_utt"] for r in key if r["test"] == "timbre" and r["category"] == "tone"})
        == 5
    )
    assert count("timbre", "noise") == 12  # only 4 references x 3 videos exist
    assert manifest["counts"]["noise"]["realism"]["generated"] == 4
    assert any("noise: only 4" in n for n in manifest["notes"])
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    # the same seed selects the same clips; realism and alignment share their selection
    sel = {(r["test"], r["source_utt"]) for r in key}
    assert {s for t, s in sel if t == "realism"} == {s for t, s in sel if t == "alignment"}
    assert all(r["video_utt"] != r["reference_utt"] for r in key if r["system"] == "ours")


def test_stimuli_are_anonymous_and_complete(kit):
    exp, out, _ = kit
    items, key = _rows(out / "items.csv"), _rows(out / "key.csv")
    assert list(items[0]) == ["item_id", "test", "stimulus", "reference"]
    utts = set(exp["truth"])
    names = [r["stimulus"] for r in items] + [r["reference"] for r in items if r["reference"]]
    for name in names:
        assert (out / name).exists()
        low = name.lower()
        assert not any(w in low for w in ("ours", "ground", "gt", "tone", "noise"))
        assert not any(u in name for u in utts)
    assert len({r["stimulus"] for r in items}) == len(items)
    assert all(r["reference"] for r in items if r["test"] == "timbre")
    assert all(r["stimulus"].endswith(".mp4") for r in items if r["test"] == "alignment")
    # the key round-trips: every item once, pointing at the same stimulus
    by_id = {r["item_id"]: r for r in key}
    assert sorted(by_id) == sorted(r["item_id"] for r in items)
    assert all(by_id[r["item_id"]]["stimulus"] == r["stimulus"] for r in items)
    assert read_key(out / "key.csv") == by_id
    # shuffled: systems are interleaved, not grouped
    realism = [by_id[r["item_id"]]["system"] for r in items if r["test"] == "realism"]
    assert realism != sorted(realism)
    text = (out / "instructions.md").read_text()
    assert "Completely real sound." in text and "Timbre is exactly the same as target." in text


def test_muxed_video_carries_the_stimulus_audio(kit):
    from vs_plugin.video.io import video_info

    _, out, _ = kit
    row = next(r for r in _rows(out / "key.csv") if r["test"] == "alignment")
    info = video_info(out / row["stimulus"])
    assert info.has_audio and abs(info.duration - 1.0) < 0.15


def test_aggregation_by_hand(tmp_path, kit):
    _, out, _ = kit
    key = read_key(out / "key.csv")
    ours = [
        i
        for i, r in key.items()
        if r["test"] == "realism" and r["system"] == "ours" and r["category"] == "tone"
    ][:3]
    gt = [
        i
        for i, r in key.items()
        if r["test"] == "realism" and r["system"] == GROUND_TRUTH and r["category"] == "noise"
    ][:1]
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(
        "rater,item_id,rating\n" + f"w1,{ours[0]},3\nw2,{ours[1]},4\nw1,{ours[2]},5\nw3,{gt[0]},2\n"
    )
    mos = aggregate(read_ratings(ratings, key), key)
    tone = mos["realism"]["ours"]["tone"]
    assert tone.mean == 4.0 and tone.n == 3
    assert tone.ci95 == pytest.approx(T_975_DF2 * 1.0 / math.sqrt(3))
    assert mos["realism"]["ours"][AVERAGE].mean == 4.0
    assert mos["realism"][GROUND_TRUTH]["noise"].mean == 2.0
    tsv, md = mos_tables(mos)
    assert "realism\tours\ttone\t3\t4\t" in tsv and "| **Average** |" in md


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("w1,{item},6", r"ratings.csv: row 2: rating 6 is outside 1-5"),
        ("w1,{item},0", r"row 2: rating 0 is outside 1-5"),
        ("w1,{item},good", r"row 2: rating 'good' is not a number"),
        ("w1,Z9999,3", r"row 2: item 'Z9999' is not in the key"),
    ],
)
def test_bad_ratings_are_rejected(tmp_path, kit, row, message):
    _, out, _ = kit
    key = read_key(out / "key.csv")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("rater,item_id,rating\n" + row.format(item=next(iter(key))) + "\n")
    with pytest.raises(InputError, match=message):
        read_ratings(ratings, key)


def test_muxing_side_by_side_builds_the_same_kit(tmp_path, kit):
    exp, out, _ = kit
    out2 = tmp_path / "kit2"
    build_kit(
        out2, exp["infer"], exp["gt"], exp["data"], KitConfig(seed=3),
        timbre_infer_dir=exp["timbre"], jobs=3,
    )  # fmt: skip
    assert (out2 / "key.csv").read_bytes() == (out / "key.csv").read_bytes()
    names = sorted(p.name for p in (out / "stimuli").iterdir())
    assert names == sorted(p.name for p in (out2 / "stimuli").iterdir())
    for name in names:
        assert (out2 / "stimuli" / name).read_bytes() == (out / "stimuli" / name).read_bytes()


def test_a_broken_video_is_named_and_no_kit_is_left(tmp_path, kit):
    import shutil

    exp, _, _ = kit
    data = tmp_path / "data"
    shutil.copytree(exp["data"], data)
    lines = (data / "video.scp").read_text().splitlines()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    (data / "video.scp").write_text(
        "\n".join([f"{u} {broken}" for u, _ in (line.split(maxsplit=1) for line in lines)]) + "\n"
    )
    with pytest.raises(InputError, match="broken.mp4"):
        build_kit(tmp_path / "kit", exp["infer"], exp["gt"], data, KitConfig(seed=3), jobs=2)
    assert not (tmp_path / "kit" / "key.csv").exists()
