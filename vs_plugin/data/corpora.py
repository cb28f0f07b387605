"""Corpora that list existing videos: VAS (both layouts), a folder per category, a manifest.

Utterance ids are ``<category>-<stem>`` made ASCII-safe (accents folded, anything outside
``[A-Za-z0-9_.-]`` turned into ``_``), unique (a collision gets ``-2``, ``-3``... in sorted
path order) and listed sorted, so every run and every job sees the same ids.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vs_plugin.errors import ConfigError, InputError
from vs_plugin.interfaces import Corpus, CorpusItem
from vs_plugin.registry import CORPORA

VAS_CATEGORIES = ("baby", "cough", "dog", "drum", "fireworks", "gun", "hammer", "sneeze")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv")
SPLITS = ("train", "valid", "test")


def sanitise(text: str) -> str:
    """ASCII, no spaces, safe in Kaldi tables and file names."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    safe = re.sub(r"[^A-Za-z0-9_.\-]+", "_", folded).strip("_.-")
    return safe or "clip"


def assign_utt_ids(entries: Iterable[tuple[Path, str, str | None]]) -> list[CorpusItem]:
    """(path, category, split) -> items with unique sanitised ids, sorted by id."""
    taken: set[str] = set()
    items = []
    for path, category, split in sorted(entries, key=lambda e: (e[1], str(e[0]))):
        base = f"{sanitise(category)}-{sanitise(Path(path).stem)}"
        utt, n = base, 1
        while utt in taken:
            n += 1
            utt = f"{base}-{n}"
        taken.add(utt)
        items.append(CorpusItem(utt=utt, path=Path(path), category=category, split=split))
    return sorted(items, key=lambda i: i.utt)


def _videos_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")
    )


@dataclass
class VASConfig:
    root: str = ""
    categories: list[str] = field(default_factory=lambda: list(VAS_CATEGORIES))
    layout: str = "auto"  # auto | category_first (<root>/<cat>/videos) | videos_first


@CORPORA.register("vas", config=VASConfig)
class VASCorpus(Corpus):
    """VAS: ``<root>/<category>/videos/*.mp4`` or ``<root>/videos/<category>/*.mp4``."""

    def __init__(self, cfg: VASConfig) -> None:
        self.cfg = cfg
        if not cfg.root:
            raise InputError(None, "vas corpus: no root given (set root=/path/to/VAS)")
        self.root = Path(cfg.root)
        if not self.root.is_dir():
            raise InputError(self.root, "VAS root is not a directory")
        if cfg.layout not in ("auto", "category_first", "videos_first"):
            raise ConfigError(f"vas corpus: unknown layout {cfg.layout!r}")

    def _folder(self, category: str) -> Path | None:
        options = {
            "category_first": self.root / category / "videos",
            "videos_first": self.root / "videos" / category,
        }
        if self.cfg.layout != "auto":
            p = options[self.cfg.layout]
            return p if p.is_dir() else None
        return next((p for p in options.values() if p.is_dir()), None)

    def items(self) -> list[CorpusItem]:
        entries = []
        found = []
        for cat in self.cfg.categories:
            folder = self._folder(cat)
            if folder is None:
                continue
            found.append(cat)
            entries += [(p, cat, None) for p in _videos_in(folder)]
        if not found:
            raise InputError(
                self.root,
                f"no VAS category folders found (looked for <root>/<category>/videos and "
                f"<root>/videos/<category> for {', '.join(self.cfg.categories)})",
            )
        return assign_utt_ids(entries)

    def describe(self) -> str:
        return f"VAS at {self.root}"


@dataclass
class FolderConfig:
    root: str = ""
    categories: list[str] = field(default_factory=list)  # empty: every sub-folder


@CORPORA.register("folder", config=FolderConfig)
class FolderCorpus(Corpus):
    """Any corpus laid out as ``<root>/<category>/<video files>``."""

    def __init__(self, cfg: FolderConfig) -> None:
        self.cfg = cfg
        self.root = Path(cfg.root)
        if not cfg.root or not self.root.is_dir():
            raise InputError(
                self.root if cfg.root else None, "folder corpus root is not a directory"
            )

    def items(self) -> list[CorpusItem]:
        cats = self.cfg.categories or sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        entries = []
        for cat in cats:
            folder = self.root / cat
            if folder.is_dir():
                entries += [(p, cat, None) for p in _videos_in(folder)]
        if not entries:
            raise InputError(self.root, "no video files in any category sub-folder")
        return assign_utt_ids(entries)


@dataclass
class ManifestConfig:
    path: str = ""
    base_dir: str = ""  # relative paths are resolved here (default: the manifest's folder)


@CORPORA.register("manifest", config=ManifestConfig)
class ManifestCorpus(Corpus):
    """A CSV/TSV file of ``path, category[, split]`` rows (an optional header is skipped)."""

    def __init__(self, cfg: ManifestConfig) -> None:
        self.cfg = cfg
        self.path = Path(cfg.path)
        if not cfg.path or not self.path.is_file():
            raise InputError(self.path if cfg.path else None, "manifest file not found")

    def items(self) -> list[CorpusItem]:
        text = self.path.read_text(encoding="utf-8-sig")
        delimiter = (
            "\t" if self.path.suffix.lower() == ".tsv" or "\t" in text.split("\n")[0] else ","
        )
        base = Path(self.cfg.base_dir) if self.cfg.base_dir else self.path.parent
        entries = []
        for lineno, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1):
            row = [c.strip() for c in row]
            if not row or not any(row) or row[0].startswith("#"):
                continue
            if lineno == 1 and row[0].lower() in ("path", "file", "video", "filename"):
                continue
            if len(row) < 2 or not row[1]:
                raise InputError(self.path, f"line {lineno}: expected path,category[,split]")
            split = row[2] if len(row) > 2 and row[2] else None
            if split is not None and split not in SPLITS:
                raise InputError(self.path, f"line {lineno}: split {split!r} not in {SPLITS}")
            p = Path(row[0])
            entries.append((p if p.is_absolute() else base / p, row[1], split))
        if not entries:
            raise InputError(self.path, "manifest lists no clips")
        return assign_utt_ids(entries)
