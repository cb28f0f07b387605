"""The GAN training step (one Ignite process function) and the validation engine.

Per iteration: the generator makes a mel; each discriminator is updated ``disc_steps`` times
on the real mel against the detached generated one (plus, for the alignment discriminator,
a time-shifted negative, eqs. 4-7); then the generator is updated with
``lambda_m * L1 + lambda_a * L_adv`` (eqs. 1-3). Warm-up iterations skip the discriminators.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ignite.distributed as idist
import torch
from ignite.engine import Engine
from ignite.metrics import Average
from torch import nn

from vs_plugin.train import losses
from vs_plugin.train.distributed import unwrap


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
    ) -> None:
        self.generator = generator
        self.discriminators = list(discriminators)
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
        video, mel = b["video"], b["mel"]
        self.generator.train()
        for d in self.discriminators:
            d.train()
        adversarial = bool(self.discriminators) and (
            engine.state.iteration > self.opt.generator_warmup_steps
        )
        with self._autocast():
            fake = self.generator(video, b["ref_mel"], b["bg_mel"])
        out: dict[str, torch.Tensor] = {}

        if adversarial:
            d_params = [p for d in self.discriminators for p in d.parameters()]
            for _ in range(max(1, self.opt.disc_steps)):
                self.opt_d.zero_grad(set_to_none=True)
                with self._autocast():
                    parts = [
                        losses.discriminator_step_loss(d, mel, fake, video, self.opt.loss)
                        for d in self.discriminators
                    ]
                    loss_d = sum(w * p for w, p in zip(self.weights, parts))
                named = {"loss_d": loss_d, **{f"d_{n}": p for n, p in zip(self.names, parts)}}
                self._check(engine, named)
                self._update(loss_d, self.opt_d, self.scaler_d, d_params)
            out.update(named)

        self.opt_g.zero_grad(set_to_none=True)
        frozen = [unwrap(d) for d in self.discriminators] if adversarial else []
        for d in frozen:
            d.requires_grad_(False)
        try:
            with self._autocast():
                loss_g, parts_g = (
                    losses.generator_step_loss(
                        frozen, self.weights, fake, mel, video, self.opt.loss
                    )
                    if frozen
                    else losses.generator_loss(
                        fake, mel, lambda_m=self.opt.loss.lambda_m, lambda_a=self.opt.loss.lambda_a
                    )
                )
            named_g = {"loss_g": loss_g, "mel_l1": parts_g["mel"]}
            if "adv" in parts_g:
                named_g["adv_g"] = parts_g["adv"]
            self._check(engine, named_g)
            self._update(loss_g, self.opt_g, self.scaler_g, list(self.generator.parameters()))
        finally:
            for d in frozen:
                d.requires_grad_(True)
        out.update(named_g)
        return {k: float(v.detach()) for k, v in out.items()}


def create_evaluator(generator: nn.Module, device: torch.device, amp_dtype: Any) -> Engine:
    """Validation: the generator in eval mode on each batch; ``val_mel_l1`` per clip, averaged."""

    def step(engine: Engine, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        b = move_batch(batch, device)
        model = unwrap(generator)
        model.eval()
        ctx = (
            torch.autocast("cuda", dtype=amp_dtype)
            if amp_dtype is not None and device.type == "cuda"
            else contextlib.nullcontext()
        )
        with torch.no_grad(), ctx:
            fake = model(b["video"], b["ref_mel"], b["bg_mel"])
        return {"fake": fake.float(), "real": b["mel"].float()}

    evaluator = Engine(step)
    Average(
        output_transform=lambda o: (o["fake"] - o["real"]).abs().mean(dim=(1, 2)),
        device=device,
    ).attach(evaluator, "val_mel_l1")
    return evaluator
