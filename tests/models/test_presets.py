"""Presets: paper defaults, tiny sizes, overrides, discriminator weights, the report tool, and
the one table that every other place naming a preset derives from or is checked against."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from vs_plugin.bin import list_components
from vs_plugin.errors import ConfigError
from vs_plugin.models.presets import (
    PRESETS,
    DiscriminatorSet,
    build_discriminators,
    build_generator,
    check_spec,
    discriminator_specs,
    generator_spec,
    preset_names,
    system_spec,
)
from vs_plugin.registry import GENERATORS

ROOT = Path(__file__).resolve().parents[2]


def test_paper_preset_is_the_config_defaults() -> None:
    """The paper's sizes live in the components' config defaults; the preset only names them."""
    _, cfg = GENERATORS.make_config(generator_spec("paper"))
    assert cfg == type(cfg)()
    for part in ("temporal_encoder", "acoustic_encoder", "background_encoder", "decoder"):
        assert set(generator_spec("paper")[part]) == {"name"}
    assert all(set(d) == {"name", "weight"} for d in discriminator_specs("paper"))
    gen = build_generator("paper")
    assert (gen.n_mels, gen.video_dim, gen.upsample) == (80, 2048, 4)
    assert gen.temporal_encoder.out_channels == 8
    assert len(gen.acoustic_encoder.units) == 5
    assert len(gen.decoder.blocks) == 4 and gen.decoder.blocks[0].attn.num_heads == 2
    ups = [m for m in gen.decoder.up if isinstance(m, torch.nn.ConvTranspose1d)]
    assert [(m.kernel_size[0], m.stride[0], m.out_channels) for m in ups] == [(4, 2, 1024)] * 2


def test_overrides_merge_without_touching_the_preset() -> None:
    before = json.dumps(PRESETS, sort_keys=True)
    spec = generator_spec("tiny", video_dim=40, decoder={"n_blocks": 2})
    assert spec["video_dim"] == 40
    assert spec["decoder"]["n_blocks"] == 2 and spec["decoder"]["hidden"] == 64  # merged
    spec = generator_spec("tiny", decoder={"name": "fft"})
    assert spec["decoder"]["hidden"] == 64  # same name: still a merge
    assert json.dumps(PRESETS, sort_keys=True) == before
    with pytest.raises(KeyError, match="presets"):
        generator_spec("huge")


@pytest.mark.parametrize("video_dim", [16, 1024])
def test_tiny_preset_builds_with_any_video_dim(video_dim: int) -> None:
    gen = build_generator(generator_spec("tiny", video_dim=video_dim))
    assert sum(p.numel() for p in gen.parameters()) < 2_000_000
    out = gen.eval().generate(torch.randn(1, video_dim, 11), torch.randn(1, 80, 20))
    assert out.shape == (1, 80, 44)


def test_discriminators_keep_their_weights() -> None:
    specs = discriminator_specs("tiny")
    specs[0]["weight"] = 0.5
    discs = build_discriminators(specs, 40, 12, 4)
    assert isinstance(discs, DiscriminatorSet) and isinstance(discs, torch.nn.ModuleList)
    assert discs.weights == [0.5, 1.0] and discs.names == ["time_alignment", "multi_window_mel"]
    assert discs[0].needs_video and not discs[1].needs_video
    assert discriminator_specs("tiny")[0]["weight"] == 1.0  # a copy was edited
    state = discs.state_dict()
    assert state and all(k.split(".")[0] in {"0", "1"} for k in state)


def test_model_report_tool(tmp_path: Path) -> None:
    out = tmp_path / "rep.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "model_report.py"), "--preset", "tiny",
         "--video-frames", "8", "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(out.read_text())
    gen = rep["generator"]
    assert gen["params"] == sum(m["params"] for m in gen["modules"].values())
    assert all(m["flops"] > 0 for m in gen["modules"].values())  # LSTMs counted too
    assert set(rep["discriminators"]) == {"time_alignment", "multi_window_mel"}
    assert "generator" in proc.stdout


# -- one table: everything that names a preset derives from PRESETS or is checked against it --
def test_preset_names_follow_the_table_and_filter_by_system() -> None:
    assert preset_names() == list(PRESETS)
    for system in {system_spec(name)["name"] for name in PRESETS}:
        names = preset_names(system=system)
        assert names and all(system_spec(n)["name"] == system for n in names)
    assert {"paper", "tiny"} <= set(preset_names(system="varietysound"))
    assert preset_names(system="nonesuch") == []


def test_every_hydra_preset_selects_a_preset_of_the_table_by_name_only() -> None:
    """``conf/preset/<name>.yaml``: one per preset, naming it, restating none of its model."""
    files = sorted((ROOT / "vs_plugin" / "conf" / "preset").glob("*.yaml"))
    assert {f.stem for f in files} == set(PRESETS)  # vs-train preset=X for every preset
    for path in files:
        model = yaml.safe_load(path.read_text(encoding="utf-8"))["model"]
        assert model == {"preset": path.stem}, path.name  # training settings only besides


def test_no_asset_card_file_restates_the_presets() -> None:
    """The fairseq2 base cards are made from the table (``fairseq2_ext.base_cards``)."""
    assert not list((ROOT / "vs_plugin").rglob("cards/*.yaml"))


def test_check_spec_names_a_misspelt_field_by_its_path() -> None:
    check_spec(generator_spec("tiny", decoder={"n_blocks": 2}), where="model.generator")
    for name in PRESETS:
        check_spec(generator_spec(name))
    bad = generator_spec("tiny", decoder={"n_blcks": 2})
    with pytest.raises(ConfigError, match=r"^model\.generator\.decoder\.n_blcks: decoder 'fft'"):
        check_spec(bad, where="model.generator")
    with pytest.raises(ConfigError, match=r"^generator\.use_backgrond: .*use_background"):
        check_spec(generator_spec("paper", use_backgrond=False))


def test_vs_list_lists_the_presets(capsys: pytest.CaptureFixture[str]) -> None:
    assert list_components.main(["--presets", "--system", "varietysound", "--names"]) == 0
    assert capsys.readouterr().out.split() == preset_names(system="varietysound")
    assert list_components.main(["--presets"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in lines] == list(PRESETS)
    assert "system regnet, generator regnet" in lines[list(PRESETS).index("regnet")]
    assert list_components.main(["--presets", "--system", "nonesuch"]) == 2
    assert "unknown system 'nonesuch'" in capsys.readouterr().err
