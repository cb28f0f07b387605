"""The fairseq2 extension: the ``varietysound`` model family, its archs, cards and registries.

fairseq2 discovers :func:`setup_vs_plugin_extension` through the ``fairseq2.extension`` entry
point and calls it inside ``init_fairseq2()``. After that, a generator exported by the recipe
(stage 2) loads with ``fairseq2.models.load_model("<card name>")``. This is the only module of
vs_plugin that imports fairseq2 (it pins torch 2.9.1; the rest of vs_plugin runs without it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairseq2.composition import (
    register_file_assets,
    register_model_family,
    register_package_assets,
)
from fairseq2.runtime.config_registry import ConfigRegistrar
from fairseq2.runtime.dependency import DependencyContainer, DependencyResolver

from vs_plugin.interfaces import Generator
from vs_plugin.registry import REGISTRIES, Entry, Registry

FAMILY = "varietysound"
ARCHS = ("paper", "tiny")
#: Extra asset cards (os.pathsep-separated): card files, folders of cards, or exported model
#: folders such as ``exp/<tag>/model`` (their ``card.yaml``).
CARD_PATH_ENV = "VS_PLUGIN_CARD_PATH"


def _default_generator_spec() -> dict[str, object]:
    from vs_plugin.models.presets import generator_spec

    return generator_spec("paper")


@dataclass(kw_only=True)
class VarietySoundModelConfig:
    """The generator spec (``{"name": ..., **config}``) that the family factory builds."""

    generator: dict[str, object] = field(default_factory=_default_generator_spec)


def create_varietysound_model(config: VarietySoundModelConfig) -> Generator:
    """fairseq2 model factory: build the generator named by the spec through the registry."""
    from vs_plugin.registry import GENERATORS

    return GENERATORS.build(dict(config.generator))


def _register_archs(container: DependencyContainer) -> None:
    arch = ConfigRegistrar(container, VarietySoundModelConfig)

    def make(preset: str):
        def provider() -> VarietySoundModelConfig:
            from vs_plugin.models.presets import generator_spec

            return VarietySoundModelConfig(generator=generator_spec(preset))

        return provider

    for preset in ARCHS:
        arch(preset)(make(preset))


def _bridge_registries(container: DependencyContainer) -> None:
    """Expose every vs_plugin component as ``resolve(Entry, key="<kind>/<name>")``.

    Providers are lazy: nothing is imported until a key is resolved.
    """

    def provider_for(reg: Registry[Any], name: str):
        def provide(resolver: DependencyResolver) -> Entry:
            return reg.get(name)

        return provide

    for kind, reg in REGISTRIES.items():
        container.register_instance(Registry, reg, key=kind)
        for name in reg.names():
            container.register(Entry, provider_for(reg, name), key=f"{kind}/{name}")


def setup_vs_plugin_extension(container: DependencyContainer) -> None:
    """Entry point of the ``fairseq2.extension`` group."""
    register_model_family(
        container,
        FAMILY,
        kls=Generator,
        config_kls=VarietySoundModelConfig,
        factory=create_varietysound_model,
        supports_meta=False,
    )
    _register_archs(container)
    register_package_assets(container, "vs_plugin.cards")
    for entry in filter(None, os.environ.get(CARD_PATH_ENV, "").split(os.pathsep)):
        path = Path(entry)
        if path.is_dir() and (path / "card.yaml").is_file():
            path = path / "card.yaml"  # an exported model folder: its other YAML is no card
        register_file_assets(container, path, not_exist_ok=True)
    _bridge_registries(container)


def card_checkpoint_path(name: str) -> Path:
    """Where the checkpoint of the card ``name`` lives (initialising fairseq2 if needed)."""
    from fairseq2.assets import get_asset_store

    card = get_asset_store().retrieve_card(name)
    return Path(card.field("checkpoint").as_uri().path)
