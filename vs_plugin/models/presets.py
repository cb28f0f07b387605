"""Named models: ``paper`` (Table 3), ``tiny`` (same structure, CPU-sized) and the cascade
baseline's halves (``regnet``, ``converter`` and their ``_tiny`` sizes).

A preset is a generator spec plus a list of discriminator specs, all plain dicts that the
registries build; every dimension comes from these dicts and the runtime arguments.

:data:`PRESETS` is the one table of presets. Everything else that names them derives from it
(the fairseq2 archs and base cards, ``vs-list --presets``, the recipe's ``--preset`` check)
or is tested against it (the Hydra training presets, ``vs_plugin/conf/preset/<name>.yaml``,
which hold training settings and select the model by name only).

    spec = generator_spec("tiny", video_dim=512)
    gen = build_generator(spec)
    discs = build_discriminators(discriminator_specs("tiny"), gen.n_mels, gen.video_dim,
                                 gen.upsample)
    discs.weights  # [1.0, 1.0], aligned with the modules
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from vs_plugin.errors import ConfigError
from vs_plugin.interfaces import Discriminator, Generator
from vs_plugin.registry import DISCRIMINATORS, GENERATORS, REGISTRIES, registry

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "generator": {
            "name": "varietysound",
            "temporal_encoder": {"name": "conv_lstm"},
            "acoustic_encoder": {"name": "sgau"},
            "background_encoder": {"name": "energy_mask_lstm"},
            "decoder": {"name": "fft"},
            "n_mels": 80,
            "video_dim": 2048,
            "upsample": 4,
        },
        "discriminators": [
            {"name": "time_alignment", "weight": 1.0},
            {"name": "multi_window_mel", "weight": 1.0},
        ],
    },
    "tiny": {
        "generator": {
            "name": "varietysound",
            "temporal_encoder": {
                "name": "conv_lstm",
                "n_convs": 2,
                "channels": 64,
                "lstm_layers": 1,
                "lstm_hidden": 32,
            },
            "acoustic_encoder": {
                "name": "sgau",
                "n_units": 2,
                "channels": 64,
                "lstm_layers": 1,
                "lstm_hidden": 32,
            },
            "background_encoder": {
                "name": "energy_mask_lstm",
                "lstm_layers": 1,
                "lstm_hidden": 16,
                "out_channels": 8,
            },
            "decoder": {
                "name": "fft",
                "upsample_channels": 64,
                "n_blocks": 1,
                "hidden": 64,
                "heads": 2,
                "conv_filter": 64,
                "dropout": 0.0,
            },
            "n_mels": 80,
            "video_dim": 2048,
            "upsample": 4,
        },
        "discriminators": [
            {
                "name": "time_alignment",
                "weight": 1.0,
                "upsample_channels": 32,
                "mel_channels": 32,
                "n_convs": 2,
                "channels": 32,
            },
            {"name": "multi_window_mel", "weight": 1.0, "channels": 16},
        ],
    },
}


# The cascade baseline's two halves at their published sizes (paper Appendix C), and CPU-sized
# versions of the same structure. Each names the GAN system that trains it.
PRESETS["regnet"] = {
    "system": {"name": "regnet"},
    "generator": {"name": "regnet", "n_mels": 80, "video_dim": 2048, "upsample": 4},
    "discriminators": [{"name": "regnet", "weight": 1.0}],
}
PRESETS["regnet_tiny"] = {
    "system": {"name": "regnet"},
    "generator": {
        "name": "regnet", "n_mels": 80, "video_dim": 2048, "upsample": 4,
        "random_z_dim": 16, "encoder_channels": 128, "decoder_channels": 64,
        "postnet_channels": 64, "auxiliary_dim": 8,
    },
    "discriminators": [
        {"name": "regnet", "weight": 1.0, "video_channels": 64, "joint_channels": 16}
    ],
}  # fmt: skip
PRESETS["converter"] = {
    "system": {"name": "converter"},
    "generator": {"name": "speechsplit_converter", "n_mels": 80, "video_dim": 2048, "upsample": 4},
    "discriminators": [],
}
PRESETS["converter_tiny"] = {
    "system": {"name": "converter"},
    "generator": {
        "name": "speechsplit_converter", "n_mels": 80, "video_dim": 2048, "upsample": 4,
        "content_channels": 64, "rhythm_channels": 32, "pitch_channels": 32,
        "timbre_hidden": 64, "decoder_hidden": 96, "decoder_layers": 2,
    },
    "discriminators": [],
}  # fmt: skip
DEFAULT_SYSTEM = {"name": "varietysound"}


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; a nested spec whose ``name`` changes is replaced, not merged."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        old = out.get(key)
        if (
            isinstance(old, dict)
            and isinstance(value, Mapping)
            and value.get("name", old.get("name")) == old.get("name")
        ):
            out[key] = _merge(old, value)
        else:
            out[key] = copy.deepcopy(dict(value) if isinstance(value, Mapping) else value)
    return out


def _preset(preset: str) -> dict[str, Any]:
    try:
        return PRESETS[preset]
    except KeyError:
        raise KeyError(f"unknown model preset {preset!r}; presets: {', '.join(PRESETS)}") from None


def preset_names(system: str | None = None) -> list[str]:
    """Every preset's name in table order; with ``system``, only the presets it trains."""
    return [name for name in PRESETS if system is None or system_spec(name)["name"] == system]


