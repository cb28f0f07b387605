"""Shared test setup: quiet threads, fixed seeds, the third-party distribution fixture."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import torch

os.environ.setdefault("FAIRSEQ2_EXTENSION_TRACE", "1")
torch.set_num_threads(1)  # small tensors: one thread is much faster than two

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_collection_modifyitems(config, items):
    """Skip ``cuda`` tests when no GPU is present."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def make_distribution(root: Path, name: str, version: str, package_src: Path,
                      entry_points: dict[str, dict[str, str]]) -> Path:
    """Lay out an installed distribution (package + .dist-info) under ``root``.

    This is what ``pip install`` leaves in site-packages, so ``importlib.metadata`` finds the
    distribution's entry points once ``root`` is on ``sys.path``.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(package_src, root / package_src.name, dirs_exist_ok=True)
    dist = root / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in entries.items()]
        lines.append("")
    (dist / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    (dist / "top_level.txt").write_text(package_src.name + "\n", encoding="utf-8")
    return root


@pytest.fixture
def thirdparty_dist(tmp_path, monkeypatch):
    """The example package in tests/fixtures/vs_thirdparty, 'installed' on sys.path."""
    root = make_distribution(
        tmp_path / "site",
        "vs-thirdparty",
        "0.3.0",
        FIXTURES / "vs_thirdparty" / "src" / "vs_thirdparty",
        {
            "vs_plugin.temporal_encoder": {
                "mean_pool": "vs_thirdparty.encoders:MeanPoolTemporalEncoder",
                "broken_one": "vs_thirdparty.broken:Nothing",
            }
        },
    )
    monkeypatch.syspath_prepend(str(root))
    yield root
    for mod in [m for m in sys.modules if m.startswith("vs_thirdparty")]:
        del sys.modules[mod]
    from vs_plugin.registry import TEMPORAL_ENCODERS

    TEMPORAL_ENCODERS._entries.pop("mean_pool", None)

from tests.disk import full_disk, small_disk  # noqa: E402,F401 - fixtures for every test


@pytest.fixture(scope="module")
def graph_cache(tmp_path_factory):
    """Converted OpenVINO / ONNX graphs go to a fresh cache folder for the using module
    (``VS_PLUGIN_CACHE_DIR``): its tests see a cold cache, and the user's is left alone."""
    path = tmp_path_factory.mktemp("graph-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VS_PLUGIN_CACHE_DIR", str(path))
        yield path

