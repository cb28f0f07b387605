"""Package adapters: an unpacked package -> sound sources, each with its recordings.

A *source* is one physical sound source recorded one or more times (a drum kit's instrument:
its velocity layers are takes of the same drum). Every adapter returns :class:`Source`
records with a category from :data:`~vs_plugin.data.real_sfx.config.CATEGORY_NAMES` (or
skips what fits none); :data:`ADAPTERS` maps a Debian package name to its adapter, so a new
package (e.g. ``openttd-opensfx``) is one function and one entry.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zlib import crc32

import numpy as np

from vs_plugin.data.real_sfx.config import CATEGORY_NAMES
from vs_plugin.data.real_sfx.fetch import Package
from vs_plugin.errors import ConfigError

log = logging.getLogger("vs_plugin.real_sfx")
AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".ogg")


@dataclass(frozen=True)
class Source:
    """One sound source of a package: ``id`` is ``<kit>/<instrument>`` for drum kits.

    ``layers`` are the recordings (paths inside the package, relative to its unpacked tree),
    in the package's order (soft to hard for velocity layers); ``licence`` is one line.
    """

    category: str
    id: str
    package: str
    version: str
    licence: str
    layers: tuple[str, ...]

    @property
    def label(self) -> str:
        """``<category>/<id>`` with whitespace turned into ``_`` (the ``utt2timbre`` label)."""
        return "_".join(f"{self.category}/{self.id}".split())


# -- instrument names -> categories ----------------------------------------------------------
#: first match wins; ``(category, pattern, unless)`` on the lower-cased instrument name
CATEGORY_RULES: tuple[tuple[str, str, str | None], ...] = (
    ("kick", r"kick|bass ?drum|bassdrum", None),
    ("snare", r"snare", r"roll|rim"),
    ("hihat", r"hat|\bhh\b", None),
    ("cymbal", r"crash|ride|splash|china|cymbal", None),
    ("tom", r"\btom|(floor|hi|lo|low|mid|high)tom", None),
    ("clap", r"clap", None),
    ("cowbell", r"cow ?bell", None),
)
assert tuple(dict.fromkeys(c for c, _, _ in CATEGORY_RULES)) == CATEGORY_NAMES


def categorise(name: str) -> str | None:
    """The category of an instrument called ``name`` (keyword rules), or None."""
    low = " ".join(name.lower().replace("_", " ").replace("-", " ").split())
    for category, pattern, unless in CATEGORY_RULES:
        if re.search(pattern, low) and not (unless and re.search(unless, low)):
            return category
    return None


# -- hydrogen-drumkits -----------------------------------------------------------------------
HYDROGEN_KITS = Path("usr/share/hydrogen/data/drumkits")


def _strip_namespaces(root: ET.Element) -> ET.Element:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _kit_sources(pkg: Package, kit_dir: Path) -> list[Source]:
    xml = kit_dir / "drumkit.xml"
    try:
        root = _strip_namespaces(ET.parse(xml).getroot())
    except (OSError, ET.ParseError) as exc:
        log.warning("%s: skipped (unreadable drumkit.xml: %s)", kit_dir.name, exc)
        return []
    licence = " ".join((root.findtext("license") or "").split())
    licence = licence or f"see {pkg.copyright_in_package}"
    kit_real = kit_dir.resolve()
    out: list[Source] = []
    taken: set[str] = set()
    for inst in root.iter("instrument"):
        name = " ".join((inst.findtext("name") or "").split())
        category = categorise(name) if name else None
        if category is None:
            continue
        layers: list[str] = []
        for el in inst.iter("filename"):
            rel = (el.text or "").strip()
            path = (kit_dir / rel).resolve()
            if not rel or not path.is_relative_to(kit_real) or not path.is_file():
                continue  # empty slot, a path outside the kit, or a file the package lacks
            if path.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            inside = (kit_dir / rel).relative_to(pkg.tree).as_posix()
            if inside not in layers:
                layers.append(inside)
        if not layers:
            continue
        sid, n = f"{kit_dir.name}/{name}", 1
        while sid in taken:
            n += 1
            sid = f"{kit_dir.name}/{name} ({n})"
        taken.add(sid)
        out.append(Source(category, sid, pkg.name, pkg.version, licence, tuple(layers)))
    return out


def hydrogen_sources(pkg: Package) -> list[Source]:
    """Every instrument of every kit in ``usr/share/hydrogen/data/drumkits/`` that a keyword
    rule puts in a category, with the sample files its ``drumkit.xml`` lists (old layout:
    ``<instrument><filename>``, newer: ``<layer><filename>``, any namespace)."""
    kits = pkg.tree / HYDROGEN_KITS
    if not kits.is_dir():
        raise ConfigError(f"real_sfx: {pkg.deb} has no {HYDROGEN_KITS}/ (not hydrogen-drumkits?)")
    out: list[Source] = []
    for kit_dir in sorted(p for p in kits.iterdir() if (p / "drumkit.xml").is_file()):
        out += _kit_sources(pkg, kit_dir)
    return out


Adapter = Callable[[Package], list[Source]]
#: Debian package -> the function that lists its sources
ADAPTERS: dict[str, Adapter] = {"hydrogen-drumkits": hydrogen_sources}


def adapter_for(package: str) -> Adapter:
    """The adapter of ``package``; ConfigError naming the packages that have one."""
    if package not in ADAPTERS:
        raise ConfigError(
            f"real_sfx: no adapter for package {package!r}; known: {', '.join(ADAPTERS)}"
        )
    return ADAPTERS[package]


# -- choices -----------------------------------------------------------------------------
def category_seed(category: str) -> int:
    """A stable number for a category name (its position when known, else a checksum)."""
    if category in CATEGORY_NAMES:
        return CATEGORY_NAMES.index(category)
    return 1000 + crc32(category.encode("utf-8"))


def candidate_order(sources: Sequence[Source], category: str, seed: int) -> list[Source]:
    """``category``'s sources in a fixed random order (by ``seed``): the first usable ones
    up to ``max_sources`` make the corpus."""
    mine = sorted((s for s in sources if s.category == category), key=lambda s: (s.package, s.id))
    rng = np.random.default_rng([seed, category_seed(category), 11])
    return [mine[int(i)] for i in rng.permutation(len(mine))]


def spread(items: Sequence[str], limit: int) -> list[str]:
    """At most ``limit`` of ``items``, evenly spread over the list (first and last kept)."""
    if limit <= 0 or len(items) <= limit:
        return list(items)
    if limit == 1:
        return [items[len(items) // 2]]
    idx = np.round(np.linspace(0, len(items) - 1, limit)).astype(int)
    return [items[int(i)] for i in dict.fromkeys(idx.tolist())]
