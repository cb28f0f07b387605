"""Kaldi-style data directories: write, read and validate ``data/<set>/``.

Files (see docs/CONTRACTS.md): ``video.scp``, ``wav.scp``, ``utt2category``,
``category2utt``, optional ``utt2meta``, ``events``, ``utt2timbre`` and ``utt2source``, and
``failed.list``. ``utt2timbre`` names the sound source of a clip (e.g. ``drum/kick``) where the
corpus knows it; the reference-match scorer reads it.
Keys are sorted in C (byte) order and unique, as Kaldi's tools expect.

This module is the one reader and writer of these tables, wherever they lie: in ``data/<set>``,
as copies in a dump set (stage 1 copies the labels there) and, for ``wav.scp``, in an
inference folder (``exp/<tag>/infer_<set>_<policy>``). Other modules name the files through
the constants below and read them with :func:`read_data_dir`, :func:`read_table` or
:func:`read_wav_scp`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vs_plugin.errors import InputError
from vs_plugin.utils.files import read_scp, write_scp, write_text_atomic

UTT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

VIDEO_SCP = "video.scp"
WAV_SCP = "wav.scp"
UTT2CATEGORY = "utt2category"
CATEGORY2UTT = "category2utt"
UTT2SOURCE = "utt2source"
UTT2META = "utt2meta"
EVENTS = "events"
UTT2TIMBRE = "utt2timbre"
FAILED_LIST = "failed.list"

#: the tables every set has (``validate_data_dir`` checks them)
REQUIRED = (VIDEO_SCP, WAV_SCP, UTT2CATEGORY, CATEGORY2UTT)
#: the tables :func:`read_data_dir` reads, with the :class:`DataDir` field of each
TABLES = {
    VIDEO_SCP: "video",
    WAV_SCP: "wav",
    UTT2CATEGORY: "category",
    UTT2SOURCE: "source",
    UTT2META: "meta",
    EVENTS: "events",
    UTT2TIMBRE: "timbre",
}
#: what stage 1 needs of a set: its media and categories
MEDIA = (VIDEO_SCP, WAV_SCP, UTT2CATEGORY)
#: what scoring needs of a set: its sound and categories (a set may have no videos)
SOUND = (WAV_SCP, UTT2CATEGORY)
#: the labels stage 1 copies into a dump set, so that datasets can be read from it alone (with
#: any --data-dir: the dataset's fallback to ``data/<set>`` assumes the default folder name)
DUMP_LABELS = (UTT2CATEGORY, UTT2TIMBRE, EVENTS, UTT2META)
#: the labels a dataset reads (from its dump set, else from the matching data dir)
LABELS = (UTT2CATEGORY, UTT2TIMBRE, UTT2META, EVENTS)


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
    """A set as read by :func:`read_data_dir`: each table as ``{utt: value}``.

    ``video``, ``wav``, ``source``: paths as written; ``category``, ``timbre``: labels;
    ``meta``: a ground-truth JSON file (or inline JSON, see :meth:`meta_of`); ``events``:
    event times in seconds, sorted. A table the set lacks (or that was not asked for) is
    empty; ``files`` maps each table read to the file it came from.
    """

    path: Path
    video: dict[str, str] = field(default_factory=dict)
    wav: dict[str, str] = field(default_factory=dict)
    category: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    events: dict[str, list[float]] = field(default_factory=dict)
    timbre: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def file(self, name: str) -> Path:
        """Where table ``name`` was read from (``<path>/<name>`` when it was not read)."""
        return self.files.get(name, self.path / name)

    @property
    def utts(self) -> list[str]:
        """The set's utterances: the ids of ``video.scp``, sorted (none if it was not read)."""
        return sorted(self.video)

    def record(self, utt: str) -> Record:
        """The :class:`Record` of one utterance of ``video.scp``.

        Raises InputError naming ``video.scp`` when ``utt`` is not there.
        """
        if utt not in self.video:
            raise InputError(self.file(VIDEO_SCP), f"{utt}: not listed")
        return Record(
            utt=utt,
            category=self.category.get(utt, ""),
            video=Path(self.video[utt]),
            wav=Path(self.wav.get(utt, "")),
            source=Path(self.source[utt]) if utt in self.source else None,
            meta=Path(self.meta[utt]) if utt in self.meta else None,
            events=self.events.get(utt),
            timbre=self.timbre.get(utt),
        )

    @property
    def records(self) -> dict[str, Record]:
        """One :class:`Record` per utterance of ``video.scp``, in file order (built anew)."""
        return {utt: self.record(utt) for utt in self.video}

    def meta_of(self, utt: str) -> dict[str, Any]:
        """The ground truth of ``utt``: its ``utt2meta`` JSON file, or the inline JSON there.

        Raises InputError naming ``utt2meta`` when ``utt`` has no entry, or the file is
        missing or not JSON.
        """
        where = self.file(UTT2META)
        if utt not in self.meta:
            raise InputError(where, f"{utt}: no ground truth")
        value = self.meta[utt]
        try:
            if value.lstrip().startswith("{"):
                return json.loads(value)
            return json.loads(Path(value).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(where, f"{utt}: unreadable ground truth {value!r} ({exc})") from None


def read_table(path: str | Path) -> dict[str, str]:
    """A Kaldi-style ``key value`` table, in file order.

    Raises InputError naming the file when it is missing or not UTF-8 text, or naming the
    file and line of a key listed twice.
    """
    path = Path(path)
    try:
        return read_scp(path)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a table") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None


def _events(path: Path) -> dict[str, list[float]]:
    """``utt t1 t2 ...`` (seconds) -> ``{utt: sorted times}`` (a line with no times: none)."""
    out: dict[str, list[float]] = {}
    for utt, value in read_table(path).items():
        try:
            out[utt] = sorted(float(t) for t in value.split())
        except ValueError:
            raise InputError(path, f"{utt}: event times must be numbers, got {value!r}") from None
    return out


def read_data_dir(
    path: str | Path,
    *,
    required: Collection[str] = MEDIA,
    optional: Collection[str] | None = None,
    fallback: str | Path | None = None,
) -> DataDir:
    """Read the tables of a set (written by :func:`write_data_dir`).

    ``required`` tables must exist; ``optional`` ones (default: every other table of
    ``TABLES``) are read when present. A table missing in ``path`` is read from ``fallback``
    where that folder has it (a dump set falls back on its ``data/<set>``).

    Raises InputError naming the folder when it does not exist, or naming the file when a
    required table is missing or a table is malformed.
    """
    path = Path(path)
    if optional is None:
        optional = [n for n in TABLES if n not in required]
    unknown = sorted((set(required) | set(optional)) - set(TABLES))
    if unknown:
        raise ValueError(f"not tables of a data dir: {unknown}")
    if not path.is_dir():
        raise InputError(path, "data directory not found")
    folders = [path] if fallback is None else [path, Path(fallback)]
    out = DataDir(path)
    for name in TABLES:
        if name not in required and name not in optional:
            continue
        file = next((d / name for d in folders if (d / name).is_file()), None)
        if file is None:
            if name in required:
                raise InputError(path / name, "file not found")
            continue
        setattr(out, TABLES[name], _events(file) if name == EVENTS else read_table(file))
        out.files[name] = file
    return out


def read_wav_scp(folder: str | Path) -> dict[str, str]:
    """``<folder>/wav.scp`` (a set's recordings, or an inference folder's outputs).

    Raises InputError naming the file when it is missing or malformed.
    """
    return read_table(Path(folder) / WAV_SCP)


def write_wav_scp(folder: str | Path, wavs: Mapping[str, str | Path]) -> Path:
    """Write ``<folder>/wav.scp`` (atomically, keys in C order); returns its path."""
    path = Path(folder) / WAV_SCP
    write_scp(path, wavs)
    return path


def copy_labels(
    data_dir: str | Path,
    dest: str | Path,
    utts: Collection[str],
    names: Iterable[str] = DUMP_LABELS,
) -> None:
    """Copy the rows of ``utts`` of each table ``names`` that ``data_dir`` has into ``dest``.

    Values are copied verbatim. Raises InputError naming a malformed table.
    """
    for name in names:
        src = Path(data_dir) / name
        if src.is_file():
            write_scp(Path(dest) / name, {k: v for k, v in read_table(src).items() if k in utts})


def write_failed(path: str | Path, failures: Iterable[tuple[str | Path, str]]) -> None:
    """``failed.list``: one ``<path>\\t<reason>`` line per rejected input."""
    lines = [f"{p}\t{' '.join(str(r).split())}\n" for p, r in failures]
    write_text_atomic(path, "".join(sorted(lines)))


def write_data_dir(path: str | Path, records: Iterable[Record]) -> Path:
    """Write every table of a set; each file is replaced atomically.

    Raises InputError when two records share an utterance id.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    recs = sorted(records, key=lambda r: r.utt)
    utts = [r.utt for r in recs]
    if len(set(utts)) != len(utts):
        raise InputError(path, "duplicate utterance ids")
    write_scp(path / VIDEO_SCP, {r.utt: Path(r.video).absolute() for r in recs})
    write_wav_scp(path, {r.utt: Path(r.wav).absolute() for r in recs})
    write_scp(path / UTT2CATEGORY, {r.utt: r.category for r in recs})
    by_cat: dict[str, list[str]] = {}
    for r in recs:
        by_cat.setdefault(r.category, []).append(r.utt)
    write_scp(path / CATEGORY2UTT, {c: " ".join(sorted(u)) for c, u in by_cat.items()})
    optional = {
        UTT2SOURCE: {r.utt: Path(r.source).absolute() for r in recs if r.source},
        UTT2META: {r.utt: Path(r.meta).absolute() for r in recs if r.meta},
        EVENTS: {
            r.utt: " ".join(f"{t:.4f}" for t in r.events) for r in recs if r.events is not None
        },
        UTT2TIMBRE: {r.utt: r.timbre for r in recs if r.timbre},
    }
    for name, table in optional.items():
        if table:
            write_scp(path / name, table)
        elif (path / name).exists():
            (path / name).unlink()  # a stale table from an earlier run would mislead
    return path


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
    for name in (VIDEO_SCP, WAV_SCP, UTT2CATEGORY, UTT2META, EVENTS, UTT2TIMBRE, UTT2SOURCE):
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
    utts = set(tables[VIDEO_SCP])
    for name, table in tables.items():
        if name in (VIDEO_SCP, UTT2META, EVENTS, UTT2TIMBRE, UTT2SOURCE):
            extra = set(table) - utts
        else:
            extra = set(table) ^ utts
        if extra:
            problems.append(
                f"{path / name}: ids differ from {VIDEO_SCP} ({len(extra)}, e.g. {min(extra)!r})"
            )
    c2u = read_scp(path / CATEGORY2UTT)
    listed: dict[str, str] = {}
    for cat, members in c2u.items():
        for u in members.split():
            listed[u] = cat
    if listed != tables[UTT2CATEGORY]:
        problems.append(f"{path / CATEGORY2UTT}: does not match {UTT2CATEGORY}")
    if check_files:
        for name in (VIDEO_SCP, WAV_SCP, UTT2META):
            for utt, p in tables.get(name, {}).items():
                if not Path(p).is_file():
                    problems.append(f"{path / name}: {utt}: file not found: {p}")
                    break
    return problems
