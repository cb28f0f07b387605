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
