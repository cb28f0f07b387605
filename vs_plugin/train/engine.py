"""The GAN training step (one Ignite process function) and the validation engine.

Per iteration: the generator makes its outputs; each discriminator is updated ``disc_steps``
times on the system's discriminator loss (outputs detached); then the generator is updated on
the system's generator loss (discriminators frozen). Warm-up iterations skip the
discriminators. What the generator is fed and every loss belong to the run's GAN system
(``model.system``, a ``vs_plugin.registry.SYSTEMS`` entry: VarietySound's eqs. 1-7 by
default, REGNET, the cascade's converter); nothing here depends on which system it is.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import numpy as np
import torch
from ignite.engine import Engine, Events
from ignite.metrics import Loss
from ignite.utils import manual_seed
from omegaconf import OmegaConf
from torch import nn

from vs_plugin.audio.mel import MelConfig
from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.features.spec import dump_specs
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
        # What the step computes comes from the system (run_training passes the job's);
        # without one, the default system with the options' loss weights.
        self.system = system or SYSTEMS.build(presets.DEFAULT_SYSTEM, options.loss)
        self.discriminators = list(discriminators)
        for d in self.discriminators:  # a DDP wrapper must still say whether it wants video
            d.needs_video = bool(getattr(unwrap(d), "needs_video", False))
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


# -- a whole run ------------------------------------------------------------------------------
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "none": None}
OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}
VALIDATION_CONDITIONS = ("inference", "reconstruction")


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


def feature_dims(set_dir: Path) -> dict[str, int]:
    """``{"n_mels": ..., "video_dim": ...}`` read from the dump's ``feats_shape`` files."""
    dims = {}
    for stream, key in (("mel", "n_mels"), ("video", "video_dim")):
        path = set_dir / stream / "feats_shape"
        if not path.is_file():
            raise InputError(path, "missing (run stage 1, feature extraction, first)")
        first = path.read_text(encoding="utf-8").split("\n", 1)[0].split()
        try:
            dims[key] = int(first[1].split(",")[1])
        except (IndexError, ValueError):
            raise InputError(path, f"first line is not '<utt> <frames>,<dims>': {first}") from None
    return dims


