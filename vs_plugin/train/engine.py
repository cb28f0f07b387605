"""Training a GAN system with Ignite: the step, the evaluator and a whole run.

Per iteration: the generator makes its outputs; each discriminator is updated ``disc_steps``
times on the system's discriminator loss (outputs detached); then the generator is updated on
the system's generator loss (discriminators frozen). Warm-up iterations skip the
discriminators. What the generator is fed and every loss belong to the run's GAN system
(``model.system``, a ``vs_plugin.registry.SYSTEMS`` entry: VarietySound's eqs. 1-7 by
default, REGNET, the cascade's converter); nothing here depends on which system it is.

A run has the parts of Ignite's reference examples, each with one owner:
:func:`get_dataflow` (datasets and loaders), :func:`initialize` (models, optimisers, grad
scalers, learning-rate schedules and the step: the only place that decides how a job's
models are optimised, so the training benchmark measures exactly this), :func:`create_evaluator`
/ :func:`create_validation` (validation metrics, best-checkpoint selection) and
:func:`create_trainer` (the trainer and its handlers: schedules, progress, TensorBoard,
validation, checkpoints, export). :func:`run_training` is one process's run, Ignite's
``training(local_rank, config)``; :func:`train` launches it in 1..N processes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import numpy as np
import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, PiecewiseLinear
from ignite.metrics import Loss
from ignite.utils import manual_seed
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.data import DataLoader

from vs_plugin.audio.mel import MelConfig
from vs_plugin.data.dataset import DumpDataset, collate
from vs_plugin.data.layout import feats_scp, feature_dims
from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.features.spec import DumpSpecs, dump_specs
from vs_plugin.interfaces import GANSystem
from vs_plugin.models import presets
from vs_plugin.models.export import export_generator
from vs_plugin.registry import SYSTEMS
from vs_plugin.train import checkpoint as ck
from vs_plugin.train import handlers as H
from vs_plugin.train import losses
from vs_plugin.train import systems as _systems  # noqa: F401  (registers the built-in systems)
from vs_plugin.train import validation as V
from vs_plugin.train.config import TrainJobConfig
from vs_plugin.train.distributed import EpochData, ResumableSampler, launch, pick_backend, unwrap
from vs_plugin.train.schedule import regnet_scheduler
from vs_plugin.utils.files import sweep_temporaries

log = logging.getLogger("vs_plugin.train")


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or Inf: training stops before the bad update is applied."""


@dataclass
class StepOptions:
    """What the step needs from the run's configuration."""

    loss: losses.LossConfig
    disc_steps: int = 1
    generator_warmup_steps: int = 0
    grad_clip: float | None = None
    amp_dtype: torch.dtype | None = None  # autocast dtype on CUDA; None = full precision
    detect_anomaly: bool = True


