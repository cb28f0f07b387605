"""The shared runtime helpers under threads: one build per network, and OpenVINO calls from
several threads give what serial calls give (vs-score scores policies in threads)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from vs_plugin.utils import runtimes


def test_built_once_builds_once_for_many_threads():
    builds = []

    @runtimes.built_once
    def network(name: str) -> object:
        builds.append(name)
        time.sleep(0.05)  # long enough for every thread to arrive while the first builds
        return object()

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: network("a"), range(8)))
    assert builds == ["a"] and all(g is got[0] for g in got)
    assert network("b") is not got[0] and builds == ["a", "b"]
    network.cache_clear()
    network("a")
    assert builds == ["a", "b", "a"]


def test_openvino_module_called_from_threads_equals_serial_calls(graph_cache):
    runtimes.import_openvino()  # required: never skipped
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv1d(4, 8, 3, padding=1), torch.nn.ReLU()).eval()
    module = runtimes.OpenVINOModule(
        net, torch.zeros(1, 4, 16), network="thread-test", digest="0", graph_format=1
    )
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((b, 4, t)).astype(np.float32) for b, t in [(1, 16), (2, 9)] * 6]
    serial = [module(x) for x in inputs]
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(module, x) for x in inputs]
        threaded = [f.result(timeout=60) for f in futures]  # a hang fails here, not forever
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    with torch.no_grad():
        np.testing.assert_allclose(serial[1], net(torch.from_numpy(inputs[1])).numpy(), atol=1e-5)
