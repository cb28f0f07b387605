"""The generic Registry: registration rules, lookup errors, Hydra configs, entry points."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from vs_plugin.interfaces import Scorer, TemporalEncoder
from vs_plugin.registry import (
    REGISTRIES,
    TEMPORAL_ENCODERS,
    Registry,
    RegistryError,
    registry,
)


class Base:
    pass


@dataclass
class ACfg:
    size: int = 3
    label: str = "a"


class A(Base):
    """An A component."""

    def __init__(self, cfg, extra=None):
        self.cfg, self.extra = cfg, extra


class B(Base):
    """A B component."""

    def __init__(self, cfg):
        self.cfg = cfg


@pytest.fixture
def reg():
    return Registry("test_kind_" + str(id(object())), Base)


def test_register_build_and_override(reg):
    reg.register("a", config=ACfg)(A)
    obj = reg.build({"name": "a", "size": 7}, extra=1)
    assert isinstance(obj, A) and obj.cfg == ACfg(size=7) and obj.extra == 1
    assert reg.build("a").cfg == ACfg()
    assert reg.get("a").description == "An A component."
    assert reg.get("a").provider.startswith("tests")


def test_typed_config_rejects_wrong_types_and_unknown_fields(reg):
    reg.register("a", config=ACfg)(A)
    with pytest.raises(Exception, match="size"):
        reg.build({"name": "a", "size": "not a number"})
    with pytest.raises(RegistryError, match=r"unknown config field\(s\) \['colour'\]"):
        reg.build({"name": "a", "colour": 1})


def test_duplicates_and_wrong_base_are_rejected(reg):
    reg.register("a", config=ACfg)(A)
    reg.register("a", config=ACfg)(A)  # re-registering the same class is a no-op
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("a", config=ACfg)(B)
    with pytest.raises(RegistryError, match="already registered as 'a'"):
        reg.register("other", config=ACfg)(A)
    with pytest.raises(RegistryError, match="not a subclass"):
        reg.register("c", config=ACfg)(int)
    with pytest.raises(RegistryError, match="dataclass config"):
        reg.register("d")(B)


def test_unknown_name_lists_known_names_and_providers(reg):
    reg.register("a", config=ACfg)(A)
    with pytest.raises(RegistryError) as err:
        reg.get("nope")
    assert "unknown" in str(err.value) and "a (tests" in str(err.value)


def test_config_lands_in_hydra_config_store(reg):
    reg.register("a", config=ACfg)(A)
    repo = ConfigStore.instance().repo
    node = repo[reg.kind]["a.yaml"].node
    assert node.name == "a" and node.size == 3


def test_every_kind_of_the_design_exists():
    assert set(REGISTRIES) == {
        "audio_feature", "video_feature", "temporal_encoder", "acoustic_encoder",
        "background_encoder", "decoder", "generator", "discriminator", "vocoder", "scorer",
        "corpus", "system",
    }
    assert registry("scorer").base is Scorer
    with pytest.raises(RegistryError, match="kinds:"):
        registry("nope")


# -- a third-party distribution, through entry points ---------------------------------------
def test_thirdparty_encoder_by_entry_point(thirdparty_dist):
    assert "mean_pool" in TEMPORAL_ENCODERS.names()
    entry = TEMPORAL_ENCODERS.get("mean_pool")
    assert entry.provider == "vs-thirdparty 0.3.0"
    assert issubclass(entry.cls, TemporalEncoder)
    enc = TEMPORAL_ENCODERS.build({"name": "mean_pool", "out_channels": 5}, 16)
    assert enc(torch.randn(2, 16, 11)).shape == (2, 5, 11)


def test_thirdparty_encoder_from_a_hydra_config(thirdparty_dist, tmp_path):
    (tmp_path / "exp.yaml").write_text(
        "model:\n  temporal_encoder:\n    name: mean_pool\n    window: 5\n", encoding="utf-8"
    )
    with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
        cfg = compose("exp", overrides=["+model.temporal_encoder.out_channels=4"])
    enc = TEMPORAL_ENCODERS.build(cfg.model.temporal_encoder, 6)
    assert enc.cfg.window == 5 and enc(torch.randn(1, 6, 9)).shape == (1, 4, 9)
    # once loaded, the entry is also a Hydra config-group choice with typed defaults
    (tmp_path / "empty.yaml").write_text("model: {}\n", encoding="utf-8")
    with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
        cfg = compose("empty", overrides=["+temporal_encoder@model.temporal_encoder=mean_pool"])
    assert cfg.model.temporal_encoder.name == "mean_pool"
    assert cfg.model.temporal_encoder.window == 3
    bad = OmegaConf.create({"name": "mean_pol"})
    with pytest.raises(RegistryError, match=r"unknown temporal_encoder 'mean_pol'.*mean_pool"):
        TEMPORAL_ENCODERS.build(bad, 6)


def test_failing_entry_point_names_its_distribution(thirdparty_dist):
    with pytest.raises(RegistryError, match=r"broken_one.*vs-thirdparty 0\.3\.0.*failed to load"):
        TEMPORAL_ENCODERS.get("broken_one")


def test_vs_list_shows_thirdparty_entry(thirdparty_dist):
    env = {"PYTHONPATH": str(thirdparty_dist)}
    import os

    env = {**os.environ, **env}
    out = subprocess.run(
        [sys.executable, "-m", "vs_plugin.bin.list_components", "temporal_encoder"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert "mean_pool" in out.stdout and "vs-thirdparty 0.3.0" in out.stdout
    assert "broken_one" in out.stdout and "ERROR" in out.stdout
    assert out.returncode == 1  # a broken entry point is never skipped silently
