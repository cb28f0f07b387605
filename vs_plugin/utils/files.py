"""Atomic writes and Kaldi-style ``key value`` tables (scp files)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from vs_plugin.errors import InputError, OutputError, is_disk_full


def _umask() -> int:
    """The process umask, read without changing it (Linux's /proc; else a quick flip)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ``.<name>.tmp~<pid>.<random><suffix>``: the writer's pid tells a dead attempt from a live one
TEMP_MARK = ".tmp~"
_TEMP_RE = re.compile(r"^\..+" + re.escape(TEMP_MARK) + r"(\d+)\.")
log = logging.getLogger("vs_plugin.files")


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A killed or failing writer leaves no half-written ``path`` behind. Any failure while
    the disk is full (under 1 MiB free) becomes an OutputError naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}{TEMP_MARK}{os.getpid()}.",
        suffix=suffix if suffix is not None else path.suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes 0600 files: give the replaced file's mode,
            try:  # or the usual one for a new file
                mode = stat.S_IMODE(os.stat(path).st_mode)
            except OSError:
                mode = 0o666 & ~_umask()
            os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except Exception as exc:
        # writers report a full disk in many ways (ENOSPC, a short write, an unreadable
        # result that a tool wrote without noticing): judge by the disk itself
        if is_disk_full(exc) or _nearly_full(path.parent):
            raise OutputError(path, "no space left on device; nothing was written") from None
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _nearly_full(folder: Path, margin: int = 1 << 20) -> bool:
    """Less than ``margin`` bytes free where ``folder`` lives (short writes carry no errno)."""
    try:
        return shutil.disk_usage(folder).free < margin
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def is_stale_temporary(path: str | Path) -> bool:
    """True for a temporary file of :func:`atomic_path` whose writer no longer runs."""
    m = _TEMP_RE.match(Path(path).name)
    return bool(m) and not _alive(int(m.group(1)))


def sweep_temporaries(*roots: str | Path) -> list[Path]:
    """Delete the temporary files that killed writers left under ``roots``; return them.

    Only files named by :func:`atomic_path` whose writing process is gone (checked by pid on
    this machine) are touched, so a sweep is safe while other jobs write beside it.
    """
    removed: list[Path] = []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for folder, _dirs, files in os.walk(root):
            for name in files:
                if TEMP_MARK in name and is_stale_temporary(name):
                    path = Path(folder) / name
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path)
    if removed:
        log.info("removed %d temporary file(s) of earlier, interrupted runs", len(removed))
    return removed


def sweep_temporaries_of(path: str | Path) -> list[Path]:
    """Delete dead writers' temporary files for ``path`` only (its folder is not walked)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return []
    removed = []
    for tmp in folder.glob(f".{glob_escape(path.name)}{TEMP_MARK}*"):
        if is_stale_temporary(tmp):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def save_npy_atomic(path: str | Path, array: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)


def read_scp(path: str | Path) -> dict[str, str]:
    """Read ``key value`` lines (value may contain spaces) into an ordered dict."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            key, _, value = line.partition(" ")
            if key in out:
                raise InputError(f"{path}:{lineno}", f"duplicate key {key!r}")
            out[key] = value
    return out


def write_scp(path: str | Path, table: Mapping[str, object] | Iterable[tuple[str, object]]) -> None:
    """Write a sorted ``key value`` table atomically."""
    items = table.items() if isinstance(table, Mapping) else table
    lines = [f"{k} {v}\n" for k, v in sorted(items, key=lambda kv: kv[0])]
    write_text_atomic(path, "".join(lines))
