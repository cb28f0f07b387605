"""A comparison system in the listening kit: its swapped pairs and its 5 x 3 timbre pairs."""

from __future__ import annotations

import csv

from tests.scoring.sounds import make_experiment
from vs_plugin.scoring.listening import GROUND_TRUTH, KitConfig, build_kit


def test_a_compare_system_given_twice_covers_every_test(tmp_path):
    exp = make_experiment(tmp_path, {"tone": 12}, videos=True, seconds=1.0)
    out = tmp_path / "kit"
    # the same generations stand in for the baseline: same pairs, as the recipe guarantees
    build_kit(
        out, exp["infer"], exp["gt"], exp["data"], KitConfig(seed=3),
        timbre_infer_dir=exp["timbre"], compare={"baseline": [exp["infer"], exp["timbre"]]},
    )  # fmt: skip
    with open(out / "key.csv", newline="") as f:
        key = list(csv.DictReader(f))

    def count(test, system):
        return sum(r["test"] == test and r["system"] == system for r in key)

    for test in ("realism", "alignment"):
        assert count(test, "ours") == count(test, "baseline") == count(test, GROUND_TRUTH) == 10
    assert count("timbre", "ours") == count("timbre", "baseline") == 15
    timbre = [r for r in key if r["test"] == "timbre"]
    pairs = {
        s: {(r["video_utt"], r["reference_utt"]) for r in timbre if r["system"] == s}
        for s in ("ours", "baseline")
    }
    assert pairs["ours"] == pairs["baseline"]
