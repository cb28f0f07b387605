"""Settings of the ``real_sfx`` corpus and the constants its modules share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from vs_plugin.errors import ConfigError

#: categories an adapter can sort sources into; the order is part of the seed scheme
CATEGORY_NAMES = ("kick", "snare", "hihat", "cymbal", "tom", "clap", "cowbell")
#: kept for independent evaluation: never turned into training data here
RESERVED_PACKAGES = ("sonic-pi-samples", "teeworlds-data", "hedgewars-data")
_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.\-]+$")
_SIZE_RE = re.compile(r"^(\d+)x(\d+)$")


@dataclass
class RealSFXCorpusConfig:
    """Settings of the corpus; clip content depends on everything but the counts and paths.

    ``packages`` are Debian binary packages with an adapter in ``sources.ADAPTERS``;
    ``deb_dir`` is where their ``.deb`` files are downloaded and unpacked (``""``: the folder
    ``debs`` beside ``root``). Each clip's container, frame rate and size cycle through
    ``formats`` (names in ``clips.FORMATS``), ``[fps] + frame_rates`` and
    ``[f"{width}x{height}"] + sizes``. ``background_db`` is the noise level relative to the
    events' RMS (0 turns it off). ``max_sources`` caps the sources per category (chosen by
    ``seed``), ``max_layers`` the takes kept per source, ``shot_seconds`` each take's length.
    """

    root: str = "downloads/real_sfx"
    categories: list[str] = field(default_factory=lambda: ["kick", "snare", "hihat", "cymbal"])
    packages: list[str] = field(default_factory=lambda: ["hydrogen-drumkits"])
    deb_dir: str = ""
    n_train: int = 32  # clips per category
    n_valid: int = 4
    n_test: int = 8
    duration: float = 4.0  # seconds
    fps: float = 21.5
    height: int = 256
    width: int = 340
    frame_rates: list[float] = field(default_factory=lambda: [24.0, 25.0, 30.0])
    sizes: list[str] = field(default_factory=lambda: ["320x240", "424x240"])
    formats: list[str] = field(
        default_factory=lambda: ["mp4", "mkv", "webm", "mov", "avi", "mkv_vorbis"]
    )
    sample_rate: int = 22050
    min_events: int = 1
    max_events: int = 4
    gain_db: float = 4.0  # each event's gain is uniform in +-gain_db
    max_sources: int = 12  # per category
    max_layers: int = 8  # takes kept per source (evenly spread over its velocity layers)
    shot_seconds: float = 1.5
    background_db: float = -35.0
    category_pictures: bool = False
    seed: int = 0
    jobs: int = 1  # parallel writer processes


#: fields that do not change any clip's content (a root may be reused with other values)
COUNT_FIELDS = ("root", "n_train", "n_valid", "n_test", "jobs", "categories", "deb_dir")


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` -> ``(width, height)``; ConfigError unless both are even and >= 16."""
    m = _SIZE_RE.match(str(text).strip())
    if not m:
        raise ConfigError(f"real_sfx: size {text!r} is not WIDTHxHEIGHT")
    w, h = int(m.group(1)), int(m.group(2))
    if w % 2 or h % 2 or min(w, h) < 16:
        raise ConfigError(f"real_sfx: size {text!r}: width and height must be even and >= 16")
    return w, h


def check_package(name: str) -> None:
    """ConfigError for a reserved package or a name that is not a Debian package name."""
    if name in RESERVED_PACKAGES:
        raise ConfigError(
            f"real_sfx: package {name!r} is reserved for independent evaluation and is never "
            f"used here (reserved: {', '.join(RESERVED_PACKAGES)})"
        )
    if not _PACKAGE_RE.match(name):
        raise ConfigError(f"real_sfx: {name!r} is not a Debian package name")


def deb_dir_of(cfg: RealSFXCorpusConfig) -> Path:
    """Where ``.deb`` files are cached: ``cfg.deb_dir``, else ``<root>/../debs``."""
    if cfg.deb_dir:
        return Path(cfg.deb_dir).absolute()
    return Path(cfg.root).absolute().parent / "debs"
