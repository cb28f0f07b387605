"""vs-score --compare with '{policy}': one option names a system's folder for every policy."""

from __future__ import annotations

import shutil

from tests.scoring.sounds import make_experiment
from vs_plugin.bin import score


def test_policy_placeholder_picks_each_policys_folder(tmp_path):
    exp = make_experiment(tmp_path / "e", {"tone": 2, "noise": 2})
    infers = []
    for policy in ("shuffled", "timbre_5x3"):  # a policy name with underscores too
        ours = exp["infer"].parent / f"infer_test_{policy}"
        if ours != exp["infer"]:
            shutil.copytree(exp["infer"], ours)
        shutil.copytree(exp["infer"], tmp_path / "base" / f"infer_test_{policy}")
        infers += ["--infer", str(ours)]
    results = tmp_path / "RESULTS.md"
    rc = score.main(
        [*infers, "--gt", str(exp["gt"]), "--data", str(exp["data"]), "--scorers", "mcd",
         "--out", str(tmp_path / "scores"), "--results", str(results),
         "--compare", f"Base line={tmp_path / 'base'}/infer_test_{{policy}}"]
    )  # fmt: skip
    assert rc == 0
    for policy in ("shuffled", "5x3"):  # per-policy output folders keep their old names
        assert (tmp_path / "scores" / policy / "Base_line" / "mcd.tsv").is_file()
    md = results.read_text()
    assert f"`{tmp_path / 'base'}/infer_test_timbre_5x3`" in md
    assert "| Category | VarietySound | Ground truth (vocoded) | Base line |" in md
