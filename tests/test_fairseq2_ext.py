"""The fairseq2 extension, loaded the way fairseq2 loads every extension: its entry point.

Each check runs in a fresh interpreter because ``init_fairseq2()`` may run once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fairseq2  # noqa: E402,F401  (a required package: a broken install fails here)
import numpy as np
import pytest
import torch
import yaml

from tests.infer.tinymodel import FEATURE_DIM, export_tiny  # noqa: E402

TRACE_ENV = {**os.environ, "FAIRSEQ2_EXTENSION_TRACE": "1"}
ROOT = Path(__file__).resolve().parents[1]


def run_py(code: str, env: dict | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=env or TRACE_ENV, timeout=300, check=False,
        cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_init_fairseq2_discovers_the_extension_by_entry_point():
    out = run_py(
        """
        import json
        from importlib.metadata import entry_points
        eps = [ep.value for ep in entry_points(group="fairseq2.extension")]
        from fairseq2 import init_fairseq2
        from fairseq2.models import ModelHubAccessor
        from vs_plugin.models.varietysound import VarietySoundModel, VarietySoundModelConfig
        from fairseq2.assets import get_asset_store
        from vs_plugin.models.presets import preset_names
        init_fairseq2()
        hub = ModelHubAccessor("varietysound", VarietySoundModel, VarietySoundModelConfig)()
        archs = sorted(hub.get_archs())
        tiny = hub.get_arch_config("tiny")
        cards = {}
        for arch in preset_names(system="varietysound"):
            card = get_asset_store().retrieve_card(f"varietysound_{arch}")
            cards[arch] = [card.field(k).as_(str) for k in ("model_family", "model_arch")]
        print(json.dumps({"eps": eps, "archs": archs, "tiny_gen": tiny.generator["name"],
                          "dims": [tiny.n_mels, tiny.video_dim], "cards": cards,
                          "presets": preset_names(system="varietysound")}))
        """
    )
    res = last_json(out)
    assert "vs_plugin.fairseq2_ext:setup_vs_plugin_extension" in res["eps"]
    # The archs and their base cards are the presets' table, every VarietySound preset.
    assert {"paper", "tiny"} <= set(res["presets"]) and set(res["archs"]) == set(res["presets"])
    assert res["cards"] == {arch: ["varietysound", arch] for arch in res["presets"]}
    assert res["tiny_gen"] == "varietysound" and res["dims"] == [80, 2048]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A tiny model exported the way training does, with a card fairseq2 can find."""
    return export_tiny(tmp_path_factory.mktemp("exp") / "demo" / "model", seed=1)


def raw_inputs() -> tuple[np.ndarray, np.ndarray]:
    """Video features ``(T, D)`` within one window, a raw reference log-mel ``(T_ref, 80)``."""
    rng = np.random.default_rng(0)
    video = rng.random((30, FEATURE_DIM)).astype(np.float32)
    ref = (rng.standard_normal((120, 80)) - 5).astype(np.float32)
    return video, ref


def test_load_model_returns_the_model_that_vs_generate_runs(exported, tmp_path):
    """fairseq2's model, fed raw features, gives vs-generate's raw log-mel and feature spec."""
    from vs_plugin.bin.generate import load_pipeline
    from vs_plugin.infer.generation import GenerationConfig, generate_mel

    video, ref = raw_inputs()
    model, _ = load_pipeline(str(exported), "griffin_lim", "cpu")
    expected, windows = generate_mel(model, video, ref, cfg=GenerationConfig())
    assert windows == 1
    np.save(tmp_path / "video.npy", video)
    np.save(tmp_path / "ref.npy", ref.T)  # the model takes mels as (n_mels, frames)
    card = yaml.safe_load((exported / "card.yaml").read_text(encoding="utf-8"))
    env = {**TRACE_ENV, "VS_PLUGIN_CARD_PATH": str(exported)}
    out = run_py(
        f"""
        import dataclasses, json
        import numpy as np, torch
        from fairseq2 import init_fairseq2
        from fairseq2.models import load_model
        init_fairseq2()
        model = load_model({card["name"]!r}, device=torch.device("cpu")).eval()
        video = np.load(r"{tmp_path / 'video.npy'}")
        ref = np.load(r"{tmp_path / 'ref.npy'}")
        mel = model.generate(video, ref)  # raw (n_mels, 4 T)
        np.save(r"{tmp_path / 'out.npy'}", mel.numpy())
        print(json.dumps({{"kls": type(model).__name__, "video_feature": model.video_feature,
                          "mel": dataclasses.asdict(model.mel)}}))
        """,
        env=env,
    )
    res = last_json(out)
    got = np.load(tmp_path / "out.npy").T
    assert res["kls"] == "VarietySoundModel"
    assert got.shape == expected.shape == (4 * 30, 80)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    meta = yaml.safe_load((exported / "generator.yaml").read_text(encoding="utf-8"))
    assert res["video_feature"] == meta["video_feature"] == model.video_feature
    assert res["mel"] == meta["mel"]


def test_a_card_name_loads_through_fairseq2s_asset_store(exported, tmp_path):
    """``load_exported("<card name>")`` (vs-generate --model NAME) finds the folder."""
    video, ref = raw_inputs()
    from vs_plugin.models.export import load_exported

    expected = load_exported(exported).generate(video, ref.T)
    torch.save({"video": torch.from_numpy(video), "ref": torch.from_numpy(ref.T),
                "expected": expected}, tmp_path / "io.pt")  # fmt: skip
    env = {**TRACE_ENV, "VS_PLUGIN_CARD_PATH": str(exported)}
    run_py(
        f"""
        from pathlib import Path
        import torch
        from vs_plugin.models.export import load_exported
        model = load_exported("varietysound_demo")
        io = torch.load(r"{tmp_path / 'io.pt'}", weights_only=True)
        assert model.directory.resolve() == Path(r"{exported}").resolve(), model.directory
        assert torch.equal(model.generate(io["video"], io["ref"]), io["expected"])
        """,
        env=env,
    )
