"""The FLOP floor: counted FLOPs of one training iteration and one generation, against the
device's measured dense-matmul rate in the same run."""

from __future__ import annotations

from typing import Any

import torch
from ignite.engine import Engine

from tools.bench.common import count_flops, matmul_rate, median, timed
from tools.bench.train import make_batch, make_step
from vs_plugin.models.presets import build_generator, generator_spec


def bench_floor(preset: str, batch: int, frames: int, device: torch.device,
                repeats: int) -> list[dict[str, Any]]:
    rate = matmul_rate(device, torch.float32)
    rows = []
    torch.manual_seed(0)
    step, vdim, n_mels, up = make_step(preset, device, None, False, frames)
    b = make_batch(batch, frames, vdim, n_mels, up, device)
    engine = Engine(lambda e, x: None)
    engine.state.iteration = 10**6
    flops = count_flops(lambda: step(engine, b))
    sec = median(timed(lambda: step(engine, b), device, repeats))
    rows.append({"what": f"train iteration (batch {batch})", "gflop": flops / 1e9,
                 "seconds": sec, "achieved_gflops": flops / sec / 1e9,
                 "matmul_gflops": rate / 1e9, "floor_fraction": flops / sec / rate})
    gen = build_generator(generator_spec(preset)).to(device).eval()
    video = torch.randn(1, vdim, frames, device=device)
    ref = torch.randn(1, n_mels, frames * up, device=device)
    with torch.inference_mode():
        flops = count_flops(lambda: gen.generate(video, ref))
        sec = median(timed(lambda: gen.generate(video, ref), device, repeats))
    rows.append({"what": "generation (1 clip)", "gflop": flops / 1e9, "seconds": sec,
                 "achieved_gflops": flops / sec / 1e9, "matmul_gflops": rate / 1e9,
                 "floor_fraction": flops / sec / rate})
    return rows
