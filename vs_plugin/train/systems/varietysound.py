"""The VarietySound system: the paper's losses, equations (1)-(7), around any generator that
takes ``(video, ref_mel, bg_mel)``.

Discriminators: each scores the real mel against the detached generated one (LSGAN); one
that sets ``wants_misaligned_negative`` (the time-domain alignment discriminator) also gets
a time-shifted negative (``vs_plugin.train.losses``). Generator: ``lambda_m * L1 +
lambda_a * L_adv`` plus, when ``lambda_t > 0``, the timbre-consistency term through the
generator's acoustic encoder.
Its weights are the training job's ``loss`` section (``LossConfig``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vs_plugin.interfaces import GANSystem
from vs_plugin.registry import SYSTEMS
from vs_plugin.train import losses
from vs_plugin.train.distributed import unwrap


@dataclass
class VarietySoundSystemConfig:
    """No fields: the weights are the job's ``loss`` section (kept there for old configs)."""


@SYSTEMS.register("varietysound", config=VarietySoundSystemConfig)
class VarietySoundSystem(GANSystem):
    """G(video, reference, background) against LSGAN discriminators (paper eqs. 1-7)."""

    def __init__(self, cfg: VarietySoundSystemConfig, loss_cfg: Any = None) -> None:
        super().__init__(cfg, loss_cfg or losses.LossConfig())

    def forward(self, generator: nn.Module, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return {"fake": generator(batch["video"], batch["ref_mel"], batch["bg_mel"])}

    def discriminator_losses(self, discs, weights, names, batch, outputs):
        parts = [
            losses.discriminator_step_loss(
                d, batch["mel"], outputs["fake"], batch["video"], self.loss_cfg
            )
            for d in discs
        ]
        total = sum(w * p for w, p in zip(weights, parts))
        return {"loss_d": total, **{f"d_{n}": p for n, p in zip(names, parts)}}

    def generator_losses(self, generator, discs, weights, batch, outputs):
        cfg = self.loss_cfg
        fake, mel = outputs["fake"], batch["mel"]
        if discs:
            loss_g, parts = losses.generator_step_loss(
                discs, weights, fake, mel, batch["video"], cfg
            )
        else:
            loss_g, parts = losses.generator_loss(
                fake, mel, lambda_m=cfg.lambda_m, lambda_a=cfg.lambda_a
            )
        out = {"mel_l1": parts["mel"]}
        if cfg.lambda_t > 0:
            loss_t = losses.timbre_consistency_loss(
                unwrap(generator).acoustic_encoder, fake, batch["ref_mel"]
            )
            loss_g = loss_g + cfg.lambda_t * loss_t
            out["timbre_t"] = loss_t
        if "adv" in parts:
            out["adv_g"] = parts["adv"]
        return {"loss_g": loss_g, **out}

    def infer(self, generator, batch, condition):
        bg = batch["bg_mel"] if condition == "reconstruction" else None
        return generator(batch["video"], batch["ref_mel"], bg)

    def loss_names(self, disc_names: Sequence[str]) -> list[str]:
        names = ["loss_g", "mel_l1"] + (["timbre_t"] if self.loss_cfg.lambda_t > 0 else [])
        if disc_names:
            names += ["adv_g", "loss_d", *(f"d_{n}" for n in disc_names)]
        return names
