"""Ignite handlers of a training run: metrics, logging, images and audio, best model, export.

Everything that writes files runs on rank 0 only; metrics are reduced over all processes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import numpy as np
import scipy.fft
import torch
import yaml
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, ProgressBar, global_step_from_engine
from ignite.handlers.base_logger import BaseHandler
from ignite.handlers.tensorboard_logger import (
    OptimizerParamsHandler,
    OutputHandler,
    TensorboardLogger,
)
from ignite.metrics import Metric, RunningAverage
from ignite.metrics.metric import reinit__is_reduced, sync_all_reduce
from torch import nn

from vs_plugin.audio.mel import MelConfig
from vs_plugin.data.normalize import Normalizer
from vs_plugin.infer.vocode import vocode
from vs_plugin.interfaces import Vocoder
from vs_plugin.registry import REGISTRIES
from vs_plugin.train.checkpoint import AtomicDiskSaver
from vs_plugin.utils.files import write_text_atomic

log = logging.getLogger(__name__)

BEST_PREFIX = "best"


class MelCepstralDistortion(Metric):
    """Mel-domain MCD proxy (dB): cepstra = orthonormal DCT-II of the de-normalised log-mel.

    Not the WORLD/mel-cepstrum MCD of the ``mcd`` scorer (that needs waveforms); it is the same
    formula, ``10 / ln 10 * sqrt(2 * sum_k (c_k - c'_k)^2)`` over coefficients 1..``n_coeffs``,
    averaged over frames, cheap enough to compute every epoch on the validation set.
    """

    def __init__(
        self,
        mean: np.ndarray,
        scale: np.ndarray,
        n_coeffs: int = 13,
        output_transform: Any = lambda o: (o["fake"], o["real"]),
        device: str | torch.device = "cpu",
    ) -> None:
        n_mels = len(mean)
        dct = scipy.fft.dct(np.eye(n_mels), type=2, norm="ortho", axis=0)[1 : n_coeffs + 1]
        self._dct = torch.as_tensor(dct, dtype=torch.float32)
        self._mean = torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1)
        self._scale = torch.as_tensor(scale, dtype=torch.float32).reshape(1, -1, 1)
        super().__init__(output_transform=output_transform, device=device)

    @reinit__is_reduced
    def reset(self) -> None:
        self._sum = torch.tensor(0.0, dtype=torch.float64, device=self._device)
        self._frames = 0

    @reinit__is_reduced
    def update(self, output: Sequence[torch.Tensor]) -> None:
        fake, real = (t.detach().float().cpu() for t in output)
        diff = (fake - real) * self._scale  # the means cancel in the difference
        cep = torch.einsum("kc,bct->btk", self._dct, diff)
        per_frame = (10.0 / math.log(10.0)) * torch.sqrt(2.0 * cep.pow(2).sum(-1))
        self._sum += per_frame.sum().to(self._device, torch.float64)
        self._frames += per_frame.numel()

    @sync_all_reduce("_sum", "_frames")
    def compute(self) -> float:
        return float(self._sum) / max(1, self._frames)


def attach_running_averages(trainer: Engine, names: Sequence[str]) -> None:
    """A running average (Ignite's default smoothing) of every loss the step returns.

    Losses absent from an iteration (discriminators during warm-up) count as 0.
    """
    for name in names:
        RunningAverage(output_transform=lambda o, n=name: o.get(n, 0.0)).attach(trainer, name)


def attach_progress(trainer: Engine) -> None:
    if idist.get_rank() == 0:
        ProgressBar(persist=True).attach(trainer, metric_names="all")


def attach_tensorboard(
    trainer: Engine,
    evaluator: Engine,
    log_dir: Path,
    optimizers: Mapping[str, torch.optim.Optimizer],
    every: int,
) -> TensorboardLogger | None:
    """Scalars: every running loss, the learning rates and the validation metrics."""
    if idist.get_rank() != 0:
        return None
    tb = TensorboardLogger(log_dir=str(log_dir))
    tb.attach(
        trainer,
        OutputHandler(tag="train", metric_names="all"),
        Events.ITERATION_COMPLETED(every=max(1, every)),
    )
    for name, opt in optimizers.items():
        tb.attach(
            trainer,
            OptimizerParamsHandler(opt, param_name="lr", tag=name),
            Events.ITERATION_STARTED(every=max(1, every)),
        )
    tb.attach(
        evaluator,
        OutputHandler(
            tag="valid", metric_names="all", global_step_transform=global_step_from_engine(trainer)
        ),
        Events.COMPLETED,
    )
    trainer.add_event_handler(Events.COMPLETED, lambda _: tb.close())
    return tb


def mel_image(generated: torch.Tensor, real: torch.Tensor) -> np.ndarray:
    """One ``(2 * n_mels + 1, frames)`` image in [0, 1]: generated above real, low bins down."""
    g, r = generated.float().cpu().numpy(), real.float().cpu().numpy()
    lo, hi = float(min(g.min(), r.min())), float(max(g.max(), r.max()))
    rng = hi - lo if hi > lo else 1.0
    sep = np.ones((1, g.shape[1]), dtype=np.float32)
    img = np.concatenate([g[::-1], sep * rng + lo, r[::-1]], axis=0)
    return ((img - lo) / rng).clip(0.0, 1.0).astype(np.float32)


def media_vocoder(name: str, mel: MelConfig, n_mels: int) -> Vocoder:
    """The vocoder that makes validation audio audible in TensorBoard.

    ``griffin_lim`` (default; no weights, cheap on a CPU) is built for the dump's own mel
    analysis; any other registered vocoder (``hifigan``: as stage 4 hears it) is used when it
    takes ``n_mels`` bins, else Griffin-Lim with a warning.
    """
    from vs_plugin.infer.vocode import build_vocoder
    from vs_plugin.models.vocoders.griffin_lim import GriffinLimVocoder

    if name != "griffin_lim":
        vocoder = build_vocoder(name, "cpu")
        if vocoder.n_mels == n_mels and vocoder.hop_length == mel.hop_length:
            return vocoder
        log.warning(
            "vocoder %s does not take this dump's mels: validation audio by Griffin-Lim", name
        )
    return GriffinLimVocoder(mel=mel)


class ValidationMediaHandler(BaseHandler):
    """Ignite TensorBoard handler: how a few fixed validation pairs look and sound.

    At each call, for every sample (a dataset item: normalised ``video``, ``mel``,
    ``ref_mel``, ``bg_mel``, channels first), the generator's output is logged as an image
    (generated above real, ``mel_image``) and as audio (de-normalised and vocoded), together
    with the reference's audio (vocoded the same way, so both are heard through the same
    vocoder), under ``<tag>/<i>_<utt>/...`` at the trainer's iteration.
    """

    def __init__(
        self,
        generator: nn.Module,
        samples: Sequence[Mapping[str, Any]],
        device: torch.device,
        mel_stats: Normalizer,
        vocoder: Vocoder,
        tag: str = "valid_media",
        infer: Callable[[nn.Module, Mapping[str, Any]], torch.Tensor] | None = None,
    ) -> None:
        self.infer = infer  # (model, batch) -> generated mels; default model(video, ref, bg)
        self.generator, self.samples, self.device = generator, list(samples), device
        self.mel_stats, self.vocoder, self.tag = mel_stats, vocoder, tag
        self._references: dict[int, torch.Tensor] = {}

    def _audio(self, normalised_mel: torch.Tensor) -> torch.Tensor:
        """``(n_mels, frames)`` normalised mel -> ``(1, samples)`` waveform in [-1, 1]."""
        mel = self.mel_stats.inverse(normalised_mel.float().cpu().numpy(), channel_axis=0)
        wav = vocode(self.vocoder, mel.T)
        peak = float(np.abs(wav).max()) if wav.size else 0.0
        wav = wav / peak * 0.95 if peak > 0.95 else wav
        return torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))[None]

    def __call__(self, engine: Engine, logger: TensorboardLogger, event_name: Any) -> None:
        step = engine.state.iteration
        model = self.generator
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                for i, sample in enumerate(self.samples):
                    batch = {
                        k: v[None].to(self.device) for k, v in sample.items() if torch.is_tensor(v)
                    }
                    if self.infer is None:
                        fake = model(batch["video"], batch["ref_mel"], batch["bg_mel"])
                    else:
                        fake = self.infer(model, batch)
                    fake = fake[0].float()
                    name = f"{self.tag}/{i}_{sample.get('utt', i)}"
                    sr = self.vocoder.sample_rate
                    logger.writer.add_image(
                        f"{name}/mel_generated_vs_real",
                        mel_image(fake, sample["mel"]),
                        step,
                        dataformats="HW",
                    )
                    logger.writer.add_audio(f"{name}/generated", self._audio(fake), step, sr)
                    if i not in self._references:
                        self._references[i] = self._audio(sample["ref_mel"])
                    logger.writer.add_audio(
                        f"{name}/reference_{sample.get('ref_utt', '')}",
                        self._references[i],
                        step,
                        sr,
                    )
        finally:
            model.train(was_training)
        logger.writer.flush()


def pick_media_samples(dataset: Any, n: int) -> list[Mapping[str, Any]]:
    """Up to ``n`` validation items spread over the set (first, last, evenly between)."""
    if n <= 0 or len(dataset) == 0:
        return []
    picks = sorted({int(round(x)) for x in np.linspace(0, len(dataset) - 1, min(n, len(dataset)))})
    return [dataset[i] for i in picks]


def attach_validation_media(
    trainer: Engine,
    tb: TensorboardLogger | None,
    handler: ValidationMediaHandler,
    every: int,
) -> None:
    """Run ``handler`` every ``every`` epochs; 0 turns it off."""
    if tb is None or every <= 0 or not handler.samples:
        return
    tb.attach(trainer, handler, Events.EPOCH_COMPLETED(every=every))


def attach_best_checkpoint(
    trainer: Engine,
    evaluator: Engine,
    to_save: Mapping[str, Any],
    directory: Path,
    metric: str = "val_mel_l1",
    lower_is_better: bool = True,
) -> Checkpoint:
    """Keep the models with the best validation ``metric`` as ``best_*.pt``."""
    sign = -1.0 if lower_is_better else 1.0

    def score(engine: Engine) -> float:
        value = engine.state.metrics.get(metric)
        return float("-inf") if value is None else sign * float(value)

    best = Checkpoint(
        dict(to_save),
        AtomicDiskSaver(directory),
        filename_prefix=BEST_PREFIX,
        score_function=score,
        score_name=("neg_" if lower_is_better else "") + metric,
        global_step_transform=global_step_from_engine(trainer, Events.ITERATION_COMPLETED),
        n_saved=1,
    )
    evaluator.add_event_handler(Events.COMPLETED, best)
    return best


def component_record(generator_spec: Mapping[str, Any], disc_specs: Sequence[Mapping]) -> dict:
    """Every component by kind, name and providing distribution (for ``config.yaml``)."""
    rows: list[dict[str, str]] = []

    def add(kind: str, name: str) -> None:
        entry = REGISTRIES[kind].get(name)
        rows.append({"kind": kind, "name": name, "provider": entry.provider})

    add("generator", generator_spec["name"])
    for key, value in generator_spec.items():
        if isinstance(value, Mapping) and "name" in value and key in REGISTRIES:
            add(key, value["name"])
    for spec in disc_specs:
        add("discriminator", spec["name"])
    return {"components": rows}


def write_experiment_config(
    path: Path, job: Mapping[str, Any], generator_spec: Mapping, disc_specs: Sequence[Mapping]
) -> None:
    """``exp/<tag>/config.yaml``: the resolved job config, the built specs and their providers."""
    record = {
        **dict(job),
        "resolved": {"generator": dict(generator_spec), "discriminators": list(disc_specs)},
        **component_record(generator_spec, disc_specs),
    }
    write_text_atomic(path, yaml.safe_dump(record, sort_keys=False))
