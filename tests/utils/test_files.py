"""Atomic writes: a killed writer leaves only a temporary file, which the next run sweeps; a
full disk is one error naming the output, with nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from vs_plugin.errors import OutputError
from vs_plugin.utils.files import (
    TEMP_MARK,
    atomic_path,
    is_stale_temporary,
    save_npy_atomic,
    sweep_temporaries,
    sweep_temporaries_of,
)

WRITER = """
import sys, time
from vs_plugin.utils.files import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_bytes(b"half")
    print(tmp, flush=True)
    time.sleep(60)
"""


def killed_writer(target) -> str:
    """Start a writer of ``target``, kill -9 it mid-write; return its temporary file."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                            text=True)
    tmp = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return tmp


def test_a_killed_writer_leaves_a_stale_temporary_that_a_sweep_removes(tmp_path):
    target = tmp_path / "deep" / "x.npy"
    tmp = killed_writer(target)
    assert os.path.exists(tmp) and TEMP_MARK in tmp and not target.exists()
    assert is_stale_temporary(tmp)
    with atomic_path(tmp_path / "live.txt") as live:  # this process's own: never swept
        live.write_text("in progress")
        (tmp_path / ".notes.tmp").write_text("not ours")  # another program's file: kept
        removed = sweep_temporaries(tmp_path)
        assert [str(p) for p in removed] == [tmp]
        assert live.exists() and (tmp_path / ".notes.tmp").exists()
    assert (tmp_path / "live.txt").read_text() == "in progress"


def test_sweeping_one_output_touches_only_its_own_temporaries(tmp_path):
    mine = killed_writer(tmp_path / "out[1].mp4")  # glob characters in the name
    other = killed_writer(tmp_path / "other.mp4")
    assert [str(p) for p in sweep_temporaries_of(tmp_path / "out[1].mp4")] == [mine]
    assert os.path.exists(other)


def test_a_full_disk_names_the_output_and_leaves_nothing(full_disk):
    target = full_disk / "feats" / "big.npy"
    with pytest.raises(OutputError) as err:
        save_npy_atomic(target, np.zeros(1_000_000, np.float32))
    assert err.value.path == target and "no space left" in str(err.value)
    assert "\n" not in str(err.value)
    assert not target.exists() and not [p for p in target.parent.iterdir()]


def test_the_sweep_is_quick_on_a_big_folder(tmp_path):
    for i in range(2000):
        (tmp_path / f"utt{i}.npy").write_bytes(b"")
    t0 = time.perf_counter()
    assert sweep_temporaries(tmp_path) == []
    assert time.perf_counter() - t0 < 5.0  # one walk, no per-file work beyond a name check


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_usual(tmp_path):
    import os

    from vs_plugin.utils.files import atomic_path

    old = tmp_path / "kept.txt"
    old.write_text("old")
    old.chmod(0o640)
    with atomic_path(old) as tmp:
        tmp.write_text("new")
    assert old.read_text() == "new" and (old.stat().st_mode & 0o777) == 0o640
    new = tmp_path / "new.txt"
    with atomic_path(new) as tmp:
        tmp.write_text("x")
    umask = os.umask(0)
    os.umask(umask)
    assert (new.stat().st_mode & 0o777) == 0o666 & ~umask
