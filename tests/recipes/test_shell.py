"""The recipe's shell layer: option parsing, stage gating, skip flags, resume script.

Stage commands are replaced by stubs in a fake environment (VS_VENV) that record how they
were called, so these tests check the driver itself in a second or two.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vs_plugin.models.presets import preset_names

REPO = Path(__file__).resolve().parents[2]
#: The presets the recipe trains, from the package's table (what the real vs-list prints).
RECIPE_PRESETS = preset_names(system="varietysound")
STUBS = [
    "vs-list",
    "vs-prepare-data",
    "vs-extract-features",
    "vs-train",
    "vs-infer",
    "vs-vocode",
    "vs-score",
    "vs-listening-kit",
]


def run(args, cwd, env=None, check=False):
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=check
    )


# -- parse_options.sh -------------------------------------------------------------------------
def parse(tmp_path, *args):
    script = tmp_path / "s.sh"
    script.write_text(
        "set -e\nfoo_bar=1\nflag=false\nname=x\nhelp_message='usage: s.sh'\n"
        f". {REPO}/recipes/utils/parse_options.sh\n"
        'echo "foo_bar=$foo_bar flag=$flag name=$name rest=$*"\n',
        encoding="utf-8",
    )
    return run(["bash", str(script), *args], cwd=tmp_path)


def test_options_set_variables_and_keep_positionals(tmp_path):
    out = parse(tmp_path, "--foo-bar", "7", "--flag", "true", "a", "b")
    assert out.returncode == 0
    assert out.stdout.strip() == "foo_bar=7 flag=true name=x rest=a b"


def test_unknown_option_is_rejected_with_a_hint(tmp_path):
    out = parse(tmp_path, "--fo-bar", "7")
    assert out.returncode != 0 and "unknown option --fo-bar" in out.stderr
    assert "--help" in out.stderr


def test_boolean_options_only_take_true_or_false(tmp_path):
    out = parse(tmp_path, "--flag", "yes")
    assert out.returncode != 0 and "true or false" in out.stderr


def test_config_file_is_read_and_command_line_wins(tmp_path):
    (tmp_path / "c.sh").write_text("foo_bar=5\nname=fromfile\n", encoding="utf-8")
    out = parse(tmp_path, "--config", "c.sh", "--name", "cli")
    assert out.stdout.strip().startswith("foo_bar=5 flag=false name=cli")
    out = parse(tmp_path, "--config", "missing.sh")
    assert out.returncode != 0 and "missing.sh" in out.stderr


def test_help_lists_options(tmp_path):
    out = parse(tmp_path, "--help")
    assert out.returncode == 0 and "usage: s.sh" in out.stderr


# -- vs.sh with stub commands ----------------------------------------------------------------
@pytest.fixture
def recipe(tmp_path):
    """A copy of egs/vas wired to a fake environment whose commands only log their calls."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    calls = tmp_path / "calls.log"
    (venv / "bin" / "activate").write_text(f'export PATH="{venv}/bin:$PATH"\n', encoding="utf-8")
    for name in [*STUBS, "vs-seeds-report"]:
        stub = venv / "bin" / name
        body = f'#!/usr/bin/env bash\necho "{name} $*" >> "{calls}"\n'
        if name == "vs-train":  # training leaves an exported model behind
            body += (
                'for a in "$@"; do case "$a" in exp_dir=*) d="${a#exp_dir=}";; esac; done\n'
                'mkdir -p "$d/model" && touch "$d/model/model.pt"\n'
            )
        if name == "vs-score":
            body += (
                'while [ $# -gt 0 ]; do [ "$1" = --results ] && echo "# results" > "$2"; '
                "shift; done\n"
            )
        if name == "vs-list":  # the recipe's --preset check, run every time: not logged
            names = "\\n".join(RECIPE_PRESETS)
            body = f"#!/usr/bin/env bash\nprintf '{names}\\n'\n"
        stub.write_text(body, encoding="utf-8")
        stub.chmod(0o755)
    egs = tmp_path / "repo" / "egs" / "vas"
    shutil.copytree(
        REPO / "egs" / "vas",
        egs,
        ignore=shutil.ignore_patterns("data", "dump", "exp", "downloads", "RESULTS.md"),
    )
    shutil.copytree(REPO / "recipes", tmp_path / "repo" / "recipes")
    # validate_data_dir.sh is exercised by its own tests; here data dirs are fake
    (tmp_path / "repo" / "recipes" / "utils" / "validate_data_dir.sh").write_text(
        "#!/usr/bin/env bash\nexit 0\n", encoding="utf-8"
    )
    (tmp_path / "repo" / "recipes" / "utils" / "validate_data_dir.sh").chmod(0o755)
    env = {**os.environ, "VS_VENV": str(venv), "VS_SKIP_INSTALL_CHECK": "true"}
    (venv / "bin" / "vs-list").touch()
    return egs, env, calls


