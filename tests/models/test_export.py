"""Exported model folders: the whole model in ``model.pt``, older layouts still load."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from tests.infer.tinymodel import FEATURE_DIM, export_tiny, export_tiny_legacy
from vs_plugin.errors import InputError
from vs_plugin.models.export import (
    CARD_FILE,
    MODEL_FILE,
    SPEC_FILE,
    export_model,
    load_exported,
)
from vs_plugin.models.varietysound import VarietySoundModel


def raw_inputs():
    rng = np.random.default_rng(0)
    video = rng.random((20, FEATURE_DIM)).astype(np.float32)
    ref = (rng.standard_normal((80, 60)) - 5).astype(np.float32)
    return video, ref


def test_the_checkpoint_holds_the_whole_model_and_the_card_its_config(tmp_path):
    model_dir = export_tiny(tmp_path / "exp" / "demo" / "model")
    model = load_exported(model_dir)
    assert isinstance(model, VarietySoundModel) and model.directory == model_dir
    state = torch.load(model_dir / MODEL_FILE, weights_only=True)
    assert set(state) == set(model.state_dict())
    assert torch.equal(state["mel_mean"], torch.full((80,), -5.0))
    assert torch.equal(state["video_scale"], torch.full((FEATURE_DIM,), 0.2))
    meta = yaml.safe_load((model_dir / SPEC_FILE).read_text(encoding="utf-8"))
    card = yaml.safe_load((model_dir / CARD_FILE).read_text(encoding="utf-8"))
    assert meta["format"] == 3 and card["checkpoint"] == MODEL_FILE
    assert card["name"] == "varietysound_demo" and card["model_family"] == "varietysound"
    # _set_ replaces fairseq2's defaults instead of merging another generator's spec in
    assert card["model_config"] == {"_set_": model.config.to_dict()}
    assert {k: meta[k] for k in card["model_config"]["_set_"]} == model.config.to_dict()
    assert meta["video_dim"] == FEATURE_DIM and meta["video_feature"] == model.video_feature
    assert not (model_dir / "generator.pt").exists()


def test_card_file_and_checkpoint_paths_load_the_same_model(tmp_path):
    model_dir = export_tiny(tmp_path / "model")
    video, ref = raw_inputs()
    expected = load_exported(model_dir).generate(video, ref)
    for source in (model_dir / CARD_FILE, model_dir / MODEL_FILE, str(model_dir)):
        assert torch.equal(load_exported(source).generate(video, ref), expected)


def test_folders_exported_before_format_3_load_with_their_statistics(tmp_path):
    new = load_exported(export_tiny(tmp_path / "new" / "model", seed=3))
    old = load_exported(export_tiny_legacy(tmp_path / "old" / "model", seed=3))
    assert old.video_feature == new.video_feature and old.mel == new.mel
    assert old.config == new.config
    video, ref = raw_inputs()
    assert torch.equal(old.generate(video, ref), new.generate(video, ref))
    # re-exported, an older folder becomes one that fairseq2 can load too
    again = load_exported(export_model(old, tmp_path / "again" / "model").parent)
    assert torch.equal(again.generate(video, ref), new.generate(video, ref))


def test_missing_or_foreign_parts_name_the_file(tmp_path):
    model_dir = export_tiny(tmp_path / "model")
    (model_dir / MODEL_FILE).write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match=r"model\.pt: not a readable checkpoint"):
        load_exported(model_dir)
    torch.save({"mel_mean": torch.zeros(80)}, model_dir / MODEL_FILE)
    with pytest.raises(InputError, match=r"model\.pt: does not match generator\.yaml"):
        load_exported(model_dir)
    (model_dir / MODEL_FILE).unlink()
    with pytest.raises(InputError, match=r"model\.pt: missing from the exported model folder"):
        load_exported(model_dir)
    meta = yaml.safe_load((model_dir / SPEC_FILE).read_text(encoding="utf-8"))
    del meta["video_dim"]
    (model_dir / SPEC_FILE).write_text(yaml.safe_dump(meta), encoding="utf-8")
    with pytest.raises(InputError, match=r"generator\.yaml: not a model config"):
        load_exported(model_dir)
    legacy = export_tiny_legacy(tmp_path / "legacy" / "model")
    (legacy / "video_stats.npz").unlink()
    with pytest.raises(InputError, match=r"video_stats\.npz: missing"):
        load_exported(legacy)
