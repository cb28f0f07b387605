"""``--vocoder-config k=v``: vocoder options from the command line of vs-vocode and vs-generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from vs_plugin.bin import generate, vocode
from vs_plugin.data.cliargs import component_spec
from vs_plugin.infer import vocode as vocode_module
from vs_plugin.models.vocoders.hifigan import HiFiGANVocoder


def test_component_spec_is_the_name_without_overrides_and_a_typed_spec_with_them() -> None:
    assert component_spec("hifigan", []) == "hifigan"
    assert component_spec("hifigan", ["backend=torch", "precision=fp32", "chunk=2"]) == {
        "name": "hifigan",
        "backend": "torch",
        "precision": "fp32",
        "chunk": 2,
    }


def test_vs_vocode_passes_the_options_to_the_registry(monkeypatch, tmp_path: Path) -> None:
    seen = []

    def fake_build(spec, device="auto"):
        seen.append(spec)
        raise SystemExit(0)  # stop before any clip is read

    monkeypatch.setattr(vocode_module, "build_vocoder", fake_build)
    with pytest.raises(SystemExit):
        vocode.main(["--in", str(tmp_path), "--vocoder-config", "backend=torch", "precision=fp32"])
    assert seen == [{"name": "hifigan", "backend": "torch", "precision": "fp32"}]


def test_a_bad_vocoder_option_is_one_line_and_exit_2(capsys, tmp_path: Path) -> None:
    code = vocode.main(["--in", str(tmp_path), "--vocoder-config", "backend=nope"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "backend" in err and "nope" in err


def test_vs_generate_and_vs_demo_take_the_option() -> None:
    from vs_plugin.bin import demo

    for module in (generate, demo):
        args = module.build_parser().parse_args(
            ["--model", "m", "--vocoder-config", "backend=torch"]
            + (["--video", "v", "--reference", "r", "--output", "o"] if module is generate else [])
        )
        assert component_spec(args.vocoder, args.vocoder_config) == {
            "name": "hifigan", "backend": "torch"
        }


def test_the_torch_backend_is_chosen_by_option() -> None:
    voc = vocode_module.build_vocoder(component_spec("hifigan", ["backend=torch"]), "cpu")
    assert isinstance(voc, HiFiGANVocoder) and voc.cfg.backend == "torch"
    with pytest.raises(ValueError, match="backend"):
        vocode_module.build_vocoder(component_spec("hifigan", ["backend=nope"]), "cpu")
