"""vs-seeds-report: per-seed means over clips, then mean, t-interval and range over seeds."""

from __future__ import annotations

import math

import pytest

from vs_plugin.bin import seeds_report


def _exp(root, name, rows_by_policy):
    for policy, rows in rows_by_policy.items():
        d = root / name / "scores" / policy
        d.mkdir(parents=True)
        (d / "mfcc_similarity.tsv").write_text(
            "utt\tcategory\tmfcc_leakage\tref_match\n"
            + "".join(f"{u}\tc\t{a}\t{b}\n" for u, a, b in rows)
        )
        (d / "mfcc_similarity.summary.tsv").write_text("metric\tcategory\tn\tmean\tci95\n")
        (d / "onset.tsv").write_text("utt\tcategory\tref_match\nx\tc\t0.25\n")  # same name
        (d / "scorers.tsv").write_text("mcd\tMCD (Kubichek, dB) ...\n")  # descriptions, skipped
        (d / "gt").mkdir()
    return root / name


def test_means_over_clips_then_over_seeds(tmp_path):
    e1 = _exp(tmp_path, "s1", {"cross": [("a", -0.2, 1), ("b", 0.0, "nan")]})
    e2 = _exp(tmp_path, "s2", {"cross": [("a", -0.4, 0), ("b", -0.2, 1)]})
    e3 = _exp(tmp_path, "s3", {"cross": [("a", 0.1, 1), ("b", -0.1, 1)]})
    means = seeds_report.seed_means(e1)
    assert means[("cross", "ref_match")] == 1.0  # NaN clip left out
    assert means[("cross", "ref_match (onset)")] == 0.25  # another scorer's, kept apart
    assert (
        seeds_report.main(["--exp", str(e1), str(e2), str(e3), "--out", str(tmp_path / "o")]) == 0
    )
    rows = {
        r.split("\t")[1]: r.split("\t")
        for r in (tmp_path / "o" / "SEEDS.tsv").read_text().splitlines()[1:]
    }
    leak = rows["mfcc_leakage"]  # per seed -0.1, -0.3, 0.0
    assert leak[2] == "3" and math.isclose(float(leak[3]), -0.4 / 3, rel_tol=1e-5)
    assert math.isclose(float(leak[5]), 0.152753, rel_tol=1e-4)  # sample std
    assert float(leak[6]) == -0.3 and float(leak[7]) == 0.0
    assert float(leak[4]) == pytest.approx(4.302653 * 0.152753 / math.sqrt(3), rel=1e-4)
    md = (tmp_path / "o" / "SEEDS.md").read_text()
    assert "## Policy: cross" in md and "| ref_match | 0.833" in md


def test_missing_scores_name_the_folder(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert (
        seeds_report.main(
            ["--exp", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "o")]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path / "a" / "scores") in err
