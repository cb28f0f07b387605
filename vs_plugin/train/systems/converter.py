"""The converter system: the cascade's SpeechSplit-style converter, trained as SpeechSplit is.

Self-reconstruction on the training corpus: the source is the clip's mel and the timbre
reference is the batch's ``ref_mel`` (the clip itself, or a crop of it with
``data.reference_frames``); the loss is the mean squared error to the clip's mel
(SpeechSplit's ``solver.py``). No discriminator. Validation: the validation clip converted
with the batch's reference (another sound source under the ``inference`` condition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vs_plugin.errors import ConfigError
from vs_plugin.interfaces import GANSystem
from vs_plugin.models import converter as _converter  # noqa: F401  (registers the model)
from vs_plugin.registry import SYSTEMS


@dataclass
class ConverterSystemConfig:
    lambda_mel: float = 1.0


@SYSTEMS.register("converter", config=ConverterSystemConfig)
class ConverterSystem(GANSystem):
    """Mel + reference -> mel, by self-reconstruction (no adversarial term)."""

    def forward(self, generator: nn.Module, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return {"fake": generator(None, batch["ref_mel"], source=batch["mel"])}

    def discriminator_losses(self, discs, weights, names, batch, outputs):
        raise ConfigError(
            "the converter system trains without discriminators (model.discriminators=[])"
        )

    def generator_losses(self, generator, discs, weights, batch, outputs):
        if discs:
            raise ConfigError(
                "the converter system trains without discriminators (model.discriminators=[])"
            )
        mse = F.mse_loss(outputs["fake"].float(), batch["mel"].float())
        return {"loss_g": self.cfg.lambda_mel * mse, "mel_mse": mse.detach()}

    def infer(self, generator, batch, condition):
        return generator(None, batch["ref_mel"], source=batch["mel"])

    def loss_names(self, disc_names):
        return ["loss_g", "mel_mse"]