def stages_called(calls: Path) -> list[str]:
    return [line.split()[0] for line in calls.read_text().splitlines()] if calls.exists() else []


def test_stage_gating_runs_only_the_asked_stage(recipe):
    egs, env, calls = recipe
    out = run(
        [
            "./run.sh",
            "--stage",
            "3",
            "--stop-stage",
            "3",
            "--tag",
            "t",
            "--infer-policies",
            "same shuffled cross",
        ],
        egs,
        env,
    )
    assert out.returncode == 0, out.stderr
    assert set(stages_called(calls)) == {"vs-infer"}
    assert stages_called(calls).count("vs-infer") == 3  # same, shuffled, cross
    assert "Successfully finished [elapsed=" in out.stderr


def test_whole_run_calls_every_stage_in_order_and_writes_resume_script(recipe):
    egs, env, calls = recipe
    out = run(["./run.sh", "--tag", "t", "--nj", "2"], egs, env)
    assert out.returncode == 0, out.stderr
    order = stages_called(calls)
    firsts = [
        order.index(c)
        for c in STUBS[1:-1]  # every stage's command, in stage order
    ]
    assert firsts == sorted(firsts)
    assert order.index("vs-listening-kit") > order.index("vs-vocode")  # stage 5, beside vs-score
    assert "BUILT-IN corpus of real recorded drum sounds" in out.stderr  # no VAS: said loudly
    assert "--corpus real_sfx" in calls.read_text()
    resume = (egs / "exp" / "t" / "run.sh").read_text()
    assert "--stage 2" in resume and "--nj 2" in resume
    # a second run is a quick no-op for the finished stages 0-4
    calls.unlink()
    out = run(["./run.sh", "--tag", "t", "--nj", "2", "--stop-stage", "4"], egs, env)
    assert out.returncode == 0, out.stderr
    assert stages_called(calls) == []
    assert "already" in out.stderr


def test_skip_flags(recipe):
    egs, env, calls = recipe
    out = run(
        ["./run.sh", "--tag", "t", "--skip-data-prep", "true", "--skip-eval", "true"], egs, env
    )
    assert out.returncode == 0, out.stderr
    assert set(stages_called(calls)) == {"vs-train"}


def test_component_flags_become_hydra_overrides(recipe):
    egs, env, calls = recipe
    out = run(
        [
            "./run.sh",
            "--stage",
            "2",
            "--stop-stage",
            "2",
            "--tag",
            "t",
            "--temporal-encoder",
            "mean_pool",
            "--discriminators",
            "time_alignment",
            "--train-overrides",
            "train.batch_size=3",
        ],
        egs,
        env,
    )
    assert out.returncode == 0, out.stderr
    line = calls.read_text()
    assert "model.generator.temporal_encoder.name=mean_pool" in line
    assert "train.batch_size=3" in line and "preset=tiny" in line


def test_bad_options_fail_fast(recipe):
    egs, env, _ = recipe
    out = run(["./run.sh", "--preset", "huge"], egs, env)
    assert out.returncode != 0
    assert f"unknown preset 'huge' (known: {' '.join(RECIPE_PRESETS)})" in out.stderr
    out = run(["./run.sh", "--preset", "regnet"], egs, env)  # a preset, of another system
    assert out.returncode != 0 and "unknown preset 'regnet'" in out.stderr
    out = run(["./run.sh", "--no-such-thing", "1"], egs, env)
    assert out.returncode != 0 and "unknown option --no-such-thing" in out.stderr


