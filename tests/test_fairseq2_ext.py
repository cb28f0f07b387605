"""The fairseq2 extension, loaded the way fairseq2 loads every extension: its entry point.

Each check runs in a fresh interpreter because ``init_fairseq2()`` may run once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("fairseq2")

TRACE_ENV = {**os.environ, "FAIRSEQ2_EXTENSION_TRACE": "1"}


def run_py(code: str, env: dict | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=env or TRACE_ENV, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_init_fairseq2_discovers_the_extension_by_entry_point():
    out = run_py(
        """
        import json
        from importlib.metadata import entry_points
        eps = [ep.value for ep in entry_points(group="fairseq2.extension")]
        from fairseq2 import init_fairseq2
        from fairseq2.models import ModelHubAccessor
        from vs_plugin.fairseq2_ext import VarietySoundModelConfig
        from vs_plugin.interfaces import Generator
        from vs_plugin.registry import Entry
        resolver = init_fairseq2()
        hub = ModelHubAccessor("varietysound", Generator, VarietySoundModelConfig)()
        archs = sorted(hub.get_archs())
        tiny = hub.get_arch_config("tiny")
        entry = resolver.resolve(Entry, key="generator/varietysound")
        print(json.dumps({"eps": eps, "archs": archs, "tiny_gen": tiny.generator["name"],
                          "entry": entry.name}))
        """
    )
    res = json.loads(out.strip().splitlines()[-1])
    assert "vs_plugin.fairseq2_ext:setup_vs_plugin_extension" in res["eps"]
    assert {"paper", "tiny"} <= set(res["archs"])
    assert res["tiny_gen"] == "varietysound" and res["entry"] == "varietysound"


def test_exported_generator_loads_with_fairseq2_load_model(tmp_path):
    """A randomly initialised tiny generator, exported with its card, round-trips bit-exact."""
    import numpy as np
    import torch

    from vs_plugin.models.export import export_generator, load_exported
    from vs_plugin.models.presets import build_generator, generator_spec

    torch.manual_seed(0)
    spec = generator_spec("tiny", video_dim=16)
    gen = build_generator(spec).eval()
    stats = tmp_path / "stats.npz"
    np.savez(stats, mean=np.zeros(80, np.float32), scale=np.ones(80, np.float32))
    vstats = tmp_path / "vstats.npz"
    np.savez(vstats, mean=np.zeros(16, np.float32), scale=np.ones(16, np.float32))
    model_dir = tmp_path / "exp" / "demo" / "model"
    card = export_generator(gen, spec, model_dir, stats, vstats, {"name": "effnet_rgb_flow"},
                            card_name="varietysound_test_demo", arch="tiny")
    video, ref = torch.randn(1, 16, 9), torch.randn(1, 80, 30)
    expected = gen.generate(video, ref)
    torch.save({"video": video, "ref": ref, "expected": expected}, tmp_path / "io.pt")

    # plain loading (no fairseq2 involved) gives the same generator
    again = load_exported(model_dir)
    assert torch.equal(again.generator.generate(video, ref), expected)

    env = {**TRACE_ENV, "VS_PLUGIN_CARD_PATH": str(card.parent)}
    run_py(
        f"""
        import torch
        from fairseq2.models import load_model
        model = load_model("varietysound_test_demo", device=torch.device("cpu"))
        model.eval()
        io = torch.load(r"{tmp_path / 'io.pt'}", weights_only=True)
        out = model.generate(io["video"], io["ref"])
        assert type(model).__name__ == "VarietySoundGenerator", type(model)
        assert torch.equal(out, io["expected"]), (out - io["expected"]).abs().max()
        """,
        env=env,
    )