def move_batch(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    """Tensors to ``device`` (non-blocking from pinned memory); other fields as they are."""
    return {
        k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()
    }


def _all_finite(values: torch.Tensor) -> bool:
    """True when every value is finite on every process (all ranks take the same decision)."""
    bad = (~torch.isfinite(values.detach().float())).any().float()
    if idist.get_world_size() > 1:
        bad = idist.all_reduce(bad, op="MAX")
    return not bool(bad.item())


class GANStep:
    """The trainer's process function: ``engine, batch -> dict of float losses``."""

    def __init__(
        self,
        generator: nn.Module,
        discriminators: Sequence[nn.Module],
        weights: Sequence[float],
        names: Sequence[str],
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer | None,
        scaler_g: torch.amp.GradScaler,
        scaler_d: torch.amp.GradScaler,
        device: torch.device,
        options: StepOptions,
        system: GANSystem | None = None,
    ) -> None:
        self.generator = generator
        # What the step computes comes from the system (initialize passes the job's);
        # without one, the default system with the options' loss weights.
        self.system = system or SYSTEMS.build(presets.DEFAULT_SYSTEM, options.loss)
        self.discriminators = list(discriminators)
        for d in self.discriminators:  # a DDP wrapper must still say what its module wants
            for flag in ("needs_video", "wants_misaligned_negative", "scores_many"):
                setattr(d, flag, bool(getattr(unwrap(d), flag, False)))
        self.weights = list(weights)
        self.names = list(names)
        self.opt_g, self.opt_d = opt_g, opt_d
        self.scaler_g, self.scaler_d = scaler_g, scaler_d
        self.device = device
        self.opt = options

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.opt.amp_dtype is None or self.device.type != "cuda":
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.opt.amp_dtype)

    def _check(self, engine: Engine, named: Mapping[str, torch.Tensor]) -> None:
        if not self.opt.detect_anomaly:
            return
        values = torch.stack([v.detach().float().reshape(()) for v in named.values()])
        if not _all_finite(values):
            shown = ", ".join(f"{k}={float(v):.4g}" for k, v in zip(named, values.cpu()))
            raise NonFiniteLossError(
                f"non-finite loss at iteration {engine.state.iteration} "
                f"(epoch {engine.state.epoch}): {shown}; stopped before the update"
            )

    def _update(
        self,
        loss: torch.Tensor,
        opt: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler,
        params: Sequence[nn.Parameter],
    ) -> None:
        scaler.scale(loss).backward()
        if self.opt.grad_clip:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, self.opt.grad_clip)
        scaler.step(opt)
        scaler.update()

    def __call__(self, engine: Engine, batch: Mapping[str, Any]) -> dict[str, float]:
        b = move_batch(batch, self.device)
        self.generator.train()
        for d in self.discriminators:
            d.train()
        adversarial = bool(self.discriminators) and (
            engine.state.iteration > self.opt.generator_warmup_steps
        )
        with self._autocast():
            outputs = self.system.forward(self.generator, b)
        out: dict[str, torch.Tensor] = {}

        if adversarial:
            d_params = [p for d in self.discriminators for p in d.parameters()]
            detached = {k: v.detach() for k, v in outputs.items()}
            for _ in range(max(1, self.opt.disc_steps)):
                self.opt_d.zero_grad(set_to_none=True)
                with self._autocast():
                    named = self.system.discriminator_losses(
                        self.discriminators, self.weights, self.names, b, detached
                    )
                self._check(engine, named)
                self._update(named["loss_d"], self.opt_d, self.scaler_d, d_params)
            out.update(named)

        self.opt_g.zero_grad(set_to_none=True)
        frozen = [unwrap(d) for d in self.discriminators] if adversarial else []
        for d in frozen:
            d.requires_grad_(False)
        try:
            with self._autocast():
                named_g = self.system.generator_losses(
                    self.generator, frozen, self.weights if frozen else [], b, outputs
                )
            self._check(engine, named_g)
            self._update(
                named_g["loss_g"], self.opt_g, self.scaler_g, list(self.generator.parameters())
            )
        finally:
            for d in frozen:
                d.requires_grad_(True)
        out.update(named_g)
        return {k: float(v.detach()) for k, v in out.items()}


def create_evaluator(
    generator: nn.Module,
    device: torch.device,
    amp_dtype: Any,
    condition: str = "inference",
    system: GANSystem | None = None,
) -> Engine:
    """Validation: the generator in eval mode; ``val_mel_l1`` = the mel L1 over the set.

    ``condition="inference"`` feeds a silent background (the batch's reference is already
    another clip, see ``vs_plugin.train.validation``); ``"reconstruction"`` feeds the clip's
    real background. The output carries the batch for the inference-condition metrics.
    ``system`` decides what the generator is fed (default: the default system).
    """
    system = system or SYSTEMS.build(presets.DEFAULT_SYSTEM)
    if condition not in VALIDATION_CONDITIONS:
        raise ConfigError(
            f"train.validation must be one of {VALIDATION_CONDITIONS}, got {condition!r}"
        )

    def step(engine: Engine, batch: Mapping[str, Any]) -> dict[str, Any]:
        b = move_batch(batch, device)
        model = unwrap(generator)
        model.eval()
        ctx = (
            torch.autocast("cuda", dtype=amp_dtype)
            if amp_dtype is not None and device.type == "cuda"
            else contextlib.nullcontext()
        )
        with torch.no_grad(), ctx:
            fake = system.infer(model, b, condition)
        return {"fake": fake.float(), "real": b["mel"].float(), "batch": batch}

    evaluator = Engine(step)
    Loss(losses.mel_loss, output_transform=lambda o: (o["fake"], o["real"]), device=device).attach(
        evaluator, "val_mel_l1"
    )
    return evaluator


# -- what a job asks for ----------------------------------------------------------------------
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "none": None}
OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}
VALIDATION_CONDITIONS = ("inference", "reconstruction")


@dataclass(frozen=True)
class RunPaths:
    """Where a job reads its features and writes its results."""

    exp: Path  # exp/<tag>: config.yaml, tensorboard/, model/
    checkpoints: Path  # exp/<tag>/checkpoints
    train: Path  # dump/<train_set>: features and the normalisation statistics
    valid: Path  # dump/<valid_set>

    @classmethod
    def of(cls, job: DictConfig) -> RunPaths:
        """The paths of a resolved job config."""
        exp, dump = Path(job.exp_dir), Path(job.dump_dir)
        return cls(exp, exp / "checkpoints", dump / job.data.train_set, dump / job.data.valid_set)


