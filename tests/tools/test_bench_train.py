"""The training benchmark measures what vs-train trains: the same models, optimisers, grad
scalers, schedules and step settings for the same job (both come from engine.initialize)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf

from tests.train.conftest import make_dump
from tools.bench.train import bench_job, build_training
from vs_plugin.models import presets
from vs_plugin.train import engine
from vs_plugin.train.config import TrainJobConfig
from vs_plugin.train.engine import TrainingObjects

PRESET = "tiny"
BATCH = 2
FRAMES = 16  # video frames per clip
CPU = torch.device("cpu")
#: The job keys the benchmark sets itself; every other one is the training default.
BENCH_KEYS = {
    "device", "model.preset", "train.batch_size", "train.amp", "train.compile",
    "loss.shift_min", "loss.shift_max",
}  # fmt: skip


class _Built(Exception):
    """Stops a training run as soon as its objects are built."""


def _resolved(job: Any) -> dict[str, Any]:
    """A job config as flat ``{"a.b": value}``, interpolations resolved."""
    return _flat(OmegaConf.to_container(job, resolve=True))


def _flat(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def _trained_objects(
    dump: Path, exp: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[TrainingObjects, int]:
    """What ``vs-train``'s entry point builds for the preset with every training default
    (stopped before the first iteration), and the epoch length it built the schedules for."""
    seen: dict[str, Any] = {}
    real = engine.initialize

    def record(*args: Any, **kwargs: Any) -> TrainingObjects:
        seen["objs"] = real(*args, **kwargs)
        seen["epoch_length"] = args[3]
        raise _Built

    monkeypatch.setattr(engine, "initialize", record)
    job = {
        "exp_dir": str(exp),
        "dump_dir": str(dump),
        "device": "cpu",
        "model": {"preset": PRESET},
        "train": {"batch_size": BATCH, "num_workers": 0, "progress_bar": False},
    }
    with pytest.raises(_Built):
        engine.train(job)
    return seen["objs"], seen["epoch_length"]


def _shapes(module: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(name, tuple(p.shape)) for name, p in module.named_parameters()]


def test_the_benchmark_job_is_the_training_default_but_for_what_it_measures():
    default = _resolved(OmegaConf.structured(TrainJobConfig))
    for mode in ("fp32", "bf16", "bf16+compile"):
        job = _resolved(bench_job(PRESET, BATCH, FRAMES, CPU, mode))
        assert job.keys() == default.keys()
        changed = {k for k in job if job[k] != default[k]}
        assert changed <= BENCH_KEYS, f"{mode}: the benchmark changes {changed - BENCH_KEYS}"


def test_the_benchmark_builds_what_training_builds(tmp_path, monkeypatch):
    video_dim = presets.generator_spec(PRESET)["video_dim"]
    dump = make_dump(tmp_path / "dump", {"train": 6, "valid": 2}, FRAMES, video_dim=video_dim)
    trained, epoch_length = _trained_objects(dump, tmp_path / "exp", monkeypatch)
    bench = build_training(PRESET, BATCH, FRAMES, CPU, "fp32", epoch_length=epoch_length)

    for key, opt in trained.optimizers().items():
        other = bench.optimizers()[key]
        assert type(other) is type(opt), key
        # lr, betas, eps, weight_decay, foreach/fused and every other flag, per group
        assert other.state_dict() == opt.state_dict(), key
    assert bench.optimizers().keys() == trained.optimizers().keys()
    assert bench.schedulers.keys() == trained.schedulers.keys() == {"sched_g", "sched_d"}
    for key, sched in trained.schedulers.items():
        assert bench.schedulers[key].state_dict() == sched.state_dict(), key
    assert bench.scaler_g.state_dict() == trained.scaler_g.state_dict()
    assert bench.scaler_d.state_dict() == trained.scaler_d.state_dict()

    for ours, theirs in ((bench.generator, trained.generator),
                         (bench.discriminators, trained.discriminators)):  # fmt: skip
        assert _shapes(ours) == _shapes(theirs)
        assert sum(p.numel() for p in ours.parameters()) == sum(
            p.numel() for p in theirs.parameters()
        )
    assert bench.discriminators.names == trained.discriminators.names
    assert bench.discriminators.weights == trained.discriminators.weights
    assert type(bench.system) is type(trained.system)
    # The step's settings, but for the loss's time-shift range (fitted to the clip length).
    assert dataclasses.replace(bench.step.opt, loss=None) == dataclasses.replace(
        trained.step.opt, loss=None
    )


def test_the_step_paths_differ_as_labelled_and_the_last_is_what_training_runs():
    from tools.bench.train import STEP_PATHS, _path_objects

    now = build_training(PRESET, BATCH, FRAMES, CPU, "fp32")
    for name, settings in STEP_PATHS.items():
        objs = _path_objects(PRESET, BATCH, FRAMES, CPU, settings, flush_denormal=True)
        fused = {g["fused"] for o in objs.optimizers().values() for g in o.param_groups}
        assert fused == ({True} if settings["fused_optimizer"] else {None}), name
        alignment = [d for d in objs.step.discriminators if getattr(d, "needs_video", False)]
        assert alignment and all(d.scores_many == settings["scores_many"] for d in alignment)
    # the last path is the training default: the same optimiser flags and discriminator calls
    assert objs.optimizers()["opt_g"].state_dict() == now.optimizers()["opt_g"].state_dict()
    assert all(d.scores_many for d in now.step.discriminators if d.needs_video)
