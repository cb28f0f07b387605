"""The experiment confs of ``egs/vas``: their options are ones the recipe and the registered
components accept, and they record what BENCHMARKS.md and docs/QUALITY.md measured."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vs_plugin.data.cliargs import parse_overrides
from vs_plugin.features.extract import ExtractConfig, feature_spec

EGS = Path(__file__).resolve().parents[2] / "egs" / "vas"
CONFS = sorted(p.name for p in (EGS / "conf").glob("*.sh"))


def recipe_opts(conf: str) -> list[str]:
    """``recipe_opts`` as the conf sets it (sourced by bash, as ``run.sh`` does)."""
    script = f'. "conf/{conf}"; printf "%s\\n" "${{recipe_opts[@]}}"'
    out = subprocess.run(["bash", "-c", script], cwd=EGS, capture_output=True, text=True,
                         check=True)
    return out.stdout.splitlines()


def option(opts: list[str], name: str) -> str | None:
    return opts[opts.index(name) + 1] if name in opts else None


def test_there_are_confs():
    assert {"demo.sh", "paper.sh"} <= set(CONFS)


@pytest.mark.parametrize("conf", CONFS)
def test_the_video_feature_options_make_a_valid_spec(conf):
    opts = recipe_opts(conf)
    name = option(opts, "--video-feature") or "effnet_rgb_flow"
    given = parse_overrides((option(opts, "--video-feature-opts") or "").split())
    spec = feature_spec(ExtractConfig(stream="video", feature={"name": name, **given}))
    assert {k: spec["feature"][k] for k in given} == given  # every option is a field, kept


@pytest.mark.parametrize("conf", ["demo.sh", "paper.sh"])
def test_the_demo_and_paper_confs_compute_bfloat16_features(conf):
    opts = recipe_opts(conf)
    given = parse_overrides((option(opts, "--video-feature-opts") or "").split())
    spec = feature_spec(ExtractConfig(stream="video", feature={"name": "effnet_rgb_flow",
                                                               **given}))
    assert spec["feature"]["precision"] == "bf16"


@pytest.mark.parametrize("conf", CONFS)
def test_the_training_overrides_make_a_valid_run_config(conf):
    """Every conf's --train-overrides are fields of the training schema and of the preset's
    components (a misspelt or stale switch fails here, not after stages 0-1)."""
    from omegaconf import OmegaConf

    from vs_plugin.data.dataset import REFERENCE_CROPS, REFERENCES
    from vs_plugin.models.presets import build_generator
    from vs_plugin.train.config import schema
    from vs_plugin.train.engine import check_model, model_specs

    opts = recipe_opts(conf)
    overrides = (option(opts, "--train-overrides") or "").split()
    preset = option(opts, "--preset") or "tiny"
    job = OmegaConf.merge(schema(), OmegaConf.from_dotlist([f"model.preset={preset}", *overrides]))
    check_model(job.model)
    assert job.data.reference in REFERENCES and job.data.reference_crop in REFERENCE_CROPS
    gspec, _ = model_specs(OmegaConf.to_container(job.model), {"video_dim": 16, "n_mels": 80})
    assert build_generator(gspec) is not None


def test_the_demo_results_name_the_split_and_seeds_that_chose_the_settings():
    """The protocol travels with the results: the demo's RESULTS.md header (its corpus note)
    says which split and seeds chose the switches and that the tables are the test split."""
    note = option(recipe_opts("demo.sh"), "--corpus-note") or ""
    assert "VALIDATION split" in note and "TEST split" in note and "seed" in note
    results = (EGS / "RESULTS.md").read_text(encoding="utf-8")
    assert note in results  # the committed results were made with this protocol
