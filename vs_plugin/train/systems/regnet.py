"""The REGNET system (Chen et al. 2020; github.com/PeihaoChen/regnet ``Regnet.backward_*``).

Forward: the generator gets the video and, through its audio forwarding regularizer, the
ground-truth mel; it returns the postnet output and the decoder output. Discriminator loss:
``0.5 * (BCE(D(fake), 0) + BCE(D(real), 1))`` (the published ``GANLoss`` with
``use_lsgan=False``; the sigmoid is folded into the loss, see the discriminator). Generator
loss: ``lambda_gan * BCE(D(fake), 1) + lambda_mel * (MSE(decoder, real) + MSE(postnet,
real))`` with ``lambda_mel`` = 1e4 (``lambda_Oriloss``). Validation: the video alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vs_plugin.interfaces import GANSystem
from vs_plugin.models import regnet as _regnet  # noqa: F401  (registers the generator)
from vs_plugin.models.discriminators import regnet as _regnet_d  # noqa: F401
from vs_plugin.registry import SYSTEMS


@dataclass
class RegNetSystemConfig:
    lambda_mel: float = 10000.0  # lambda_Oriloss
    lambda_gan: float = 1.0  # 0 = the published wo_G_GAN switch
    d_scale: float = 0.5  # the discriminator's loss is the mean of its real and fake terms


def bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of sigmoid(``logits``) against all-ones (real) or all-zeros."""
    logits = logits.float()
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def _scores(disc: nn.Module, mel: torch.Tensor, video: torch.Tensor) -> torch.Tensor:
    return disc(mel, video if getattr(disc, "needs_video", False) else None)


@SYSTEMS.register("regnet", config=RegNetSystemConfig)
class RegNetSystem(GANSystem):
    """REGNET's conditional GAN with the audio forwarding regularizer."""

    def forward(self, generator: nn.Module, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        fake, dec = generator(batch["video"], target=batch["mel"], return_decoder=True)
        return {"fake": fake, "decoder": dec}

    def discriminator_losses(self, discs, weights, names, batch, outputs):
        fake, video = outputs["fake"].detach(), batch["video"]
        parts = [
            self.cfg.d_scale
            * (bce(_scores(d, fake, video), False) + bce(_scores(d, batch["mel"], video), True))
            for d in discs
        ]
        total = sum(w * p for w, p in zip(weights, parts))
        return {"loss_d": total, **{f"d_{n}": p for n, p in zip(names, parts)}}

    def generator_losses(self, generator, discs, weights, batch, outputs):
        real = batch["mel"].float()
        mse = F.mse_loss(outputs["decoder"].float(), real) + F.mse_loss(
            outputs["fake"].float(), real
        )
        total = self.cfg.lambda_mel * mse
        out = {"mel_mse": mse.detach()}
        if discs:
            adv = sum(
                w * bce(_scores(d, outputs["fake"], batch["video"]), True)
                for d, w in zip(discs, weights)
            )
            total = total + self.cfg.lambda_gan * adv
            out["adv_g"] = adv.detach()
        return {"loss_g": total, **out}

    def infer(self, generator, batch, condition):
        return generator(batch["video"])

    def loss_names(self, disc_names):
        names = ["loss_g", "mel_mse"]
        if disc_names:
            names += ["adv_g", "loss_d", *(f"d_{n}" for n in disc_names)]
        return names