def model_specs(
    model_cfg: Mapping[str, Any], dims: Mapping[str, int] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The generator spec and the discriminator specs that ``model_cfg`` describes.

    ``dims`` (the features' ``n_mels`` / ``video_dim``) override the preset's; an explicit,
    different value in ``model_cfg.generator`` is an error. Discriminator entries are names
    or dicts; fields they leave out come from the preset's spec of the same name (so an
    ablation only has to list the names it keeps).
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


def system_spec(model_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The GAN system ``model_cfg`` trains: ``model.system`` when given, else the preset's."""
    chosen = model_cfg.get("system")
    if chosen:
        return {"name": chosen} if isinstance(chosen, str) else dict(chosen)
    return presets.system_spec(model_cfg.get("preset", "paper"))


def _dataset(
    set_dir: Path,
    train_dir: Path,
    segment_frames: int | None,
    train: bool,
    seed: int,
    cats,
    reference: str = "self",
    reference_frames: int | None = None,
):
    """A ``DumpDataset`` over ``set_dir``, normalised with the training set's statistics."""
    from vs_plugin.data.dataset import DumpDataset  # imported late: optional at import

    stats = {s: train_dir / s / "stats.npz" for s in ("mel", "video")}
    for path in [*stats.values(), set_dir / "mel" / "feats.scp", set_dir / "video" / "feats.scp"]:
        if not path.is_file():
            raise InputError(path, "missing (run stage 1, feature extraction, first)")
    kwargs: dict[str, Any] = {
        "mel_stats": stats["mel"],
        "video_stats": stats["video"],
        "segment_frames": segment_frames,
        "train": train,
        "seed": seed,
        "reference": reference,
        "reference_frames": reference_frames,
    }
    if cats:
        if "categories" not in inspect.signature(DumpDataset).parameters:
            raise TypeError("this DumpDataset cannot select categories")
        kwargs["categories"] = list(cats)
    return DumpDataset(set_dir, **kwargs)


def _collate():
    from vs_plugin.data import dataset as ds_module

    for name in ("collate", "collate_fn", "collate_batch"):
        if callable(fn := getattr(ds_module, name, None)):
            return fn
    raise ImportError("vs_plugin.data.dataset has no collate function")


def run_training(local_rank: int, job_dict: dict[str, Any]) -> dict[str, Any]:
    """One process of a training run (``local_rank`` is given by ``idist.Parallel``)."""
    job = OmegaConf.create(job_dict)
    tc = job.train
    rank = idist.get_rank()
    exp_dir = Path(job.exp_dir)
    ckpt_dir = exp_dir / "checkpoints"
    if rank == 0:
        sweep_temporaries(exp_dir)
    if tc.amp not in AMP_DTYPES:
        raise ConfigError(f"train.amp must be one of {sorted(AMP_DTYPES)}, got {tc.amp!r}")
    device = idist.device() if job.device == "auto" else torch.device(job.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        device = idist.device()
    amp_dtype = AMP_DTYPES[tc.amp] if device.type == "cuda" else None

    # Models: identical initial weights on every process, then per-process randomness.
    manual_seed(job.seed)
    dump = Path(job.dump_dir)
    train_dir = dump / job.data.train_set
    specs = dump_specs(train_dir, [dump / job.data.valid_set], job.data.video_feature)
    model_cfg = OmegaConf.to_container(job.model, resolve=True)
    gspec, dspecs = model_specs(model_cfg, feature_dims(train_dir))
    system = SYSTEMS.build(
        system_spec(model_cfg), losses.LossConfig(**OmegaConf.to_container(job.loss, resolve=True))
    )
    generator = presets.build_generator(gspec)
    if hasattr(generator, "set_silence"):
        silence = silence_mel(train_dir / "mel" / "stats.npz", specs.mel)
        generator.set_silence(torch.from_numpy(silence))
    discs = presets.build_discriminators(
        dspecs, generator.n_mels, generator.video_dim, generator.upsample
    )
    manual_seed(job.seed + rank)

    cats = list(tc.categories) if tc.categories else None
    train_ds = _dataset(
        train_dir,
        train_dir,
        job.data.segment_frames,
        True,
        job.seed,
        cats,
        reference_frames=job.data.reference_frames,
    )
    valid_ds = _dataset(
        dump / job.data.valid_set,
        train_dir,
        job.data.segment_frames,
        False,
        job.seed,
        cats,
        reference="other_timbre" if tc.validation == "inference" else "self",
    )
    collate = _collate()
    sampler = ResumableSampler(train_ds, shuffle=True, seed=job.seed)
    loader = idist.auto_dataloader(
        train_ds,
        batch_size=tc.batch_size,
        sampler=sampler,
        num_workers=tc.num_workers,
        collate_fn=collate,
        drop_last=True,
        generator=torch.Generator().manual_seed(job.seed),  # keeps the global RNG untouched
    )
    if len(loader) == 0:
        raise InputError(
            train_dir,
            f"{len(train_ds)} training clips, fewer than one batch of {loader.batch_size} "
            f"per process (lower train.batch_size)",
        )
    valid_loader = idist.auto_dataloader(
        valid_ds,
        batch_size=tc.batch_size,
        shuffle=False,
        num_workers=tc.num_workers,
        collate_fn=collate,
        drop_last=False,
    )

    gen_model = idist.auto_model(generator)
    # Discriminators run several forwards per backward (real, fake, shifted): DDP must not
    # overwrite their BatchNorm buffers in between (their running stats are never used).
    ddp_kwargs = {"broadcast_buffers": False} if idist.get_world_size() > 1 else {}
    disc_models = [idist.auto_model(d, **ddp_kwargs) for d in discs]
    if tc.compile:
        gen_model = torch.compile(gen_model)
    if tc.optimizer not in OPTIMIZERS:
        raise ConfigError(
            f"train.optimizer must be one of {sorted(OPTIMIZERS)}, got {tc.optimizer!r}"
        )
    optim = OPTIMIZERS[tc.optimizer]
    hyper = {"lr": tc.lr, "betas": tuple(tc.betas), "eps": tc.eps, "weight_decay": tc.weight_decay}
    opt_g = idist.auto_optim(optim(generator.parameters(), **hyper))
    opt_d = idist.auto_optim(optim(discs.parameters(), **hyper)) if len(discs) else None
    fp16 = amp_dtype is torch.float16
    scaler_g = torch.amp.GradScaler(device.type, enabled=fp16)
    scaler_d = torch.amp.GradScaler(device.type, enabled=fp16)

    options = StepOptions(
        loss=losses.LossConfig(**OmegaConf.to_container(job.loss, resolve=True)),
        disc_steps=tc.disc_steps,
        generator_warmup_steps=tc.generator_warmup_steps,
        grad_clip=tc.grad_clip,
        amp_dtype=amp_dtype,
        detect_anomaly=tc.detect_anomaly,
    )
    step = GANStep(
        gen_model, disc_models, discs.weights, discs.names, opt_g, opt_d,
        scaler_g, scaler_d, device, options, system,
    )  # fmt: skip
    trainer = Engine(step)
    epoch_length = len(loader)
    data = EpochData(loader, sampler)
    trainer.add_event_handler(
        Events.EPOCH_STARTED, lambda e: data.position(e.state.iteration, epoch_length)
    )
    schedulers = {
        "sched_g": regnet_scheduler(opt_g, tc.lr, tc.hold_epochs, tc.epochs, epoch_length)
    }
    if opt_d is not None:
        schedulers["sched_d"] = regnet_scheduler(
            opt_d, tc.lr, tc.hold_epochs, tc.epochs, epoch_length
        )
    for sched in schedulers.values():
        trainer.add_event_handler(Events.ITERATION_STARTED, sched)

    H.attach_running_averages(trainer, system.loss_names(discs.names))
    if tc.progress_bar:
        H.attach_progress(trainer)

    # Validation, then (same event, later) the checkpoint, so both see the same state.
    evaluator = create_evaluator(gen_model, device, amp_dtype, tc.validation, system)
    mel_stats = Normalizer.load(train_dir / "mel" / "stats.npz")
    H.MelCepstralDistortion(mel_stats.mean, mel_stats.scale, device=device).attach(
        evaluator, "val_mcd"
    )
    classifier = V.fit_source_classifier(train_ds) if tc.validation == "inference" else None
    if tc.validation == "inference":
        V.InferenceConditionMetrics(mel_stats, valid_ds, classifier).attach(evaluator)
        select = V.resolve_select_metric(tc.select_metric, valid_ds, classifier)
    else:
        select = "val_mel_l1" if tc.select_metric == "auto" else tc.select_metric
    log.info("validation: %s condition; best checkpoint by %s", tc.validation, select)
    history: list[dict[str, float]] = []

    @trainer.on(Events.EPOCH_COMPLETED(every=max(1, tc.validate_every)))
    @trainer.on(Events.STARTED(event_filter=lambda e, _: e.state.iteration == 0))  # start value
    def _validate(engine: Engine) -> None:
        metrics = evaluator.run(valid_loader).metrics
        row = {"epoch": engine.state.epoch, "iteration": engine.state.iteration, **metrics}
        history.append(row)
        log.info(
            "epoch %d iteration %d: %s", row["epoch"], row["iteration"],
            " ".join(f"{k}={v:.5g}" for k, v in metrics.items()),
        )  # fmt: skip

    tb = None
    if rank == 0:
        optimizers = {"lr_g": opt_g} | ({"lr_d": opt_d} if opt_d is not None else {})
        tb = H.attach_tensorboard(
            trainer, evaluator, exp_dir / "tensorboard", optimizers, tc.log_every
        )
        samples = H.pick_media_samples(valid_ds, tc.media_pairs)
        if samples and tc.image_every > 0:
            vocoder = H.media_vocoder(tc.media_vocoder, specs.mel, generator.n_mels)
            media = H.ValidationMediaHandler(
                generator, samples, device, mel_stats, vocoder,
                infer=lambda model, batch: system.infer(model, batch, "reconstruction"),
            )  # fmt: skip
            H.attach_validation_media(trainer, tb, media, tc.image_every)

    models = {"generator": generator, "discriminators": discs}
    best = H.attach_best_checkpoint(
        trainer, evaluator, models, ckpt_dir, select, V.SELECTABLE.get(select, True)
    )
    to_save: dict[str, Any] = {
        "trainer": trainer, **models, "opt_g": opt_g, "scaler_g": scaler_g, "scaler_d": scaler_d,
        "rng": ck.RNGState(), "best": best, **schedulers,
    }  # fmt: skip
    if opt_d is not None:
        to_save["opt_d"] = opt_d
    saver = ck.attach_checkpointing(
        trainer, to_save, ckpt_dir, tc.checkpoint_every, tc.keep_checkpoints
    )
    trainer.add_event_handler(Events.TERMINATE, saver)

    if tc.max_iters:

        @trainer.on(Events.ITERATION_COMPLETED)
        def _stop(engine: Engine) -> None:
            if engine.state.iteration >= tc.max_iters:
                engine.terminate()

    export: dict[str, Any] = {}

    @trainer.on(Events.COMPLETED)
    def _export(engine: Engine) -> None:
        if rank != 0:
            return
        source = generator
        if tc.export_best and best.last_checkpoint:
            source = presets.build_generator(gspec)
            best_path = ckpt_dir / best.last_checkpoint
            state = torch.load(best_path, map_location="cpu", weights_only=True)
            source.load_state_dict(state["generator"])
        export["card"] = export_generator(
            source, gspec, exp_dir / "model", train_dir / "mel" / "stats.npz",
            train_dir / "video" / "stats.npz", specs.video_feature, mel=specs.mel,
        )  # fmt: skip
        log.info("exported the generator to %s", export["card"])

    if rank == 0:
        H.write_experiment_config(exp_dir / "config.yaml", job_dict, gspec, dspecs)
    resumed = ck.resolve_resume(job.resume_from, ckpt_dir)
    if resumed is not None:
        path, state = resumed
        ck.restore({**to_save, "checkpointer": saver}, state)
        log.info("resumed from %s (iteration %d)", path, trainer.state.iteration)
    try:
        trainer.run(data, max_epochs=tc.epochs, epoch_length=epoch_length)
    except NonFiniteLossError as exc:
        last = saver.last_checkpoint
        where = f"last good checkpoint: {ckpt_dir / last}" if last else "no checkpoint saved yet"
        raise NonFiniteLossError(f"{exc}; {where}") from None
    return {
        "iteration": trainer.state.iteration,
        "epoch": trainer.state.epoch,
        "history": history,
        "export": export.get("card"),
        "generator": generator,
    }


def train(job: Any) -> dict[str, Any] | None:
    """Run training for a job config (dataclass, DictConfig or dict), in 1..N processes.

    Returns the run's summary in the single-process case (None when processes were spawned).
    """
    merged = OmegaConf.merge(OmegaConf.structured(TrainJobConfig), job)
    container = OmegaConf.to_container(merged, resolve=True)
    backend = pick_backend(merged.dist.backend, merged.dist.nproc_per_node)
    if backend is None:
        return run_training(0, container)
    launch(run_training, container, backend=backend, nproc_per_node=merged.dist.nproc_per_node)
    return None
