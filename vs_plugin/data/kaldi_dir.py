"""Kaldi-style data directories: write, read and validate ``data/<set>/``.

Files (see docs/CONTRACTS.md): ``video.scp``, ``wav.scp``, ``utt2category``,
``category2utt``, optional ``utt2meta``, ``events``, ``utt2timbre`` and ``utt2source``, and
``failed.list``. ``utt2timbre`` names the sound source of a clip (e.g. ``drum/kick``) where the
corpus knows it; the reference-match scorer reads it.
Keys are sorted in C (byte) order and unique, as Kaldi's tools expect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vs_plugin.errors import InputError
from vs_plugin.utils.files import read_scp, write_scp, write_text_atomic

UTT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
REQUIRED = ("video.scp", "wav.scp", "utt2category", "category2utt")


@dataclass
class Record:
    """One conformed utterance of a set."""

    utt: str
    category: str
    video: Path
    wav: Path
    source: Path | None = None
    meta: Path | None = None
    events: list[float] | None = None
    timbre: str | None = None  # the clip's sound-source label, when the corpus knows it


@dataclass
class DataDir:
    path: Path
    records: dict[str, Record] = field(default_factory=dict)

    @property
    def utts(self) -> list[str]:
        return sorted(self.records)


def write_failed(path: str | Path, failures: Iterable[tuple[str | Path, str]]) -> None:
    """``failed.list``: one ``<path>\\t<reason>`` line per rejected input."""
    lines = [f"{p}\t{' '.join(str(r).split())}\n" for p, r in failures]
    write_text_atomic(path, "".join(sorted(lines)))


def write_data_dir(path: str | Path, records: Iterable[Record]) -> Path:
    """Write every table of a set; each file is replaced atomically."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    recs = sorted(records, key=lambda r: r.utt)
    utts = [r.utt for r in recs]
    if len(set(utts)) != len(utts):
        raise InputError(path, "duplicate utterance ids")
    write_scp(path / "video.scp", {r.utt: Path(r.video).absolute() for r in recs})
    write_scp(path / "wav.scp", {r.utt: Path(r.wav).absolute() for r in recs})
    write_scp(path / "utt2category", {r.utt: r.category for r in recs})
    by_cat: dict[str, list[str]] = {}
    for r in recs:
        by_cat.setdefault(r.category, []).append(r.utt)
    write_scp(path / "category2utt", {c: " ".join(sorted(u)) for c, u in by_cat.items()})
    optional = {
        "utt2source": {r.utt: Path(r.source).absolute() for r in recs if r.source},
        "utt2meta": {r.utt: Path(r.meta).absolute() for r in recs if r.meta},
        "events": {
            r.utt: " ".join(f"{t:.4f}" for t in r.events) for r in recs if r.events is not None
        },
        "utt2timbre": {r.utt: r.timbre for r in recs if r.timbre},
    }
    for name, table in optional.items():
        if table:
            write_scp(path / name, table)
        elif (path / name).exists():
            (path / name).unlink()  # a stale table from an earlier run would mislead
    return path


def read_data_dir(path: str | Path) -> DataDir:
    """Read a set written by :func:`write_data_dir` (after :func:`validate_data_dir`)."""
    path = Path(path)
    video = read_scp(path / "video.scp")
    wav = read_scp(path / "wav.scp")
    cats = read_scp(path / "utt2category")
    source = read_scp(path / "utt2source") if (path / "utt2source").exists() else {}
    meta = read_scp(path / "utt2meta") if (path / "utt2meta").exists() else {}
    events = read_scp(path / "events") if (path / "events").exists() else {}
    timbre = read_scp(path / "utt2timbre") if (path / "utt2timbre").exists() else {}
    out = DataDir(path)
    for utt in video:
        ev = events.get(utt)
        out.records[utt] = Record(
            utt=utt,
            category=cats.get(utt, ""),
            video=Path(video[utt]),
            wav=Path(wav.get(utt, "")),
            source=Path(source[utt]) if utt in source else None,
            meta=Path(meta[utt]) if utt in meta else None,
            events=[float(x) for x in ev.split()] if ev is not None else None,
            timbre=timbre.get(utt),
        )
    return out


def _keys_in_order(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.split(" ", 1)[0] for line in f if line.strip()]


def validate_data_dir(path: str | Path, *, check_files: bool = True) -> list[str]:
    """Every problem of a data dir, one line each (empty list = valid)."""
    path = Path(path)
    problems: list[str] = []
    for name in REQUIRED:
        if not (path / name).is_file():
            problems.append(f"{path / name}: missing")
    if problems:
        return problems
    tables: dict[str, Mapping[str, str]] = {}
    for name in (
        "video.scp",
        "wav.scp",
        "utt2category",
        "utt2meta",
        "events",
        "utt2timbre",
        "utt2source",
    ):
        f = path / name
        if not f.is_file():
            continue
        keys = _keys_in_order(f)
        if keys != sorted(keys):
            problems.append(f"{f}: not sorted by utterance id (C order)")
        try:
            tables[name] = read_scp(f)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        bad = [k for k in tables[name] if not UTT_RE.match(k)]
        if bad:
            problems.append(f"{f}: utterance ids with unsafe characters, e.g. {bad[0]!r}")
    if problems:
        return problems
    utts = set(tables["video.scp"])
    for name, table in tables.items():
        if name in ("video.scp", "utt2meta", "events", "utt2timbre", "utt2source"):
            extra = set(table) - utts
        else:
            extra = set(table) ^ utts
        if extra:
            problems.append(
                f"{path / name}: ids differ from video.scp ({len(extra)}, e.g. {min(extra)!r})"
            )
    c2u = read_scp(path / "category2utt")
    listed: dict[str, str] = {}
    for cat, members in c2u.items():
        for u in members.split():
            listed[u] = cat
    if listed != tables["utt2category"]:
        problems.append(f"{path / 'category2utt'}: does not match utt2category")
    if check_files:
        for name in ("video.scp", "wav.scp", "utt2meta"):
            for utt, p in tables.get(name, {}).items():
                if not Path(p).is_file():
                    problems.append(f"{path / name}: {utt}: file not found: {p}")
                    break
    return problems
