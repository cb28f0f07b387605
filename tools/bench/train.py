"""Training throughput: clips/s and peak memory of one real GAN iteration.

The iteration is the one ``vs-train`` runs: the models, optimisers, grad scalers and step come
from ``vs_plugin.train.engine.initialize`` for a training job built from the preset (every
training default, the mode's ``train.amp`` / ``train.compile``), fed a synthetic batch.
"""

from __future__ import annotations

from typing import Any

import torch
from ignite.engine import Engine
from omegaconf import DictConfig, OmegaConf
from torch import nn

from tools.bench.common import (
    count_flops,
    matmul_rate,
    median,
    peak_memory_mb,
    reset_peak,
    timed,
)
from vs_plugin.models.presets import generator_spec
from vs_plugin.train.config import TrainJobConfig
from vs_plugin.train.engine import TrainingObjects, initialize, resolve_device

#: mode -> the ``train`` settings it sets (autocast dtype, torch.compile of the generator).
MODES: dict[str, dict[str, Any]] = {
    "fp32": {"amp": "none", "compile": False},
    "bf16": {"amp": "bf16", "compile": False},
    "bf16+compile": {"amp": "bf16", "compile": True},
}


def bench_job(preset: str, batch: int, frames: int, device: torch.device, mode: str) -> DictConfig:
    """The training job the benchmark measures: ``TrainJobConfig`` defaults plus the preset,
    ``batch`` clips, the mode's precision and the device.

    The loss's time-shift range is fitted to clips of ``frames`` video frames (the defaults,
    22..430 mel frames, are those of 10 s clips).
    """
    shift_max = max(2, frames * int(generator_spec(preset)["upsample"]) // 2)
    return OmegaConf.merge(
        OmegaConf.structured(TrainJobConfig),
        {
            "device": str(device),
            "model": {"preset": preset},
            "loss": {"shift_min": min(22, shift_max - 1), "shift_max": shift_max},
            "train": {"batch_size": batch, **MODES[mode]},
        },
    )


def build_training(
    preset: str, batch: int, frames: int, device: torch.device, mode: str, epoch_length: int = 1
) -> TrainingObjects:
    """What ``vs-train`` builds for :func:`bench_job` (the preset's feature sizes).

    ``epoch_length`` (iterations per epoch) only shapes the learning-rate schedules.
    """
    job = bench_job(preset, batch, frames, device, mode)
    return initialize(job, None, resolve_device(job.device), epoch_length)


def make_batch(
    batch: int, frames: int, generator: nn.Module, device: torch.device
) -> dict[str, Any]:
    """A fixed random batch sized for ``generator``: ``video`` (B, video_dim, frames) and
    ``mel`` / ``ref_mel`` / ``bg_mel`` (B, n_mels, frames * upsample)."""
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(batch, generator.n_mels, frames * generator.upsample, generator=g)
    return {
        "video": torch.randn(batch, generator.video_dim, frames, generator=g).to(device),
        "mel": mel.to(device),
        "ref_mel": mel.clone().to(device),
        "bg_mel": mel.clone().to(device),
    }


def adversarial_engine() -> Engine:
    """An engine whose iteration is past any warm-up: the step runs the full D + G update."""
    engine = Engine(lambda e, x: None)
    engine.state.iteration = 10**6
    return engine


def _run_mode(preset: str, batch: int, frames: int, device: torch.device, mode: str,
              repeats: int) -> dict[str, Any]:
    objs = build_training(preset, batch, frames, device, mode)
    b = make_batch(batch, frames, objs.generator, device)
    engine = adversarial_engine()
    compiled = MODES[mode]["compile"]
    reset_peak(device)
    times = timed(lambda: objs.step(engine, b), device, repeats=repeats,
                  warmup=3 if compiled else 1)
    flops = None if compiled else count_flops(lambda: objs.step(engine, b))
    sec = median(times)
    amp = objs.amp_dtype
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
        if device.type != "cuda" and MODES[mode] != MODES["fp32"]:
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


#: The training step's speed settings that can take turns in one process, cumulatively. The
#: third, flushing denormals, is a per-thread CPU mode that worker threads take from their
#: creator: it is set once per process (``train-steps --flush-denormal``), not per turn.
STEP_PATHS: dict[str, dict[str, bool]] = {
    "before": {"fused_optimizer": False, "scores_many": False},
    "+fused_optimizer": {"fused_optimizer": True, "scores_many": False},
    "+scores_many": {"fused_optimizer": True, "scores_many": True},
}


def _path_objects(preset: str, batch: int, frames: int, device: torch.device,
                  settings: dict[str, bool], flush_denormal: bool) -> TrainingObjects:
    job = bench_job(preset, batch, frames, device, "fp32")
    job.train.flush_denormal = flush_denormal
    job.train.fused_optimizer = settings["fused_optimizer"]
    objs = initialize(job, None, resolve_device(job.device), 1)
    for d in [*objs.discriminators, *objs.step.discriminators]:
        if getattr(d, "scores_many", False):
            d.scores_many = settings["scores_many"]
    return objs


def bench_step_paths(preset: str, batch: int, frames: int, device: torch.device, rounds: int,
                     steps: int = 3, flush_denormal: bool = True) -> list[dict[str, Any]]:
    """Seconds per training iteration of each :data:`STEP_PATHS` entry, side by side.

    Every path gets its own models and optimisers (same seed, same batch); the paths take
    turns, ``steps`` iterations each, for ``rounds`` rounds, so a slow spell of the machine
    falls on all of them. ``flush_denormal`` is this process's denormal mode, set before any
    torch work (compare it as whole processes). Rows: median s/iter, ratio to ``before``.
    """
    if device.type == "cpu":
        torch.set_flush_denormal(flush_denormal)
    paths = {name: _path_objects(preset, batch, frames, device, s, flush_denormal)
             for name, s in STEP_PATHS.items()}
    b = make_batch(batch, frames, paths["before"].generator, device)
    engine = adversarial_engine()
    times: dict[str, list[float]] = {name: [] for name in paths}
    for objs in paths.values():  # warm-up
        objs.step(engine, b)
    for _ in range(rounds):
        for name, objs in paths.items():
            times[name] += timed(lambda o=objs: o.step(engine, b), device, repeats=steps, warmup=0)
    base = median(times["before"])
    return [
        {"preset": preset, "batch": batch, "video_frames": frames, "path": name,
         "flush_denormal": flush_denormal, "s_per_iter": median(t),
         "clips_per_s": batch / median(t), "ratio_to_before": median(t) / base,
         "iterations": len(t)}
        for name, t in times.items()
    ]