def test_preset_check_asks_the_package(recipe):
    """The real ``vs-list`` decides which ``--preset`` passes; the error lists the valid ones."""
    egs, env, calls = recipe
    vs_list = Path(env["VS_VENV"]) / "bin" / "vs-list"
    vs_list.write_text(
        "#!/usr/bin/env bash\n"
        f"PYTHONPATH={shlex.quote(str(REPO))}${{PYTHONPATH:+:$PYTHONPATH}} "
        f'exec {shlex.quote(sys.executable)} -m vs_plugin.bin.list_components "$@"\n',
        encoding="utf-8",
    )
    for preset in RECIPE_PRESETS:  # stage 6: past every stage, so only the checks run
        out = run(["./run.sh", "--preset", preset, "--tag", "t", "--stage", "6"], egs, env)
        assert out.returncode == 0, out.stderr
    out = run(["./run.sh", "--preset", "huge", "--stage", "6"], egs, env)
    assert out.returncode != 0
    assert f"unknown preset 'huge' (known: {' '.join(RECIPE_PRESETS)})" in out.stderr
    assert not calls.exists()  # no stage ran


def test_stage1_jobs_and_merge_get_the_same_feature_options(recipe):
    egs, env, calls = recipe
    out = run(
        ["./run.sh", "--stage", "1", "--stop-stage", "2", "--tag", "t", "--fps", "15"], egs, env
    )
    assert out.returncode == 0, out.stderr
    lines = calls.read_text().splitlines()
    extract = [c for c in lines if c.startswith("vs-extract-features")]
    assert extract and all("--fps 15" in c for c in extract)  # stage 0's rate reaches stage 1
    video = [c for c in extract if "--stream video" in c]  # the demo extracts at 112 px
    assert all("--fps 15 --feature-config image_size=112" in c for c in video)
    assert any("--merge" in c for c in video) and any("--job" in c for c in video)
    (train,) = [c for c in lines if c.startswith("vs-train")]
    assert "data.video_feature" not in train  # training reads the dump's feature_spec.yaml


def test_per_category_trains_one_model_per_category_and_generates_with_each(recipe):
    egs, env, calls = recipe
    (egs / "data" / "train").mkdir(parents=True)
    (egs / "data" / "train" / "category2utt").write_text("bell bell-a bell-b\ndrum drum-a\n")
    out = run(
        [
            "./run.sh",
            "--stage",
            "2",
            "--stop-stage",
            "3",
            "--tag",
            "t",
            "--per-category",
            "true",
            "--infer-policies",
            "cross",
        ],
        egs,
        env,
    )
    assert out.returncode == 0, out.stderr
    lines = calls.read_text().splitlines()
    trains = [c for c in lines if c.startswith("vs-train")]
    assert len(trains) == 2
    for cat, line in zip(("bell", "drum"), trains):
        assert f"train.categories=[{cat}]" in line and f"exp_dir=exp/t/cat_{cat}" in line
    (infer,) = [c for c in lines if c.startswith("vs-infer")]
    assert "--model exp/t/cat_{category}/model" in infer


def test_stage5_scores_every_policy_in_one_call_into_one_results_file(recipe):
    egs, env, calls = recipe
    out = run(
        [
            "./run.sh",
            "--stage",
            "5",
            "--stop-stage",
            "5",
            "--tag",
            "t",
            "--eval-policies",
            "shuffled cross",
            "--listening-kit",
            "false",
        ],
        egs,
        env,
    )
    assert out.returncode == 0, out.stderr
    (score,) = [c for c in calls.read_text().splitlines() if c.startswith("vs-score")]
    assert "--infer exp/t/infer_test_shuffled --infer exp/t/infer_test_cross" in score
    assert "--results exp/t/RESULTS.md" in score
    assert "--jobs 2" in score  # the policies side by side, --nj of them
    assert (egs / "RESULTS.md").exists()


