"""glibc's fixed mmap threshold: a freed multi-MiB buffer goes back to the system at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
import numpy as np
from vs_plugin.utils.memory import fix_mmap_threshold

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
a = np.ones(20 << 20, np.uint8)
del a  # glibc's default raises its mmap threshold to 20 MiB here
before = rss_mib()
b = np.ones(8 << 20, np.uint8)  # 8 MiB, every page touched
del b
print(rss_mib() - before)
"""


def kept_after_free(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True)
    return float(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_freed_buffer_is_returned_only_with_the_fixed_threshold():
    # the default keeps the 8 MiB in its heap (what made vs-generate's RSS creep with length)
    assert kept_after_free("default") > 6.0
    assert kept_after_free("fixed") < 1.0
