"""Training throughput: clips/s and peak memory of one real GAN iteration (GANStep)."""

from __future__ import annotations

from typing import Any

import torch
from ignite.engine import Engine

from tools.bench.common import (
    count_flops,
    matmul_rate,
    median,
    peak_memory_mb,
    reset_peak,
    timed,
)
from vs_plugin.models.presets import (
    build_discriminators,
    build_generator,
    discriminator_specs,
    generator_spec,
)
from vs_plugin.train.engine import GANStep, StepOptions
from vs_plugin.train.losses import LossConfig

MODES = {
    "fp32": (None, False),
    "bf16": (torch.bfloat16, False),
    "bf16+compile": (torch.bfloat16, True),
}


def make_batch(batch: int, frames: int, video_dim: int, n_mels: int, upsample: int,
               device: torch.device) -> dict[str, Any]:
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(batch, n_mels, frames * upsample, generator=g)
    return {
        "video": torch.randn(batch, video_dim, frames, generator=g).to(device),
        "mel": mel.to(device),
        "ref_mel": mel.clone().to(device),
        "bg_mel": mel.clone().to(device),
    }


def make_step(preset: str, device: torch.device, amp: torch.dtype | None, compile_: bool,
              frames: int) -> tuple[GANStep, int, int, int]:
    spec = generator_spec(preset)
    gen = build_generator(spec).to(device)
    discs = build_discriminators(discriminator_specs(preset), gen.n_mels, gen.video_dim,
                                 gen.upsample).to(device)
    weights = list(getattr(discs, "weights", [1.0] * len(discs)))
    names = [type(d).__name__ for d in discs]
    if compile_:
        gen = torch.compile(gen)
        discs = torch.nn.ModuleList([torch.compile(d) for d in discs])
    opt_g = torch.optim.AdamW(gen.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8,
                              fused=device.type == "cuda")
    opt_d = torch.optim.AdamW(discs.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8,
                              fused=device.type == "cuda")
    scaler = torch.amp.GradScaler(device.type, enabled=False)
    scaler_d = torch.amp.GradScaler(device.type, enabled=False)
    shift_max = max(2, frames * int(spec["upsample"]) // 2)
    loss = LossConfig(shift_min=min(22, shift_max - 1), shift_max=shift_max)
    step = GANStep(gen, discs, weights, names, opt_g, opt_d, scaler, scaler_d, device,
                   StepOptions(loss=loss, amp_dtype=amp, detect_anomaly=False))
    return step, int(spec["video_dim"]), int(spec["n_mels"]), int(spec["upsample"])


def _run_mode(preset: str, batch: int, frames: int, device: torch.device, mode: str,
              repeats: int) -> dict[str, Any]:
    amp, compile_ = MODES[mode]
    torch.manual_seed(0)
    step, vdim, n_mels, up = make_step(preset, device, amp, compile_, frames)
    b = make_batch(batch, frames, vdim, n_mels, up, device)
    engine = Engine(lambda e, x: None)
    engine.state.iteration = 10**6  # past any warm-up: the full D + G iteration
    reset_peak(device)
    times = timed(lambda: step(engine, b), device, repeats=repeats, warmup=3 if compile_ else 1)
    flops = None if compile_ else count_flops(lambda: step(engine, b))
    sec = median(times)
    return {
        "preset": preset, "mode": mode, "batch": batch, "video_frames": frames,
        "s_per_iter": sec, "clips_per_s": batch / sec, "peak_mem_mb": peak_memory_mb(device),
        "flops": flops, "matmul_rate": matmul_rate(device, amp or torch.float32),
    }


def bench_train(preset: str, batch: int, frames: int, device: torch.device, modes: list[str],
                repeats: int) -> list[dict[str, Any]]:
    """One row per precision mode; compiled runs reuse the eager FLOP count (same maths)."""
    rows = []
    counted = None
    for mode in modes:
        amp, compile_ = MODES[mode]
        if device.type != "cuda" and (amp is not None or compile_):
            continue
        r = _run_mode(preset, batch, frames, device, mode, repeats)
        flops = r.pop("flops") or counted
        counted = counted or flops
        rate = r.pop("matmul_rate")
        sec = r["s_per_iter"]
        r.update({
            "tflop_per_iter": flops / 1e12 if flops else None,
            "achieved_tflops": flops / sec / 1e12 if flops else None,
            "matmul_tflops": rate / 1e12,
            "floor_fraction": flops / sec / rate if flops else None,
        })
        rows.append(r)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return rows