def test_stage5_builds_the_kit_beside_the_scoring_and_fails_if_it_fails(recipe):
    egs, env, calls = recipe
    kit = Path(env["VS_VENV"]) / "bin" / "vs-listening-kit"
    args = ["./run.sh", "--stage", "5", "--stop-stage", "5", "--tag", "t"]
    out = run(args, egs, env)
    assert out.returncode == 0, out.stderr
    (call,) = [c for c in calls.read_text().splitlines() if c.startswith("vs-listening-kit")]
    assert "--out exp/t/listening_test" in call and "--jobs 1" in call
    assert "vs-score" in stages_called(calls)
    kit.write_text("#!/usr/bin/env bash\necho 'kit: broken.mp4: unreadable media' >&2\nexit 2\n")
    out = run(args, egs, env)
    assert out.returncode != 0
    assert "listening-test kit failed: see exp/t/listening_kit.log" in out.stderr
    assert "broken.mp4: unreadable media" in out.stdout + out.stderr  # its log is shown
    assert "Successfully finished" not in out.stderr


def test_recipe_help_lists_every_option_with_its_value_and_comment():
    out = subprocess.run(
        [str(REPO / "egs" / "vas" / "run.sh"), "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "VS_SKIP_INSTALL_CHECK": "true"},
    )
    assert out.returncode == 0
    text = out.stderr
    block = (REPO / "recipes" / "vs.sh").read_text().split("# -- options", 1)[1]
    block = block.split("help_message=", 1)[0]
    names = [
        line.split("=", 1)[0] for line in block.splitlines() if line[:1].isalpha() and "=" in line
    ]
    assert len(names) > 30
    for name in names:
        assert f"--{name.replace('_', '-')} " in text, name
    assert "one model per category" in text  # comments become descriptions


def test_seeds_trains_each_seed_on_the_same_pairs_and_reports(recipe):
    """recipes/seeds.sh: data and features once, then stages 2-5 per seed with only the
    training seed changed (pairing keeps --seed), each its own experiment, then the report."""
    egs, env, calls = recipe
    out = run(
        ["../../recipes/seeds.sh", "--seeds", "3 5", "--tag", "d", "--", "--nj", "1"], egs, env
    )
    assert out.returncode == 0, out.stderr
    lines = calls.read_text().splitlines()
    trains = [x for x in lines if x.startswith("vs-train")]
    assert len(trains) == 2
    assert "seed=3" in trains[0].split() and "exp_dir=exp/d_seed3" in trains[0].split()
    assert "seed=5" in trains[1].split() and "exp_dir=exp/d_seed5" in trains[1].split()
    infers = [x for x in lines if x.startswith("vs-infer")]
    assert infers and all("--seed 1" in x for x in infers)  # the same test pairs for every seed
    assert stages_called(calls).count("vs-prepare-data") == 1
    report = [x for x in lines if x.startswith("vs-seeds-report")]
    assert report == ["vs-seeds-report --exp exp/d_seed3 exp/d_seed5 --out exp/d_seeds"]
    # the other built-in corpus is one flag away; data prepared for one is not reused for it
    calls.unlink()
    out = run(["./run.sh", "--stage", "0", "--stop-stage", "0", "--corpus", "vas_synth"], egs, env)
    assert out.returncode == 1 and "was prepared with other options" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and not calls.exists()
    args = ["--stage", "0", "--stop-stage", "0", "--corpus", "vas_synth", "--data-dir", "d2"]
    out = run(["./run.sh", *args], egs, env)
    assert out.returncode == 0 and "BUILT-IN SYNTHETIC" in out.stderr
    assert "--corpus vas_synth" in calls.read_text()
    assert not (egs / "RESULTS.md").exists()  # the recipe folder's RESULTS.md is left alone
    bad = run(["../../recipes/seeds.sh", "--seeds", "1"], egs, env)
    assert bad.returncode != 0 and "at least two seeds" in bad.stderr
