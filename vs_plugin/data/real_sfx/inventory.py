"""The corpus's sources per category, chosen once from the packages and then frozen.

``<root>/<category>/sources.json`` lists the category's sources in a fixed random order (by
seed), each with its conditioned one-shots (``<category>/shots/<source>/<NN>.wav``, relative
to the root) and where each came from. It is written after every one-shot, so a root that
has it needs no package any more: reruns and new clips work offline. ``SOURCES.tsv`` and
``LICENSES/`` at the root say where every recording came from and under which licence.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from vs_plugin.data.corpora import sanitise
from vs_plugin.data.real_sfx.config import RealSFXCorpusConfig, deb_dir_of
from vs_plugin.data.real_sfx.fetch import (
    Package,
    SourceFileRow,
    copy_licence,
    fetch_package,
    write_sources_tsv,
)
from vs_plugin.data.real_sfx.shots import make_shot
from vs_plugin.data.real_sfx.sources import Source, adapter_for, candidate_order, spread
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.utils.files import write_text_atomic

log = logging.getLogger("vs_plugin.real_sfx")
INVENTORY = "sources.json"
FEW_SOURCES = 6  # fewer sources than this in a category is worth a warning

Inventory = list[dict]  # [{"id", "label", "package", "version", "licence", "layers": [...]}]


def inventory_path(root: Path, category: str) -> Path:
    return root / category / INVENTORY


def load_inventory(root: Path, category: str) -> Inventory | None:
    """A category's frozen sources, or None when not built yet; InputError if unreadable."""
    path = inventory_path(root, category)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, f"unreadable source list ({exc}); delete it to rebuild") from None
    if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
        raise InputError(path, "not a source list; delete it to rebuild")
    return data


def _digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _build_category(
    cfg: RealSFXCorpusConfig,
    root: Path,
    category: str,
    sources: list[Source],
    trees: dict[str, Path],
) -> Inventory:
    """Condition the first usable sources (in seeded order) up to ``cfg.max_sources``.

    A source whose recordings repeat one of an already chosen source (kits that share
    samples) is skipped, so that two labels never name the same sound.
    """
    chosen: Inventory = []
    seen: set[str] = set()
    folders: set[str] = set()
    for src in candidate_order(sources, category, cfg.seed):
        if len(chosen) >= cfg.max_sources:
            break
        tree = trees[src.package]
        layers = spread(src.layers, cfg.max_layers)
        digests = {_digest(tree / rel) for rel in layers}
        if digests & seen:
            log.info(
                "%s: skipped %s (same recordings as a source already chosen)", category, src.id
            )
            continue
        folder = sanitise(src.id)
        while folder in folders:
            folder += "_"
        made = []
        for k, rel in enumerate(layers):
            shot = f"{category}/shots/{folder}/{k:02d}.wav"
            if make_shot(tree / rel, root / shot, cfg.sample_rate, cfg.shot_seconds):
                made.append({"path": rel, "shot": shot})
        if not made:
            log.warning("%s: skipped %s (no usable recording)", category, src.id)
            continue
        seen |= digests
        folders.add(folder)
        chosen.append(
            {
                "id": src.id,
                "label": src.label,
                "package": src.package,
                "version": src.version,
                "licence": src.licence,
                "layers": made,
            }
        )
    return chosen


def _rows(root: Path) -> list[SourceFileRow]:
    rows = []
    for path in sorted(root.glob(f"*/{INVENTORY}")):
        for s in load_inventory(root, path.parent.name) or []:
            for layer in s["layers"]:
                rows.append(
                    SourceFileRow(
                        category=path.parent.name,
                        source=s["id"],
                        package=s["package"],
                        version=s["version"],
                        licence=s["licence"],
                        path=layer["path"],
                        shot=layer["shot"],
                    )
                )
    return rows


def ensure_inventories(cfg: RealSFXCorpusConfig, root: Path) -> dict[str, Inventory]:
    """Every category's sources, building (fetch, list, condition) the ones not frozen yet.

    Raises ConfigError when a package cannot be fetched or has no adapter, or when a
    category ends up with no usable source.
    """
    missing = [c for c in cfg.categories if load_inventory(root, c) is None]
    if missing:
        packages: list[Package] = [fetch_package(name, deb_dir_of(cfg)) for name in cfg.packages]
        sources: list[Source] = []
        for pkg in packages:
            sources += adapter_for(pkg.name)(pkg)
            copy_licence(pkg, root)
        trees = {pkg.name: pkg.tree for pkg in packages}
        for category in missing:
            inventory = _build_category(cfg, root, category, sources, trees)
            if not inventory:
                raise ConfigError(
                    f"real_sfx: no usable {category} sources in {', '.join(cfg.packages)}"
                )
            if len(inventory) < FEW_SOURCES:
                log.warning(
                    "%s: only %d sources in %s", category, len(inventory), ", ".join(cfg.packages)
                )
            text = json.dumps(inventory, indent=1, ensure_ascii=False) + "\n"
            write_text_atomic(inventory_path(root, category), text)
            log.info("%s: %d sources", category, len(inventory))
        write_sources_tsv(root, _rows(root))
    return {c: load_inventory(root, c) or [] for c in cfg.categories}