def resolve_device(choice: str) -> torch.device:
    """This process's device for ``job.device`` ("auto", "cpu", "cuda[:i]").

    Any CUDA choice becomes the process's own GPU (``idist.device()``), with cuDNN autotuning.
    """
    device = idist.device() if choice == "auto" else torch.device(choice)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        device = idist.device()
    return device


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``train.amp`` on ``device``: None (full precision) off CUDA."""
    if amp not in AMP_DTYPES:
        raise ConfigError(f"train.amp must be one of {sorted(AMP_DTYPES)}, got {amp!r}")
    return AMP_DTYPES[amp] if device.type == "cuda" else None


def silence_mel(stats_path: Path, mel: MelConfig | None = None) -> np.ndarray:
    """The normalised log-mel of digital silence, per bin ``(n_mels,)``, float32.

    The log-mel (the recorded analysis ``mel``) of an all-zero waveform, passed through the
    training statistics. Raises InputError when the statistics have another bin count.
    """
    from vs_plugin.audio.mel import log_mel

    mel = mel or MelConfig()
    stats = Normalizer.load(stats_path)
    raw = log_mel(np.zeros(8 * mel.n_fft, dtype=np.float32), mel)[:1]
    if raw.shape[1] != stats.dim:
        raise InputError(stats_path, f"{stats.dim} bins; the mel analysis gives {raw.shape[1]}")
    return stats.transform(raw)[0].astype(np.float32)


def model_specs(
    model_cfg: Mapping[str, Any], dims: Mapping[str, int] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The generator spec and the discriminator specs that ``model_cfg`` describes.

    ``dims`` (the features' ``n_mels`` / ``video_dim``) override the preset's; an explicit,
    different value in ``model_cfg.generator`` is an error. Discriminator entries are names
    or dicts; fields they leave out come from the preset's spec of the same name (so an
    ablation only has to list the names it keeps). Nothing is looked up in the registries:
    :func:`check_model` does that.
    """
    preset = model_cfg.get("preset", "paper")
    overrides = dict(model_cfg.get("generator") or {})
    for key, value in (dims or {}).items():
        if key in overrides and overrides[key] != value:
            raise ConfigError(
                f"model.generator.{key}={overrides[key]} but the features have {key}={value}"
            )
        overrides[key] = value
    gspec = presets.generator_spec(preset, **overrides)
    chosen = model_cfg.get("discriminators")
    base = {s["name"]: s for s in presets.discriminator_specs(preset)}
    if chosen is None:
        return gspec, list(base.values())
    dspecs = []
    for item in chosen:
        item = {"name": item} if isinstance(item, str) else dict(item)
        dspecs.append({"weight": 1.0, **base.get(item["name"], {}), **item})
    return gspec, dspecs


def check_model(model_cfg: Mapping[str, Any]) -> None:
    """A ConfigError naming a generator field its component does not have, before any run.

    ``model.generator`` takes any key without Hydra's ``+`` (``vs_plugin.train.config``), so a
    misspelt ``model.generator.decoder.n_blcks`` is caught here, against the components'
    configs; an unknown component name is the registry's error.
    """
    presets.check_spec(model_specs(model_cfg)[0], "generator", "model.generator")


