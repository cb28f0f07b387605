"""VarietySound losses, equations (1)-(7) of the paper, in least-squares GAN form.

Pure functions of tensors and modules: no optimiser steps, no ``backward``. The trainer calls
:func:`generator_loss` with the discriminators' scores on the generated mel, and
:func:`discriminator_loss` per discriminator (``shifted`` only for the alignment one).
Each ``||.||_2`` of the paper is read as a mean squared error over every score (LSGAN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class LossConfig:
    lambda_m: float = 10000.0  # weight of the mel L1 loss, eq. (1)
    lambda_a: float = 1.0  # weight of the adversarial loss, eq. (1)
    shift_min: int = 22  # frames (~0.25 s at 86 mel frames/s) for the misaligned negative
    shift_max: int = 430  # frames (half of a 10 s clip)
    shift_target: str = "real"  # which mel is shifted: "real" (paper text) or "fake" (eq. 6)
    # Not in the paper: weight of a timbre-consistency term, 1 - cosine between the acoustic
    # encoder's vector of the generated mel and of the reference (the encoder frozen for this
    # term), which rewards outputs whose timbre the reference decides. 0 = off.
    lambda_t: float = 0.0


def mel_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Eq. (2): mean absolute error between the generated and the target mel."""
    return F.l1_loss(fake.float(), real.float())


def ls_real(scores: torch.Tensor) -> torch.Tensor:
    """Mean of ``(1 - D)^2``: zero when every score says "real" (1)."""
    return (1.0 - scores.float()).pow(2).mean()


def ls_fake(scores: torch.Tensor) -> torch.Tensor:
    """Mean of ``D^2``: zero when every score says "fake" (0)."""
    return scores.float().pow(2).mean()


def adversarial_loss(
    fake_scores: Sequence[torch.Tensor], weights: Sequence[float] | None = None
) -> torch.Tensor:
    """Eq. (3): sum over discriminators of ``weight * mean (1 - D(m_hat))^2``."""
    if not fake_scores:
        raise ValueError("adversarial_loss: no discriminator scores")
    weights = [1.0] * len(fake_scores) if weights is None else list(weights)
    if len(weights) != len(fake_scores):
        raise ValueError(f"{len(fake_scores)} score tensors but {len(weights)} weights")
    return sum(w * ls_real(s) for w, s in zip(weights, fake_scores))  # type: ignore[return-value]


