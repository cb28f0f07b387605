"""A nearly full file system for tests: a small tmpfs (needs root; skipped otherwise).

``small_disk`` is an empty 1 MiB tmpfs; ``fill_up(path)`` leaves only ``FREE_BYTES`` free
on it (after a test has put its inputs there); ``full_disk`` is both at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FREE_BYTES = 16 * 1024  # what is left for the code under test


def fill_up(path: str | Path, leave: int = FREE_BYTES) -> None:
    free = shutil.disk_usage(path).free
    (Path(path) / ".filler").write_bytes(b"\0" * max(0, free - leave))


def temporaries(root: str | Path) -> list[Path]:
    """Files under ``root`` named like temporary files (hidden, not the filler)."""
    return [p for p in Path(root).rglob(".*") if p.is_file() and p.name != ".filler"]


@pytest.fixture
def small_disk(tmp_path):
    """A folder on an empty 1 MiB tmpfs; unmounted afterwards."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {out.stderr.strip()}")
    try:
        yield Path(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def full_disk(small_disk):
    """``small_disk`` with only ``FREE_BYTES`` left."""
    fill_up(small_disk)
    return small_disk
