"""The fairseq2 extension: the ``varietysound`` model family, its archs and cards.

fairseq2 discovers :func:`setup_vs_plugin_extension` through the ``fairseq2.extension`` entry
point and calls it inside ``init_fairseq2()``. After that, a model exported by the recipe
(stage 2) loads with ``fairseq2.models.load_model("<card name>")`` as a
:class:`~vs_plugin.models.varietysound.VarietySoundModel`: the generator with its
normalisation statistics and feature spec, fed raw features. This is the only module of
vs_plugin that imports fairseq2 (it pins torch 2.9.1; the rest of vs_plugin runs without
it), and no other module of vs_plugin imports this one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from fairseq2.composition import (
    register_file_assets,
    register_in_memory_assets,
    register_model_family,
)
from fairseq2.runtime.config_registry import ConfigRegistrar
from fairseq2.runtime.dependency import DependencyContainer

from vs_plugin.models.presets import generator_spec, preset_names
from vs_plugin.models.varietysound import VarietySoundModel, VarietySoundModelConfig

FAMILY = "varietysound"
#: The archs: the presets of ``vs_plugin.models.presets`` whose models this family loads end to
#: end, those that the ``varietysound`` GAN system trains (the cascade's halves are not).
ARCHS = tuple(preset_names(system="varietysound"))
#: Extra asset cards (os.pathsep-separated): card files, folders of cards, or exported model
#: folders such as ``exp/<tag>/model`` (their ``card.yaml``).
CARD_PATH_ENV = "VS_PLUGIN_CARD_PATH"


def create_varietysound_model(config: VarietySoundModelConfig) -> VarietySoundModel:
    """fairseq2 model factory: the model with unset statistics (the checkpoint fills them)."""
    return VarietySoundModel.from_config(config)


def arch_config(preset: str) -> VarietySoundModelConfig:
    """The config of a preset: its generator spec and dims, the default features."""
    spec = generator_spec(preset)
    return VarietySoundModelConfig(
        generator=spec, n_mels=int(spec["n_mels"]), video_dim=int(spec["video_dim"])
    )


def _register_archs(container: DependencyContainer) -> None:
    arch = ConfigRegistrar(container, VarietySoundModelConfig)

    def make(preset: str) -> Callable[[], VarietySoundModelConfig]:
        return lambda: arch_config(preset)

    for preset in ARCHS:
        arch(preset)(make(preset))


def base_cards() -> list[dict[str, object]]:
    """The base card of each arch, ``varietysound_<arch>``: its family and arch, no checkpoint.

    A trained generator's card (written by the recipe's stage 2 into
    ``exp/<tag>/model/card.yaml``) names the family and arch plus its checkpoint.
    """
    return [
        {"name": f"{FAMILY}_{arch}", "model_family": FAMILY, "model_arch": arch} for arch in ARCHS
    ]


def _register_card_path(container: DependencyContainer) -> None:
    """The cards named by ``VS_PLUGIN_CARD_PATH`` (an exported folder: its ``card.yaml``)."""
    for entry in filter(None, os.environ.get(CARD_PATH_ENV, "").split(os.pathsep)):
        path = Path(entry)
        if path.is_dir() and (path / "card.yaml").is_file():
            path = path / "card.yaml"  # an exported model folder: its other YAML is no card
        register_file_assets(container, path, not_exist_ok=True)


def setup_vs_plugin_extension(container: DependencyContainer) -> None:
    """Entry point of the ``fairseq2.extension`` group."""
    register_model_family(
        container,
        FAMILY,
        kls=VarietySoundModel,
        config_kls=VarietySoundModelConfig,
        factory=create_varietysound_model,
        supports_meta=False,
    )
    _register_archs(container)
    register_in_memory_assets(container, "vs_plugin", base_cards())
    _register_card_path(container)
