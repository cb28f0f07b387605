"""Every network builds by name; config overrides apply; unknown fields are rejected."""

from __future__ import annotations

import pytest
import torch

from vs_plugin.registry import (
    ACOUSTIC_ENCODERS,
    BACKGROUND_ENCODERS,
    DECODERS,
    DISCRIMINATORS,
    GENERATORS,
    TEMPORAL_ENCODERS,
    RegistryError,
)

SMALL = {
    "temporal_encoder": ("conv_lstm", {"channels": 16, "n_convs": 1}, (12,)),
    "acoustic_encoder": ("sgau", {"channels": 16, "n_units": 1, "norm_groups": 4}, (10,)),
    "background_encoder": ("energy_mask_lstm", {"lstm_hidden": 8}, (10,)),
    "decoder": ("fft", {"hidden": 16, "upsample_channels": 16, "n_blocks": 1}, (20, 10)),
    "discriminator": ("time_alignment", {"channels": 8, "upsample_channels": 8}, (10, 12, 4)),
    "discriminator2": ("multi_window_mel", {"channels": 8}, (10, 12, 4)),
}
REGS = {
    "temporal_encoder": TEMPORAL_ENCODERS,
    "acoustic_encoder": ACOUSTIC_ENCODERS,
    "background_encoder": BACKGROUND_ENCODERS,
    "decoder": DECODERS,
    "discriminator": DISCRIMINATORS,
    "discriminator2": DISCRIMINATORS,
}
# one field per component, overridden to a non-default value, and where it shows up
OVERRIDES = {
    "conv_lstm": ("out_channels", 5, lambda m: m.out_channels),
    "sgau": ("lstm_hidden", 6, lambda m: m.lstm.hidden),
    "energy_mask_lstm": ("out_channels", 3, lambda m: m.out_channels),
    "fft": ("n_blocks", 3, lambda m: len(m.blocks)),
    "time_alignment": (
        "n_convs",
        3,
        lambda m: sum(isinstance(x, torch.nn.Conv1d) for x in m.convs),
    ),
    "multi_window_mel": ("windows", [16, 8], lambda m: m.windows),
}


@pytest.mark.parametrize("kind", list(SMALL))
def test_build_by_name_with_override_and_unknown_field(kind: str) -> None:
    name, small, args = SMALL[kind]
    reg = REGS[kind]
    assert name in reg.names()
    module = reg.build({"name": name, **small}, *args)
    assert type(module).registered_name == name
    field, value, read = OVERRIDES[name]
    assert read(module) != value  # the default differs, so the override is visible
    module = reg.build({"name": name, **small, field: value}, *args)
    assert read(module) == value
    with pytest.raises(RegistryError, match="unknown config field"):
        reg.build({"name": name, "not_a_field": 1}, *args)


def test_generator_by_name_with_nested_overrides() -> None:
    spec = {
        "name": "varietysound",
        "video_dim": 12,
        "temporal_encoder": {"name": "conv_lstm", "channels": 16, "n_convs": 1, "out_channels": 4},
        "acoustic_encoder": {"name": "sgau", "channels": 16, "n_units": 1, "norm_groups": 4},
        "background_encoder": {"name": "energy_mask_lstm", "lstm_hidden": 8},
        "decoder": {"name": "fft", "hidden": 16, "upsample_channels": 16, "n_blocks": 1},
    }
    gen = GENERATORS.build(spec)
    assert gen.temporal_encoder.out_channels == 4
    assert gen.decoder.in_channels == 4 + 512 + 16
    with pytest.raises(RegistryError, match="unknown config field"):
        GENERATORS.build({"name": "varietysound", "n_bins": 80})
    with pytest.raises(RegistryError, match="unknown config field"):
        GENERATORS.build({**spec, "decoder": {"name": "fft", "hiden": 16}})


def test_decoder_and_generator_upsample_must_agree() -> None:
    with pytest.raises(ValueError, match="upsample"):
        GENERATORS.build(
            {
                "name": "varietysound",
                "upsample": 2,
                "video_dim": 12,
                "temporal_encoder": {"name": "conv_lstm", "channels": 8, "n_convs": 1},
                "acoustic_encoder": {"name": "sgau", "channels": 8, "n_units": 1, "norm_groups": 4},
                "decoder": {"name": "fft", "hidden": 8, "upsample_channels": 8, "n_blocks": 1},
            }
        )
