"""The log-mel analysis's filterbank: librosa's values, kept in the per-user cache so that a
later process need not import librosa (about 1.6 s of a one-clip ``vs-generate``)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from vs_plugin.audio import mel
from vs_plugin.audio.mel import MelConfig, librosa_mel_basis, log_mel


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VS_PLUGIN_CACHE_DIR", str(tmp_path))
    mel._mel_basis.cache_clear()
    yield tmp_path
    mel._mel_basis.cache_clear()


def _cached_files(root):
    return sorted(root.glob("mel-basis-*/basis.npy"))


def test_the_cached_basis_is_librosas_and_a_new_process_reads_it_without_librosa(cache):
    cfg = MelConfig()
    basis = mel._mel_basis(cfg)
    assert torch.equal(basis, torch.from_numpy(librosa_mel_basis(cfg)))
    (path,) = _cached_files(cache)
    wav = np.sin(np.linspace(0, 2000, 22050)).astype(np.float32)
    probe = (
        "import json, sys, numpy as np\n"
        "from vs_plugin.audio.mel import log_mel\n"
        "m = log_mel(np.sin(np.linspace(0, 2000, 22050)).astype(np.float32))\n"
        "print(json.dumps({'sum': float(m.astype(np.float64).sum()), 'modules': sorted(\n"
        "    n for n in ('librosa', 'scipy.signal', 'numba') if n in sys.modules)}))\n"
    )
    env = {**os.environ, "VS_PLUGIN_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)
    got = json.loads(out.stdout)
    assert got["modules"] == []  # the filterbank came from the cache
    assert got["sum"] == float(log_mel(wav, cfg).astype(np.float64).sum())
    assert _cached_files(cache) == [path]  # read, not written again


def test_each_config_has_its_own_cached_basis(cache):
    small = MelConfig(n_mels=64, fmax=7600.0)
    assert mel._mel_basis(small).shape == (64, 513)
    assert mel._mel_basis(MelConfig()).shape == (80, 513)
    assert len(_cached_files(cache)) == 2
    assert torch.equal(mel._mel_basis(small), torch.from_numpy(librosa_mel_basis(small)))


@pytest.mark.parametrize("damage", ["garbage", "wrong shape"])
def test_a_damaged_cache_file_is_replaced_with_a_warning(cache, caplog, damage):
    cfg = MelConfig()
    mel._mel_basis(cfg)
    (path,) = _cached_files(cache)
    if damage == "garbage":
        path.write_bytes(b"not an array")
    else:
        np.save(path, np.ones((3, 3), np.float32))
    mel._mel_basis.cache_clear()
    with caplog.at_level(logging.WARNING, logger="vs_plugin.audio"):
        basis = mel._mel_basis(cfg)
    assert torch.equal(basis, torch.from_numpy(librosa_mel_basis(cfg)))
    assert f"mel basis cache {path.parent} replaced" in caplog.text
    assert np.array_equal(np.load(path), librosa_mel_basis(cfg))  # the file is good again


def test_an_unwritable_cache_leaves_nothing_behind(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("VS_PLUGIN_CACHE_DIR", str(blocker))
    mel._mel_basis.cache_clear()
    before = set(Path(tempfile.gettempdir()).iterdir())
    try:
        basis = mel._mel_basis(MelConfig())
    finally:
        mel._mel_basis.cache_clear()
    assert torch.equal(basis, torch.from_numpy(librosa_mel_basis(MelConfig())))
    assert set(Path(tempfile.gettempdir()).iterdir()) <= before  # no stray temporary folder
