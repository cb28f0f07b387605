"""Typed configuration of a training run (stage 2), registered in Hydra's ConfigStore.

Defaults are the paper's (batch 48, 500 epochs, AdamW (0.5, 0.999), 2e-4 held for 100
epochs then linear decay; the loss weights lambda_m = 10000, lambda_a = 1 live in
``vs_plugin.train.losses.LossConfig``). The YAML presets in ``vs_plugin/conf/preset/`` only
change what differs from them, and name their model (``model.preset``) without restating it:
the models are ``vs_plugin.models.presets.PRESETS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from vs_plugin.train.losses import LossConfig

SCHEMA_NAME = "vs_train_schema"


@dataclass
class ModelConfig:
    # A ``vs_plugin.models.presets`` name: the generator and discriminator defaults.
    preset: str = "paper"
    # Deep-merged onto ``generator_spec(preset)``; a part whose ``name`` changes is replaced.
    # Open to new keys (see ``schema``): ``model.generator.decoder.n_blocks=6`` needs no ``+``;
    # a field the component does not have is a ConfigError when the run starts.
    generator: dict[str, Any] = field(default_factory=dict)
    # None: the preset's discriminators. Else a list of names or ``{name, weight, ...}``
    # (fields not given come from the preset's spec of that name).
    discriminators: list[Any] | None = None
    # The GAN system (``vs_plugin.registry.SYSTEMS``: forward pass and losses), a name or
    # ``{name, ...config}``; None: the preset's (``varietysound`` unless it says otherwise).
    system: Any = None


@dataclass
class DataConfig:
    train_set: str = "train"
    valid_set: str = "valid"
    segment_frames: int | None = None  # video frames per training crop; None = whole clips
    # Not in the paper: mel frames of the training reference, a random crop of the clip drawn
    # independently of the target's, so the timbre code cannot identify (and the decoder
    # memorise) the exact target. None = the whole target, as in the paper.
    reference_frames: int | None = None
    # Not in the paper: which clip gives the training reference. "self" (the paper: the target
    # itself, scrambled by the encoder) or "other_same_timbre" (another clip of the same sound
    # source, ``utt2timbre``; the target itself where the source is unknown): the timbre code
    # then has to describe the source, as at inference. See vs_plugin.data.dataset.REFERENCES.
    reference: str = "self"
    # Where the reference crop is cut: "random" or "event" (around one of the clip's loudest
    # frames: sparse real clips are mostly silence; docs/QUALITY.md)
    reference_crop: str = "random"
    # What produced dump/*/video is read from dump/<train_set>/video/feature_spec.yaml (and
    # stored with the exported generator). Fields given here (``+data.video_feature.name=X``)
    # are only checked against it; empty: nothing to check.
    video_feature: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainConfig:
    batch_size: int = 48  # global, split over processes
    epochs: int = 500
    max_iters: int | None = None  # stop earlier (smoke runs, benchmarks)
    categories: list[str] | None = None  # None: all categories at once
    lr: float = 2e-4
    hold_epochs: int = 100  # constant lr, then linear decay to 0 at the last epoch
    optimizer: str = "adamw"  # "adamw" (the paper) or "adam" (REGNET, SpeechSplit)
    # PyTorch's fused optimiser kernel (one pass over all parameters, CPU and CUDA) instead of
    # a loop over the parameters: the same update up to float rounding (BENCHMARKS.md)
    fused_optimizer: bool = True
    # CPU only: flush denormal floats to zero. LSTM backpropagation through time makes tiny
    # gradients whose denormal arithmetic is many times slower on x86 (BENCHMARKS.md)
    flush_denormal: bool = True
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    eps: float = 1e-8
    weight_decay: float = 0.01
    disc_steps: int = 1  # discriminator updates per generator update
    generator_warmup_steps: int = 0  # first iterations: generator only, L1 only
    grad_clip: float | None = None  # max gradient norm, both nets
    amp: str = "bf16"  # CUDA only: "bf16", "fp16" (with GradScaler) or "none"
    compile: bool = False  # torch.compile the generator (CUDA)
    num_workers: int = 4
    checkpoint_every: int = 1000  # iterations (and at every epoch end)
    keep_checkpoints: int = 2
    validate_every: int = 1  # epochs
    image_every: int = 10  # epochs: mel images and audio of fixed validation pairs (0: off)
    media_pairs: int = 3  # validation pairs logged to TensorBoard (image, audio, reference)
    media_vocoder: str = "griffin_lim"  # their audio: griffin_lim (cheap) or hifigan
    log_every: int = 50  # iterations: TensorBoard scalars
    progress_bar: bool = True
    export_best: bool = False  # export the best-validation generator instead of the last
    # Validation: "inference" = each clip with a fixed reference of another sound source, a
    # silent background and eval-mode R (what users get); "reconstruction" = the clip as its
    # own reference with its real background (the training condition).
    validation: str = "inference"
    # The metric that picks the best checkpoint: "auto" (val_ideal_l1 where the corpus can
    # render ideal outputs, else val_ref_match where sources are known, else
    # val_mfcc_leakage) or one of vs_plugin.train.validation.SELECTABLE.
    select_metric: str = "auto"
    detect_anomaly: bool = True  # stop on NaN/Inf losses


@dataclass
class DistConfig:
    backend: str | None = None  # None: nccl when several CUDA processes, else single process
    nproc_per_node: int | None = None  # spawn this many local processes (else torchrun/env)


@dataclass
class TrainJobConfig:
    tag: str = "varietysound"
    exp_dir: str = "exp/${tag}"
    dump_dir: str = "dump"
    seed: int = 1234
    resume_from: str | None = "auto"  # "auto" (newest valid checkpoint), null, or a path
    device: str = "auto"  # "auto", "cpu", "cuda"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    dist: DistConfig = field(default_factory=DistConfig)


def schema() -> DictConfig:
    """``TrainJobConfig`` as Hydra's schema, with ``model.generator`` open to new keys.

    Hydra closes the composed config (struct mode), so a key that no config file sets could
    only be added with a leading ``+``; ``model.generator`` holds overrides of the preset's
    spec, which the preset files do not restate, so it is left open. Its keys are checked
    against the components' fields instead (``vs_plugin.models.presets.check_spec``).
    """
    node = OmegaConf.structured(TrainJobConfig)
    OmegaConf.set_struct(node.model.generator, False)
    return node


ConfigStore.instance().store(name=SCHEMA_NAME, node=schema())
