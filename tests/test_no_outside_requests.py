"""No code path of vs_plugin sends anything out, imports OpenVINO's usage reporting, or forks
while other threads run (a fork from a threaded process can deadlock on a lock another thread
held: a test run once hung that way).

The checks run in a child interpreter with the variables that make OpenVINO's reporting turn
itself off in CI removed, and with an empty home folder (no earlier opt-out on file), so they
see what a new user's first run sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The child records (and refuses) every connection to a non-loopback address, every name lookup
# of a non-local host and every fork while more than one thread runs, then exercises the paths
# that touch OpenVINO: the import, a cold-cache graph conversion through vs_plugin's own module,
# OpenVINO's converter called directly (as tests and user code may), and the sound-effects
# embedding scorer's OpenVINO path.
CHILD = textwrap.dedent(
    r"""
    import ipaddress, json, os, socket, sys, threading

    seen = {"connect": [], "lookup": [], "fork_with_threads": []}

    def _loopback(host):
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return str(host) in ("localhost", "")

    def hook(event, args):
        if event == "socket.connect":
            addr = args[1]
            if isinstance(addr, tuple) and not _loopback(addr[0]):
                seen["connect"].append(repr(addr))
                raise OSError("outside connection refused by the test")
        elif event == "socket.getaddrinfo":
            if not _loopback(args[0]):
                seen["lookup"].append(repr(args[0]))
                raise OSError("outside lookup refused by the test")

    sys.addaudithook(hook)
    os.register_at_fork(
        before=lambda: threading.active_count() > 1
        and seen["fork_with_threads"].append(threading.active_count())
    )

    import numpy as np
    import torch

    import vs_plugin  # noqa: F401
    from vs_plugin.utils import runtimes

    ov = runtimes.import_openvino()
    net = torch.nn.Sequential(torch.nn.Conv1d(4, 8, 3, padding=1), torch.nn.ReLU()).eval()
    module = runtimes.OpenVINOModule(
        net, torch.zeros(1, 4, 16), network="no-telemetry", digest="0", graph_format=1
    )
    module(np.zeros((1, 4, 16), np.float32))
    import openvino  # direct import after vs_plugin, as a test or a user may write it

    model = openvino.convert_model(net, example_input=torch.zeros(1, 4, 8))
    openvino.Core().compile_model(model, "CPU")

    from vs_plugin.scoring import sfx

    wav = (0.1 * np.sin(np.arange(22050 * 2) * 0.05)).astype(np.float32)
    sfx.embed(wav, 22050, backend="openvino")

    seen["telemetry_imported"] = sys.modules.get("openvino_telemetry") is not None
    seen["threads_at_end"] = threading.active_count()
    print("RESULT " + json.dumps(seen))
    """
)


@pytest.mark.timeout(300)
def test_no_telemetry_no_outside_connection_no_fork_from_threads(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=str(tmp_path / "xdg"),
        VS_PLUGIN_CACHE_DIR=str(tmp_path / "cache"),  # a cold cache: the graph is converted
        PYTHONPATH=str(REPO),
    )
    (tmp_path / "home").mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=150,  # a deadlocked fork hangs: fail instead
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    seen = json.loads(line[len("RESULT ") :])
    assert not seen["telemetry_imported"], "openvino_telemetry was imported"
    assert seen["connect"] == [] and seen["lookup"] == [], seen
    assert seen["fork_with_threads"] == [], seen
    # OpenVINO's reporting would have written its consent and client-id files under HOME
    assert not any((tmp_path / "home").rglob("*")), sorted((tmp_path / "home").rglob("*"))


def test_the_block_is_what_keeps_telemetry_out(tmp_path):
    """Without vs_plugin's block, importing OpenVINO's converter loads the reporting module:
    the test above would see it (it is not passing for lack of the package)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")}
    env["HOME"] = str(tmp_path)
    code = (
        "import sys, openvino, openvino.tools.ovc.telemetry_utils as t; "
        "print(sys.modules.get('openvino_telemetry') is not None)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "True"