def system_spec(model_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The GAN system ``model_cfg`` trains: ``model.system`` when given, else the preset's."""
    chosen = model_cfg.get("system")
    if chosen:
        return {"name": chosen} if isinstance(chosen, str) else dict(chosen)
    return presets.system_spec(model_cfg.get("preset", "paper"))


def loss_config(job: DictConfig) -> losses.LossConfig:
    """The job's loss weights and time-shift range (``job.loss``)."""
    return losses.LossConfig(**OmegaConf.to_container(job.loss, resolve=True))


# -- the data: get_dataflow -------------------------------------------------------------------
@dataclass
class Dataflow:
    """One process's data: the training and validation sets and their loaders."""

    train_set: DumpDataset
    valid_set: DumpDataset
    sampler: ResumableSampler  # the training order; resumable mid-epoch
    train_loader: DataLoader  # this process's share of each global batch, full batches only
    valid_loader: DataLoader


def get_datasets(job: DictConfig) -> tuple[DumpDataset, DumpDataset]:
    """The training and validation ``DumpDataset``s, normalised with the training statistics.

    Validation in the inference condition pairs each clip with another source's reference.
    """
    paths, tc = RunPaths.of(job), job.train
    cats = list(tc.categories) if tc.categories else None
    train_set = _dataset(
        paths.train, paths.train, job.data.segment_frames, True, job.seed, cats,
        reference=job.data.reference, reference_frames=job.data.reference_frames,
        reference_crop=job.data.reference_crop,
    )  # fmt: skip
    valid_set = _dataset(
        paths.valid, paths.train, job.data.segment_frames, False, job.seed, cats,
        reference="other_timbre" if tc.validation == "inference" else "self",
    )  # fmt: skip
    return train_set, valid_set


def _dataset(
    set_dir: Path,
    train_dir: Path,
    segment_frames: int | None,
    train: bool,
    seed: int,
    cats: Sequence[str] | None,
    reference: str = "self",
    reference_frames: int | None = None,
    reference_crop: str = "random",
) -> DumpDataset:
    """A ``DumpDataset`` over ``set_dir``, normalised with the training set's statistics."""
    stats = {s: train_dir / s / "stats.npz" for s in ("mel", "video")}
    for path in [*stats.values(), feats_scp(set_dir, "mel"), feats_scp(set_dir, "video")]:
        if not path.is_file():
            raise InputError(path, "missing (run stage 1, feature extraction, first)")
    return DumpDataset(
        set_dir,
        mel_stats=stats["mel"],
        video_stats=stats["video"],
        segment_frames=segment_frames,
        train=train,
        seed=seed,
        reference=reference,
        reference_frames=reference_frames,
        reference_crop=reference_crop,
        categories=list(cats) if cats else None,
    )


def train_loader(
    dataset: DumpDataset, tc: DictConfig, seed: int, train_dir: Path
) -> tuple[DataLoader, ResumableSampler]:
    """Shuffled full batches of ``train.batch_size`` (global) clips, in a resumable order.

    Raises InputError (naming ``train_dir``) when a process would get no batch at all.
    """
    sampler = ResumableSampler(dataset, shuffle=True, seed=seed)
    loader = idist.auto_dataloader(
        dataset,
        batch_size=tc.batch_size,
        sampler=sampler,
        num_workers=tc.num_workers,
        collate_fn=collate,
        drop_last=True,
        generator=torch.Generator().manual_seed(seed),  # keeps the global RNG untouched
    )
    if len(loader) == 0:
        raise InputError(
            train_dir,
            f"{len(dataset)} training clips, fewer than one batch of {loader.batch_size} "
            f"per process (lower train.batch_size)",
        )
    return loader, sampler


def valid_loader(dataset: DumpDataset, tc: DictConfig) -> DataLoader:
    """The validation set in order, in batches of ``train.batch_size``, the last one partial."""
    return idist.auto_dataloader(
        dataset,
        batch_size=tc.batch_size,
        shuffle=False,
        num_workers=tc.num_workers,
        collate_fn=collate,
        drop_last=False,
    )


def get_dataflow(job: DictConfig) -> Dataflow:
    """The datasets and loaders of one training process for a resolved job config."""
    train_set, valid_set = get_datasets(job)
    loader, sampler = train_loader(train_set, job.train, job.seed, RunPaths.of(job).train)
    return Dataflow(train_set, valid_set, sampler, loader, valid_loader(valid_set, job.train))


# -- the models and how they are optimised: initialize ----------------------------------------
@dataclass
class TrainingObjects:
    """What :func:`initialize` builds for one process."""

    gspec: dict[str, Any]  # the generator's spec (what export records)
    dspecs: list[dict[str, Any]]  # the discriminators' specs
    system: GANSystem  # what the generator is fed and every loss
    generator: nn.Module  # the plain generator: checkpoints, export, media
    discriminators: nn.ModuleList  # plain, with ``.weights`` and ``.names``
    gen_model: nn.Module  # the generator as the step runs it (DDP / DataParallel, compiled)
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer | None  # None when the system has no discriminator
    scaler_g: torch.amp.GradScaler
    scaler_d: torch.amp.GradScaler
    schedulers: dict[str, PiecewiseLinear]  # "sched_g" (and "sched_d"), per iteration
    step: GANStep  # the trainer's process function
    amp_dtype: torch.dtype | None

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimisers by checkpoint key: ``opt_g`` and, with discriminators, ``opt_d``."""
        return {"opt_g": self.opt_g} | ({"opt_d": self.opt_d} if self.opt_d is not None else {})


def build_models(
    gspec: Mapping[str, Any],
    dspecs: Sequence[Mapping[str, Any]],
    silence: Callable[[], np.ndarray] | None = None,
) -> tuple[nn.Module, nn.ModuleList]:
    """The generator and its discriminators (sized by the generator), on the CPU.

    ``silence`` gives the normalised silent mel ``(n_mels,)`` for a generator that feeds a
    silent background (it is only called then); None leaves the generator's default.
    """
    generator = presets.build_generator(gspec)
    if silence is not None and hasattr(generator, "set_silence"):
        generator.set_silence(torch.from_numpy(silence()))
    discs = presets.build_discriminators(
        dspecs, generator.n_mels, generator.video_dim, generator.upsample
    )
    return generator, discs


def _place(model: nn.Module, device: torch.device, **ddp_kwargs: Any) -> nn.Module:
    """``model`` on ``device``, wrapped for data parallelism when the run has several devices.

    A single process that asked for a device other than its default (the CPU on a GPU
    machine) gets the model moved there and unwrapped.
    """
    if idist.get_world_size() == 1 and device != idist.device():
        return model.to(device)
    return idist.auto_model(model, **ddp_kwargs)


def wrap_models(
    generator: nn.Module, discs: nn.ModuleList, device: torch.device, compile_: bool
) -> tuple[nn.Module, list[nn.Module]]:
    """The generator and each discriminator as the step runs them (placed, wrapped, compiled).

    ``compile_`` compiles the generator only (``train.compile``).
    """
    gen_model = _place(generator, device)
    # Discriminators run several forwards per backward (real, fake, shifted): DDP must not
    # overwrite their BatchNorm buffers in between (their running stats are never used).
    ddp_kwargs = {"broadcast_buffers": False} if idist.get_world_size() > 1 else {}
    disc_models = [_place(d, device, **ddp_kwargs) for d in discs]
    if compile_:
        gen_model = torch.compile(gen_model)
    return gen_model, disc_models


def optimizer_settings(tc: DictConfig) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
    """The optimiser class and keyword arguments of ``job.train``, the same for both nets.

    The one place that decides them: ``train.optimizer`` (adamw or adam), ``lr``, ``betas``,
    ``eps``, ``weight_decay``; the implementation: PyTorch's fused kernel when
    ``train.fused_optimizer`` (the default), else PyTorch's default for the device.
    """
    if tc.optimizer not in OPTIMIZERS:
        raise ConfigError(
            f"train.optimizer must be one of {sorted(OPTIMIZERS)}, got {tc.optimizer!r}"
        )
    return OPTIMIZERS[tc.optimizer], {
        "lr": tc.lr,
        "betas": tuple(tc.betas),
        "eps": tc.eps,
        "weight_decay": tc.weight_decay,
        "foreach": None,
        "fused": True if tc.fused_optimizer else None,
    }


def build_optimizers(
    tc: DictConfig, generator: nn.Module, discs: nn.ModuleList
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer | None]:
    """The generator's and the discriminators' optimisers (None without discriminators)."""
    optim, kwargs = optimizer_settings(tc)
    opt_g = idist.auto_optim(optim(generator.parameters(), **kwargs))
    opt_d = idist.auto_optim(optim(discs.parameters(), **kwargs)) if len(discs) else None
    return opt_g, opt_d


def build_scalers(
    device: torch.device, dtype: torch.dtype | None
) -> tuple[torch.amp.GradScaler, torch.amp.GradScaler]:
    """The generator's and the discriminators' grad scalers: enabled for fp16 autocast only."""
    fp16 = dtype is torch.float16
    return (
        torch.amp.GradScaler(device.type, enabled=fp16),
        torch.amp.GradScaler(device.type, enabled=fp16),
    )


def build_schedulers(
    tc: DictConfig,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer | None,
    epoch_length: int,
) -> dict[str, PiecewiseLinear]:
    """REGNET's schedule for each optimiser: ``lr`` for ``hold_epochs``, then linear to 0.

    ``epoch_length`` is iterations per epoch; the schedules step per iteration.
    """
    args = (tc.lr, tc.hold_epochs, tc.epochs, epoch_length)
    schedulers = {"sched_g": regnet_scheduler(opt_g, *args)}
    if opt_d is not None:
        schedulers["sched_d"] = regnet_scheduler(opt_d, *args)
    return schedulers


def step_options(job: DictConfig, dtype: torch.dtype | None) -> StepOptions:
    """The step's settings from ``job.train`` and ``job.loss`` (``dtype``: autocast)."""
    tc = job.train
    return StepOptions(
        loss=loss_config(job),
        disc_steps=tc.disc_steps,
        generator_warmup_steps=tc.generator_warmup_steps,
        grad_clip=tc.grad_clip,
        amp_dtype=dtype,
        detect_anomaly=tc.detect_anomaly,
    )


def flush_denormals(job: DictConfig, device: torch.device) -> None:
    """On the CPU with ``train.flush_denormal``: denormal floats become zero (FTZ/DAZ).

    Backpropagation through the LSTMs' time steps makes denormal gradients, whose arithmetic
    is many times slower on x86 (BENCHMARKS.md, training). The mode is per thread and a new
    thread takes its creator's, so this runs before the first parallel torch operation
    creates the worker threads (``run_training`` calls it first thing).
    """
    if device.type == "cpu" and job.train.flush_denormal:
        torch.set_flush_denormal(True)


def initialize(
    job: DictConfig,
    dims: Mapping[str, int] | None,
    device: torch.device,
    epoch_length: int,
    silence: Callable[[], np.ndarray] | None = None,
) -> TrainingObjects:
    """Everything a job's process trains with, exactly as every run builds it.

    ``job`` is a resolved ``TrainJobConfig``; ``dims`` are the features' ``n_mels`` and
    ``video_dim`` (None: the preset's); ``epoch_length`` is iterations per epoch (the
    schedules'); ``silence`` as in :func:`build_models`. Initial weights come from
    ``job.seed`` (identical on every process); afterwards each process's randomness is
    seeded with ``job.seed + rank``.
    """
    tc = job.train
    dtype = amp_dtype(tc.amp, device)
    flush_denormals(job, device)
    manual_seed(job.seed)
    model_cfg = OmegaConf.to_container(job.model, resolve=True)
    gspec, dspecs = model_specs(model_cfg, dims)
    system = SYSTEMS.build(system_spec(model_cfg), loss_config(job))
    generator, discs = build_models(gspec, dspecs, silence)
    manual_seed(job.seed + idist.get_rank())
    gen_model, disc_models = wrap_models(generator, discs, device, tc.compile)
    opt_g, opt_d = build_optimizers(tc, generator, discs)
    scaler_g, scaler_d = build_scalers(device, dtype)
    step = GANStep(
        gen_model, disc_models, discs.weights, discs.names, opt_g, opt_d,
        scaler_g, scaler_d, device, step_options(job, dtype), system,
    )  # fmt: skip
    return TrainingObjects(
        gspec, dspecs, system, generator, discs, gen_model, opt_g, opt_d, scaler_g, scaler_d,
        build_schedulers(tc, opt_g, opt_d, epoch_length), step, dtype,
    )  # fmt: skip


# -- validation: create_evaluator / create_validation -----------------------------------------
@dataclass
class Validation:
    """The validation engine with its metrics, and the metric that picks the best checkpoint."""

    evaluator: Engine
    select: str  # a metric name (``V.SELECTABLE`` says which way is better)
    mel_stats: Normalizer  # the training set's mel statistics


def create_validation(
    job: DictConfig, objs: TrainingObjects, flow: Dataflow, device: torch.device
) -> Validation:
    """:func:`create_evaluator` for the job's condition with every validation metric attached.

    ``val_mel_l1`` and ``val_mcd`` always; in the inference condition also the metrics of
    ``vs_plugin.train.validation`` (reference match, leakage, onsets, ideal L1).
    """
    tc = job.train
    evaluator = create_evaluator(objs.gen_model, device, objs.amp_dtype, tc.validation, objs.system)
    mel_stats = Normalizer.load(RunPaths.of(job).train / "mel" / "stats.npz")
    H.MelCepstralDistortion(mel_stats.mean, mel_stats.scale, device=device).attach(
        evaluator, "val_mcd"
    )
    if tc.validation == "inference":
        classifier = V.fit_source_classifier(flow.train_set)
        V.InferenceConditionMetrics(mel_stats, flow.valid_set, classifier).attach(evaluator)
        select = V.resolve_select_metric(tc.select_metric, flow.valid_set, classifier)
    else:
        select = "val_mel_l1" if tc.select_metric == "auto" else tc.select_metric
    log.info("validation: %s condition; best checkpoint by %s", tc.validation, select)
    return Validation(evaluator, select, mel_stats)


# -- the trainer and its handlers: create_trainer ---------------------------------------------
@dataclass
class TrainerRun:
    """The trainer of one process and what its handlers fill in or need for a resume."""

    trainer: Engine
    data: EpochData  # what ``trainer.run`` iterates
    epoch_length: int  # iterations per epoch
    history: list[dict[str, float]]  # one row of validation metrics per validation
    to_save: dict[str, Any]  # everything a checkpoint holds, by key
    saver: Checkpoint  # the training checkpointer (its own state resumes too)
    export: dict[str, Any]  # "card": the exported model card, once the run completes


def attach_data_position(trainer: Engine, flow: Dataflow) -> EpochData:
    """What the trainer iterates; each epoch starts where the global iteration count says."""
    data = EpochData(flow.train_loader, flow.sampler)
    epoch_length = len(flow.train_loader)
    trainer.add_event_handler(
        Events.EPOCH_STARTED, lambda e: data.position(e.state.iteration, epoch_length)
    )
    return data


def attach_schedulers(trainer: Engine, schedulers: Mapping[str, PiecewiseLinear]) -> None:
    """Each learning-rate schedule set before every iteration."""
    for sched in schedulers.values():
        trainer.add_event_handler(Events.ITERATION_STARTED, sched)


def attach_validation(
    trainer: Engine, evaluator: Engine, loader: DataLoader, every: int
) -> list[dict[str, float]]:
    """Validate before training starts and every ``every`` epochs; returns the history rows.

    Each row: ``epoch``, ``iteration`` and every metric of the evaluator.
    """
    history: list[dict[str, float]] = []

    @trainer.on(Events.EPOCH_COMPLETED(every=max(1, every)))
    @trainer.on(Events.STARTED(event_filter=lambda e, _: e.state.iteration == 0))  # start value
    def _validate(engine: Engine) -> None:
        metrics = evaluator.run(loader).metrics
        row = {"epoch": engine.state.epoch, "iteration": engine.state.iteration, **metrics}
        history.append(row)
        log.info(
            "epoch %d iteration %d: %s", row["epoch"], row["iteration"],
            " ".join(f"{k}={v:.5g}" for k, v in metrics.items()),
        )  # fmt: skip

    return history


def attach_logging(
    trainer: Engine,
    job: DictConfig,
    objs: TrainingObjects,
    flow: Dataflow,
    validation: Validation,
    specs: DumpSpecs,
) -> None:
    """TensorBoard (rank 0): losses, learning rates, validation metrics, media of fixed pairs."""
    tc = job.train
    optimizers = {key.replace("opt_", "lr_"): opt for key, opt in objs.optimizers().items()}
    tb = H.attach_tensorboard(
        trainer, validation.evaluator, RunPaths.of(job).exp / "tensorboard", optimizers,
        tc.log_every,
    )  # fmt: skip
    samples = H.pick_media_samples(flow.valid_set, tc.media_pairs)
    if samples and tc.image_every > 0:
        vocoder = H.media_vocoder(tc.media_vocoder, specs.mel, objs.generator.n_mels)
        media = H.ValidationMediaHandler(
            objs.generator, samples, objs.step.device, validation.mel_stats, vocoder,
            infer=lambda model, batch: objs.system.infer(model, batch, "reconstruction"),
        )  # fmt: skip
        H.attach_validation_media(trainer, tb, media, tc.image_every)


def attach_checkpoints(
    trainer: Engine, job: DictConfig, objs: TrainingObjects, validation: Validation
) -> tuple[dict[str, Any], Checkpoint]:
    """The best-validation models and the full training state (for an exact resume).

    Returns what a training checkpoint holds (trainer, models, optimisers, scalers, RNG,
    schedules, the best-checkpoint handler) and its checkpointer, which also saves on
    termination.
    """
    tc, ckpt_dir = job.train, RunPaths.of(job).checkpoints
    models = {"generator": objs.generator, "discriminators": objs.discriminators}
    best = H.attach_best_checkpoint(
        trainer, validation.evaluator, models, ckpt_dir, validation.select,
        V.SELECTABLE.get(validation.select, True),
    )  # fmt: skip
    to_save: dict[str, Any] = {
        "trainer": trainer, **models, "opt_g": objs.opt_g, "scaler_g": objs.scaler_g,
        "scaler_d": objs.scaler_d, "rng": ck.RNGState(), "best": best, **objs.schedulers,
    }  # fmt: skip
    if objs.opt_d is not None:
        to_save["opt_d"] = objs.opt_d
    saver = ck.attach_checkpointing(
        trainer, to_save, ckpt_dir, tc.checkpoint_every, tc.keep_checkpoints
    )
    trainer.add_event_handler(Events.TERMINATE, saver)
    return to_save, saver


def attach_stop(trainer: Engine, max_iters: int | None) -> None:
    """End the run after ``max_iters`` iterations in all (None or 0: run every epoch)."""
    if not max_iters:
        return

    @trainer.on(Events.ITERATION_COMPLETED)
    def _stop(engine: Engine) -> None:
        if engine.state.iteration >= max_iters:
            engine.terminate()


def attach_export(
    trainer: Engine, job: DictConfig, objs: TrainingObjects, specs: DumpSpecs, best: Checkpoint
) -> dict[str, Any]:
    """Export the generator (rank 0) when the run completes: the last one, or the best one
    with ``train.export_best``. Returns a dict that then holds the model card as ``"card"``."""
    paths, export = RunPaths.of(job), {}

    @trainer.on(Events.COMPLETED)
    def _export(engine: Engine) -> None:
        if idist.get_rank() != 0:
            return
        source = objs.generator
        if job.train.export_best and best.last_checkpoint:
            source = presets.build_generator(objs.gspec)
            best_path = paths.checkpoints / best.last_checkpoint
            state = torch.load(best_path, map_location="cpu", weights_only=True)
            source.load_state_dict(state["generator"])
        export["card"] = export_generator(
            source, objs.gspec, paths.exp / "model", paths.train / "mel" / "stats.npz",
            paths.train / "video" / "stats.npz", specs.video_feature, mel=specs.mel,
        )  # fmt: skip
        log.info("exported the generator to %s", export["card"])

    return export


def create_trainer(
    job: DictConfig,
    objs: TrainingObjects,
    flow: Dataflow,
    validation: Validation,
    specs: DumpSpecs,
) -> TrainerRun:
    """The trainer (``objs.step`` per batch) with every handler of a run, in firing order.

    Epoch position, schedules, running losses, progress bar; validation, then (same event,
    later) media and the checkpoints, so all see the same state; the iteration limit; export.
    """
    tc = job.train
    trainer = Engine(objs.step)
    data = attach_data_position(trainer, flow)
    attach_schedulers(trainer, objs.schedulers)
    H.attach_running_averages(trainer, objs.system.loss_names(objs.discriminators.names))
    if tc.progress_bar:
        H.attach_progress(trainer)
    history = attach_validation(trainer, validation.evaluator, flow.valid_loader, tc.validate_every)
    if idist.get_rank() == 0:
        attach_logging(trainer, job, objs, flow, validation, specs)
    to_save, saver = attach_checkpoints(trainer, job, objs, validation)
    attach_stop(trainer, tc.max_iters)
    export = attach_export(trainer, job, objs, specs, to_save["best"])
    return TrainerRun(trainer, data, len(flow.train_loader), history, to_save, saver, export)


def resume(run: TrainerRun, resume_from: str | None, ckpt_dir: Path) -> None:
    """Load the checkpoint ``resume_from`` picks (see ``ck.resolve_resume``), if any."""
    resumed = ck.resolve_resume(resume_from, ckpt_dir)
    if resumed is None:
        return
    path, state = resumed
    ck.restore({**run.to_save, "checkpointer": run.saver}, state)
    log.info("resumed from %s (iteration %d)", path, run.trainer.state.iteration)


# -- a whole run ------------------------------------------------------------------------------
def run_training(local_rank: int, job_dict: dict[str, Any]) -> dict[str, Any]:
    """One process of a training run (``local_rank`` is given by ``idist.Parallel``).

    ``job_dict`` is a resolved ``TrainJobConfig`` as a plain dict. Returns the run's summary:
    ``iteration``, ``epoch``, the validation ``history``, the ``export`` card (rank 0) and the
    trained ``generator``.
    """
    job = OmegaConf.create(job_dict)
    paths = RunPaths.of(job)
    if idist.get_rank() == 0:
        sweep_temporaries(paths.exp)
    device = resolve_device(job.device)
    flush_denormals(job, device)  # before any torch work starts the worker threads
    amp_dtype(job.train.amp, device)  # a wrong name fails before any data is read
    specs = dump_specs(paths.train, [paths.valid], job.data.video_feature)
    dims = feature_dims(paths.train)
    flow = get_dataflow(job)
    objs = initialize(
        job, dims, device, len(flow.train_loader),
        silence=lambda: silence_mel(paths.train / "mel" / "stats.npz", specs.mel),
    )  # fmt: skip
    validation = create_validation(job, objs, flow, device)
    run = create_trainer(job, objs, flow, validation, specs)
    if idist.get_rank() == 0:
        H.write_experiment_config(paths.exp / "config.yaml", job_dict, objs.gspec, objs.dspecs)
    resume(run, job.resume_from, paths.checkpoints)
    try:
        run.trainer.run(run.data, max_epochs=job.train.epochs, epoch_length=run.epoch_length)
    except NonFiniteLossError as exc:
        last = run.saver.last_checkpoint
        where = "no checkpoint saved yet"
        if last:
            where = f"last good checkpoint: {paths.checkpoints / last}"
        raise NonFiniteLossError(f"{exc}; {where}") from None
    return {
        "iteration": run.trainer.state.iteration,
        "epoch": run.trainer.state.epoch,
        "history": run.history,
        "export": run.export.get("card"),
        "generator": objs.generator,
    }


def train(job: Any) -> dict[str, Any] | None:
    """Run training for a job config (dataclass, DictConfig or dict), in 1..N processes.

    Returns the run's summary in the single-process case (None when processes were spawned).
    """
    merged = OmegaConf.merge(OmegaConf.structured(TrainJobConfig), job)
    container = OmegaConf.to_container(merged, resolve=True)
    check_model(container["model"])  # a misspelt field fails here, before any process starts
    backend = pick_backend(merged.dist.backend, merged.dist.nproc_per_node)
    if backend is None:
        return run_training(0, container)
    launch(run_training, container, backend=backend, nproc_per_node=merged.dist.nproc_per_node)
    return None
