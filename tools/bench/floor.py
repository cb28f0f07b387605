"""The FLOP floor: counted FLOPs of one training iteration and one generation, against the
device's measured dense-matmul rate in the same run."""

from __future__ import annotations

from typing import Any

import torch

from tools.bench.common import count_flops, matmul_rate, median, timed
from tools.bench.train import adversarial_engine, build_training, make_batch
from vs_plugin.models.presets import build_generator, generator_spec


def bench_floor(preset: str, batch: int, frames: int, device: torch.device,
                repeats: int) -> list[dict[str, Any]]:
    rate = matmul_rate(device, torch.float32)
    rows = []
    objs = build_training(preset, batch, frames, device, "fp32")
    b = make_batch(batch, frames, objs.generator, device)
    engine = adversarial_engine()
    flops = count_flops(lambda: objs.step(engine, b))
    sec = median(timed(lambda: objs.step(engine, b), device, repeats))
    rows.append({"what": f"train iteration (batch {batch})", "gflop": flops / 1e9,
                 "seconds": sec, "achieved_gflops": flops / sec / 1e9,
                 "matmul_gflops": rate / 1e9, "floor_fraction": flops / sec / rate})
    gen = build_generator(generator_spec(preset)).to(device).eval()
    video = torch.randn(1, gen.video_dim, frames, device=device)
    ref = torch.randn(1, gen.n_mels, frames * gen.upsample, device=device)
    with torch.inference_mode():
        flops = count_flops(lambda: gen.generate(video, ref))
        sec = median(timed(lambda: gen.generate(video, ref), device, repeats))
    rows.append({"what": "generation (1 clip)", "gflop": flops / 1e9, "seconds": sec,
                 "achieved_gflops": flops / sec / 1e9, "matmul_gflops": rate / 1e9,
                 "floor_fraction": flops / sec / rate})
    return rows