def generator_loss(
    fake_mel: torch.Tensor,
    real_mel: torch.Tensor,
    fake_scores: Sequence[torch.Tensor] = (),
    weights: Sequence[float] | None = None,
    lambda_m: float = 10000.0,
    lambda_a: float = 1.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. (1): ``lambda_m * L_mel + lambda_a * L_adv``; no scores = reconstruction only.

    Returns the total and its parts (``mel``, ``adv``, detached) for logging.
    """
    l_mel = mel_loss(fake_mel, real_mel)
    total = lambda_m * l_mel
    parts = {"mel": l_mel.detach()}
    if fake_scores:
        l_adv = adversarial_loss(fake_scores, weights)
        total = total + lambda_a * l_adv
        parts["adv"] = l_adv.detach()
    return total, parts


def discriminator_loss(
    real_scores: torch.Tensor,
    fake_scores: torch.Tensor,
    shifted_scores: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eqs. (4)-(7): ``mean (1 - D(m))^2 + mean D(m_hat)^2 [+ mean D(S[m])^2]``."""
    loss = ls_real(real_scores) + ls_fake(fake_scores)
    if shifted_scores is not None:
        loss = loss + ls_fake(shifted_scores)
    return loss


def time_shift(
    mel: torch.Tensor,
    min_shift: int,
    max_shift: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """S[.]: roll each example along time by its own random shift, for a misaligned negative.

    The shift magnitude is uniform in ``[min_shift, max_shift]`` frames with a random sign;
    ``max_shift`` is lowered to ``T - min_shift`` so a roll never wraps back to near-aligned.
    The content is kept (a circular roll), only its timing moves. ``generator`` is a CPU
    ``torch.Generator`` for reproducible draws.
    """
    b, _, t = mel.shape
    hi = min(max_shift, t - min_shift)
    if min_shift < 1 or hi < min_shift:
        raise ValueError(
            f"time_shift: cannot shift a {t}-frame mel by [{min_shift}, {max_shift}] frames "
            "without wrapping back into alignment"
        )
    amount = torch.randint(min_shift, hi + 1, (b,), generator=generator)
    sign = torch.randint(0, 2, (b,), generator=generator) * 2 - 1
    shift = (amount * sign).to(mel.device)
    idx = (torch.arange(t, device=mel.device).unsqueeze(0) - shift.unsqueeze(1)) % t
    return torch.gather(mel, 2, idx.unsqueeze(1).expand(-1, mel.shape[1], -1))


def _scores(disc: nn.Module, mel: torch.Tensor, video: torch.Tensor | None) -> torch.Tensor:
    return disc(mel, video if getattr(disc, "needs_video", False) else None)


def discriminator_step_loss(
    disc: nn.Module,
    real_mel: torch.Tensor,
    fake_mel: torch.Tensor,
    video: torch.Tensor | None,
    cfg: LossConfig | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One discriminator's loss on a batch (``fake_mel`` is detached here).

    Discriminators with ``needs_video`` get the video; those that also set
    ``wants_misaligned_negative`` (the alignment one) get a third, time-shifted negative
    (``cfg.shift_target`` picks whether the real or the generated mel is shifted), eq. (6);
    the others get eq. (7).
    """
    cfg = cfg or LossConfig()
    mels = [real_mel, fake_mel.detach()]
    if getattr(disc, "needs_video", False) and getattr(disc, "wants_misaligned_negative", False):
        if cfg.shift_target not in ("real", "fake"):
            raise ValueError(f"shift_target must be 'real' or 'fake', got {cfg.shift_target!r}")
        source = mels[0] if cfg.shift_target == "real" else mels[1]
        mels.append(time_shift(source, cfg.shift_min, cfg.shift_max, generator))
    if getattr(disc, "scores_many", False) and getattr(disc, "needs_video", False):
        scores = list(disc(mels, video))  # the video's side computed once
    else:
        scores = [_scores(disc, m, video) for m in mels]
    return discriminator_loss(scores[0], scores[1], scores[2] if len(scores) > 2 else None)


def generator_step_loss(
    discs: Sequence[nn.Module],
    weights: Sequence[float],
    fake_mel: torch.Tensor,
    real_mel: torch.Tensor,
    video: torch.Tensor | None,
    cfg: LossConfig | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. (1) on a batch: scores every discriminator on ``fake_mel`` (gradients flow)."""
    cfg = cfg or LossConfig()
    scores = [_scores(d, fake_mel, video) for d in discs]
    return generator_loss(fake_mel, real_mel, scores, weights, cfg.lambda_m, cfg.lambda_a)


def timbre_consistency_loss(
    encoder: nn.Module, fake_mel: torch.Tensor, ref_mel: torch.Tensor
) -> torch.Tensor:
    """``mean(1 - cos(E(fake), E(ref)))`` with ``E = encoder.encode`` (a timbre vector).

    The encoder's own weights get no gradient from this term (they are frozen while it is
    computed) and the reference side is a constant, so the term cannot be met by collapsing
    the encoder; only the generated mel moves towards the reference's timbre.
    """
    with torch.no_grad():
        target = encoder.encode(ref_mel).float()
    params = [p for p in encoder.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        emb = encoder.encode(fake_mel).float()
    finally:
        for p in params:
            p.requires_grad_(True)
    return (1.0 - F.cosine_similarity(emb, target, dim=-1)).mean()