def generator_spec(preset: str = "paper", **overrides: Any) -> dict[str, Any]:
    """The generator spec of ``preset`` with ``overrides`` merged in (nested dicts merge)."""
    return _merge(_preset(preset)["generator"], overrides)


def discriminator_specs(preset: str = "paper") -> list[dict[str, Any]]:
    """``[{"name": ..., "weight": ..., **config}, ...]`` for ``preset`` (copies)."""
    return copy.deepcopy(_preset(preset)["discriminators"])


def system_spec(preset: str = "paper") -> dict[str, Any]:
    """The GAN system that trains ``preset``'s models (``varietysound`` unless it names one)."""
    return copy.deepcopy(_preset(preset).get("system", DEFAULT_SYSTEM))


def check_spec(spec: Mapping[str, Any], kind: str = "generator", where: str = "") -> None:
    """Raise :class:`ConfigError` naming the first field of ``spec`` its component lacks.

    ``spec`` is a registry spec of ``kind`` (``{"name": ..., **fields}``). A field named after
    a component kind whose value is a spec with a ``name`` (a generator's ``decoder``, ...) is
    checked against that kind's entry in turn. ``where`` is the spec's place in the config
    (``model.generator``), the prefix of the field path in the message; an unknown component
    name is the registry's own error. Building the spec checks the same; this does it without
    building anything, so that a misspelt override fails before a run starts.
    """
    where = where or kind
    entry = registry(kind).get(spec["name"])
    fields = {f.name for f in dataclasses.fields(entry.config_cls)}
    for key, value in spec.items():
        if key == "name":
            continue
        if key not in fields:
            raise ConfigError(
                f"{where}.{key}: {kind} {entry.name!r} has no field {key!r}; its fields are "
                f"{', '.join(sorted(fields))}"
            )
        if key in REGISTRIES and isinstance(value, Mapping) and "name" in value:
            check_spec(value, key, f"{where}.{key}")


def build_generator(spec: Mapping[str, Any] | str) -> Generator:
    """Build a generator from a spec dict (or a preset name)."""
    if isinstance(spec, str) and spec in PRESETS:
        spec = generator_spec(spec)
    return GENERATORS.build(spec)


class DiscriminatorSet(nn.ModuleList):
    """The discriminators of a model, with their loss ``weights`` and ``names`` alongside."""

    def __init__(self, discs: Sequence[Discriminator], weights: Sequence[float], names):
        super().__init__(discs)
        self.weights: list[float] = [float(w) for w in weights]
        self.names: list[str] = list(names)


def build_discriminators(
    specs: Sequence[Mapping[str, Any]], n_mels: int, video_dim: int, upsample: int
) -> DiscriminatorSet:
    """Build every spec (``weight`` is taken off first and kept in ``.weights``)."""
    discs, weights, names = [], [], []
    for spec in specs:
        spec = dict(spec)
        weights.append(spec.pop("weight", 1.0))
        names.append(spec["name"])
        discs.append(DISCRIMINATORS.build(spec, n_mels, video_dim, upsample))
    return DiscriminatorSet(discs, weights, names)
