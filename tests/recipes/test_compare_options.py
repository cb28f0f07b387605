"""--systems and --ablations: every system and variant goes through the same stages and pairs."""

from __future__ import annotations

import os
import re

from tests.recipes.test_shell import recipe, run  # noqa: F401  (the stub environment)


def _extra_stubs(env, calls):
    venv_bin = env["VS_VENV"] + "/bin"
    bodies = {
        "vs-join-cascade": 'while [ $# -gt 0 ]; do [ "$1" = --out ] && mkdir -p "$2" && '
        'touch "$2/model.pt"; shift; done\n',
        "vs-ablation-table": 'while [ $# -gt 0 ]; do [ "$1" = --out ] && mkdir -p "$(dirname "$2")"'
        ' && echo "## MCD ablations" > "$2"; shift; done\n',
    }
    for name, extra in bodies.items():
        path = f"{venv_bin}/{name}"
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'#!/usr/bin/env bash\necho "{name} $*" >> "{calls}"\n{extra}')
        os.chmod(path, 0o755)


def test_baseline_and_ablations_run_through_every_stage(recipe):  # noqa: F811
    egs, env, calls = recipe
    _extra_stubs(env, calls)
    out = run(
        ["./run.sh", "--tag", "t", "--systems", "varietysound baseline", "--ablations", "true",
         "--infer-policies", "shuffled cross timbre_5x3"],
        egs, env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    log = calls.read_text().splitlines()
    trains = [ln for ln in log if ln.startswith("vs-train ")]
    # ours, REGNET, the converter, three retrained ablations; each its own experiment folder
    presets = [re.search(r"preset=(\S+)", ln).group(1) for ln in trains]
    assert presets == ["tiny", "regnet_tiny", "converter_tiny", "tiny", "tiny", "tiny"]
    assert any("ablation=no_mel_disc" in ln for ln in trains)
    assert any("ablation=no_align_disc" in ln for ln in trains)
    assert any("+model.generator.use_background=false" in ln for ln in trains)
    assert sum(ln.startswith("vs-join-cascade ") for ln in log) == 1
    infers = [ln for ln in log if ln.startswith("vs-infer ")]
    # ours x3 policies, the baseline x3 (same seed: the same pairs), 8 ablation variants
    assert len(infers) == 3 + 3 + 8
    base = [ln for ln in infers if "t_baseline/model" in ln]
    assert {re.search(r"--policy (\S+)", ln).group(1) for ln in base} == {
        "shuffled", "cross", "timbre_5x3",
    }  # fmt: skip
    assert len({re.search(r"--seed (\S+)", ln).group(1) for ln in infers}) == 1
    abl = [ln for ln in infers if "/ablation/" in ln]
    assert all("--policy same" in ln for ln in abl)
    assert any("--with-background true" in ln and "ablation/with_background" in ln for ln in abl)
    assert any("t_abl_no_mel_disc/model" in ln for ln in abl)
    # every generation is vocoded: ground truth + 3 + 3 + 8
    assert sum(ln.startswith("vs-vocode ") for ln in log) == 1 + 3 + 3 + 8
    score = next(ln for ln in log if ln.startswith("vs-score "))
    assert "--compare Baseline (REGNET + converter)=exp/t_baseline/infer_test_{policy}" in score
    kit = next(ln for ln in log if ln.startswith("vs-listening-kit "))
    assert "--timbre-infer exp/t/infer_test_timbre_5x3" in kit
    assert "--compare baseline=exp/t_baseline/infer_test_shuffled" in kit
    assert "--compare baseline=exp/t_baseline/infer_test_timbre_5x3" in kit
    results = (egs / "exp" / "t" / "RESULTS.md").read_text()
    assert "## MCD ablations" in results


def test_unknown_system_is_refused(recipe):  # noqa: F811
    egs, env, _ = recipe
    out = run(["./run.sh", "--tag", "t", "--systems", "varietysound nope"], egs, env)
    assert out.returncode != 0 and "unknown system 'nope'" in out.stderr


def test_ablation_variants_select_rows_and_unknown_ones_are_refused(recipe):  # noqa: F811
    egs, env, calls = recipe
    _extra_stubs(env, calls)
    out = run(
        ["./run.sh", "--tag", "t", "--ablations", "true", "--ablation-variants",
         "proposed no_timbre no_mel_disc", "--infer-policies", "shuffled"],
        egs, env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    log = calls.read_text()
    assert "ablation=no_mel_disc" in log and "no_align_disc" not in log
    assert log.count("--policy same") == 3
    out = run(["./run.sh", "--tag", "t", "--ablation-variants", "nope"], egs, env)
    assert out.returncode != 0 and "unknown variant 'nope'" in out.stderr
