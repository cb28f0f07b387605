"""vs-score end to end on a small experiment layout."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from tests.scoring.sounds import fake_render_ideal, make_experiment
from vs_plugin.bin import score
from vs_plugin.scoring import items as items_mod


def _tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    return make_experiment(tmp_path_factory.mktemp("score"), {"tone": 3, "noise": 2})


def test_scores_results_and_comparisons(exp, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(items_mod, "_default_renderer", lambda: fake_render_ideal)
    out, results = tmp_path / "scores", tmp_path / "RESULTS.md"
    rc = score.main(
        [
            "--infer",
            str(exp["infer"]),
            "--gt",
            str(exp["gt"]),
            "--data",
            str(exp["data"]),
            "--scorers",
            "mcd onset",
            "--set",
            "onset.tolerance=0.04",
            "--set",
            "mcd.against=ideal",
            "--out",
            str(out),
            "--results",
            str(results),
            "--compare",
            f"again={exp['infer']}",
            "--corpus-note",
            "Built-in synthetic corpus (not VAS).",
        ]
    )
    assert rc == 0
    rows, gt_rows, onset = (
        _tsv(out / "mcd.tsv"),
        _tsv(out / "gt" / "mcd.tsv"),
        _tsv(out / "onset.tsv"),
    )
    assert len(rows) == 5 and {r["category"] for r in rows} == {"tone", "noise"}
    assert len(list((out / "ideal").glob("*.wav"))) == 5  # ideal targets rendered on demand
    # vs the ideal output, perfect timbre transfer beats the untransferred ground truth
    for ours, gt in zip(rows, gt_rows):
        assert 0 < float(ours["mcd"]) < float(gt["mcd"])
    assert all(float(r["onset_f1"]) == 1.0 for r in onset if r["category"] == "tone")
    summary = (out / "onset.summary.tsv").read_text().splitlines()
    assert summary[0] == "metric\tcategory\tn\tmean\tci95"
    avg = next(line.split("\t") for line in summary if line.startswith("onset_f1\tAverage\t"))
    mean_f1 = sum(float(r["onset_f1"]) for r in onset) / len(onset)
    assert avg[2] == "5" and float(avg[3]) == pytest.approx(mean_f1, rel=1e-5)
    assert (out / "again" / "onset.tsv").exists()
    assert "at 40 ms" in (out / "scorers.tsv").read_text()
    md = results.read_text()
    assert md.splitlines()[2] == "Built-in synthetic corpus (not VAS)."
    assert "| Category | VarietySound | Ground truth (vocoded) | again |" in md
    assert "### mcd ↓" in md and "| **Average** |" in md and "| tone |" in md
    assert "MCD (Kubichek, dB) vs ideal" in md


def test_bad_input_is_one_line_and_exit_2(exp, tmp_path, capsys):
    rc = score.main(
        [
            "--infer",
            str(tmp_path / "missing"),
            "--data",
            str(exp["data"]),
            "--out",
            str(tmp_path / "s"),
            "--scorers",
            "mcd",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("vs-score: error: ") and "wav.scp" in err
    assert len(err.splitlines()) == 1
    rc = score.main(
        [
            "--infer",
            str(exp["infer"]),
            "--data",
            str(exp["data"]),
            "--out",
            str(tmp_path / "s"),
            "--scorers",
            "nonesuch",
        ]
    )
    assert rc == 2 and "unknown scorer 'nonesuch'" in capsys.readouterr().err


def test_policies_merge_into_one_results_file(exp, tmp_path, capsys):
    parts = []
    for policy in ("shuffled", "cross"):
        md = tmp_path / policy / "RESULTS.md"
        argv = ["--infer", str(exp["infer"]), "--gt", str(exp["gt"]), "--data", str(exp["data"])]
        argv += ["--scorers", "mfcc_similarity", "--out", str(tmp_path / policy)]
        argv += ["--results", str(md), "--title", f"Reference policy: {policy}"]
        assert score.main(argv) == 0
        text = md.read_text()
        assert text.startswith(f"# Reference policy: {policy}")
        assert "## Summary (all categories)" in text and "| mfcc_sim_ref ↑ |" in text
        parts.append(md)
    merged = tmp_path / "RESULTS.md"
    argv = ["--merge-results", *map(str, parts), "--title", "Results: t", "--results", str(merged)]
    assert score.main(argv) == 0
    text = merged.read_text()
    assert text.startswith("# Results: t\n")
    assert "## Reference policy: shuffled" in text and "## Reference policy: cross" in text
    assert "### Summary (all categories)" in text
    assert score.main(["--merge-results", str(tmp_path / "none.md"), "--results", str(merged)]) == 2
    assert "none.md" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        score.main(["--scorers", "mcd"])  # nothing to score without --infer/--data/--out


def test_several_policies_in_one_call(exp, tmp_path):
    """Repeated --infer: one scores folder per policy and one RESULTS.md with a section each."""
    cross = tmp_path / "infer_test_cross"
    shutil.copytree(exp["infer"], cross)
    out, md = tmp_path / "scores", tmp_path / "RESULTS.md"
    argv = ["--infer", str(exp["infer"]), "--infer", str(cross), "--gt", str(exp["gt"])]
    argv += ["--data", str(exp["data"]), "--scorers", "mfcc_similarity onset"]
    argv += ["--out", str(out), "--results", str(md), "--title", "Results: t"]
    assert score.main(argv) == 0
    first = exp["infer"].name.rsplit("_", 1)[-1]
    assert (out / first / "mfcc_similarity.tsv").exists() and (out / "cross" / "onset.tsv").exists()
    assert (out / "cross" / "gt" / "onset.tsv").exists()
    text = md.read_text()
    assert text.startswith("# Results: t") and "## Reference policy: cross" in text
    assert f"## Reference policy: {first}" in text
    assert _tsv(out / first / "onset.tsv") == _tsv(out / "cross" / "onset.tsv")
    # figures beside RESULTS.md, one folder per policy, every link pointing at a real file
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    for policy in (first, "cross"):
        mine = [link for link in links if link.startswith(f"figures/{policy}/")]
        assert {Path(link).name.split("_")[0] for link in mine} == {"bars", "pair"}
        assert sum(link.endswith("bars_onset.png") for link in mine) == 1
    assert links and all((tmp_path / link).is_file() for link in links)
    assert text.count("### Figures") == 2  # under each policy's section


def test_policies_scored_in_parallel_give_the_same_files(exp, tmp_path):
    """--jobs 2 scores the policies in threads sharing the networks (Resemblyzer, the SFX
    network on OpenVINO) and caches: the same tables and RESULTS.md as one job."""
    cross = tmp_path / "infer_test_cross"
    shutil.copytree(exp["infer"], cross)
    outputs = {}
    for jobs in ("2", "1"):  # the threads first, on cold per-process caches
        root = tmp_path / f"jobs{jobs}"
        argv = ["--infer", str(exp["infer"]), "--infer", str(cross), "--gt", str(exp["gt"])]
        argv += ["--data", str(exp["data"])]
        argv += ["--scorers", "mfcc_similarity onset sfx_similarity timbre_similarity"]
        argv += ["--out", str(root / "scores"), "--results", str(root / "RESULTS.md")]
        argv += ["--title", "Results: t", "--jobs", jobs, "--no-figures"]
        assert score.main(argv) == 0
        outputs[jobs] = {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.tsv"))}
        outputs[jobs]["RESULTS.md"] = (root / "RESULTS.md").read_bytes()
    assert len(outputs["1"]) > 4 and outputs["2"] == outputs["1"]


def test_a_bad_input_in_a_parallel_job_is_one_line_naming_it(exp, tmp_path, capsys):
    broken = tmp_path / "infer_test_cross"
    shutil.copytree(exp["infer"], broken)
    wav = tmp_path / "broken.wav"
    wav.write_bytes(b"not audio")
    scp = (broken / "wav.scp").read_text().splitlines()
    scp[0] = f"{scp[0].split()[0]} {wav}"  # the first generated clip is unreadable
    (broken / "wav.scp").write_text("\n".join(scp) + "\n")
    argv = ["--infer", str(exp["infer"]), "--infer", str(broken), "--gt", str(exp["gt"])]
    argv += ["--data", str(exp["data"]), "--scorers", "mfcc_similarity", "--strict"]
    argv += ["--out", str(tmp_path / "scores"), "--jobs", "2", "--no-figures"]
    assert score.main(argv) == 2
    err = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()
    errors = [line for line in err if "error" in line.lower()]  # the other policy's progress aside
    assert len(errors) == 1 and errors[0].startswith("vs-score: error:") and wav.name in errors[0]
    assert err[-1] == errors[0]  # the last word
