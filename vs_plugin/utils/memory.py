"""Keep a long-running process's memory flat: large buffers go back to the system when freed.

glibc serves an allocation above its *mmap threshold* with its own ``mmap`` (returned to the
system by ``free``) and smaller ones from its heap. By default the threshold rises, up to
32 MiB, each time such a block is freed, so a loop that allocates and frees buffers of a few
MiB (decoded frame chunks, generator windows, vocoder chunks) soon serves them from the heap,
which fragments and keeps growing. Fixing the threshold turns that rise off. Measured on
``vs-generate`` (paper-sized model, HiFi-GAN, 2 cores; BENCHMARKS.md): peak RSS grew by
200 MiB from a 10 s to a 60 s video without it, and by 37 MiB with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger("vs_plugin.memory")

M_MMAP_THRESHOLD = -3  # mallopt parameter number (glibc's malloc.h)
DEFAULT_THRESHOLD = 1 << 20  # bytes: buffers of 1 MiB and more are mapped on their own


def fix_mmap_threshold(threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; True when it was set.

    Returns False (and changes nothing) off Linux, on a C library without ``mallopt``, or
    when the call is refused.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, int(threshold)) == 1
    if not ok:
        log.debug("mallopt(M_MMAP_THRESHOLD, %d) was refused", threshold)
    return ok
