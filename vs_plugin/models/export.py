"""Exported generators: a flat state dict plus everything inference needs to use it.

Layout of ``exp/<tag>/model/`` (see docs/CONTRACTS.md): ``generator.pt`` (flat state dict, the
only file fairseq2 loads), ``generator.yaml`` (generator spec, video-feature spec, mel
analysis), ``mel_stats.npz`` / ``video_stats.npz`` (normalisation), ``card.yaml`` (a fairseq2
asset card). ``load_exported`` reads the directory, a ``card.yaml`` path, or a fairseq2 card
name (the latter through fairseq2, when it is importable).

``generator.yaml`` of ``format`` 2 holds the video-feature spec and mel analysis exactly as
the training dump's ``feature_spec.yaml`` files recorded them (``vs_plugin.features.spec``);
inference rebuilds the extractor from it. Older files (no ``format``) recorded only the
extractor's name and a default mel analysis: they load as before, with a warning.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from vs_plugin.audio.mel import MelConfig
from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import InputError
from vs_plugin.features.spec import DEFAULT_VIDEO_FEATURE
from vs_plugin.interfaces import Generator
from vs_plugin.registry import GENERATORS
from vs_plugin.utils.files import atomic_path, write_text_atomic

log = logging.getLogger("vs_plugin.export")

FAMILY = "varietysound"
GENERATOR_FILE = "generator.pt"
SPEC_FILE = "generator.yaml"
CARD_FILE = "card.yaml"
SPEC_FORMAT = 2  # generator.yaml records the dump's feature specs (absent: an older export)


@dataclass
class ExportedModel:
    """A trained generator with its normalisation and the features it expects."""

    generator: Generator
    spec: dict[str, Any]
    mel_stats: Normalizer
    video_stats: Normalizer
    video_feature: dict[str, Any]  # {"name": ..., **config}: what vs-generate builds
    mel: MelConfig  # the analysis of the training mels (and of references at inference)
    directory: Path | None = None

    @property
    def upsample(self) -> int:
        return int(self.generator.upsample)


def default_card_name(exp_dir: str | Path) -> str:
    """A card name derived from the experiment folder, e.g. ``varietysound_vas_tiny``."""
    tag = Path(exp_dir).resolve().name
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in tag)
    return f"{FAMILY}_{safe}"


def card_dict(name: str, spec: dict[str, Any], checkpoint: str, arch: str | None) -> dict:
    """The fairseq2 asset card for an exported generator."""
    card: dict[str, Any] = {"name": name, "model_family": FAMILY}
    if arch:
        card["model_arch"] = arch
    card["model_config"] = {"generator": spec}
    card["checkpoint"] = checkpoint
    return card


def export_generator(
    generator: Generator,
    spec: dict[str, Any],
    out_dir: str | Path,
    mel_stats_path: str | Path,
    video_stats_path: str | Path,
    video_feature_spec: dict[str, Any],
    *,
    mel: MelConfig | None = None,
    card_name: str | None = None,
    arch: str | None = None,
    install_card: bool = False,
) -> Path:
    """Write ``out_dir`` (see module docstring) and return the card's path.

    ``video_feature_spec`` and ``mel`` are stored as given: pass the training dump's
    (``vs_plugin.features.spec.dump_specs``), every field of the video feature included,
    so that inference rebuilds the same extractor. ``install_card`` also writes a copy of
    the card, with an absolute checkpoint path, into the fairseq2 user asset folder so that
    ``load_model(card_name)`` finds it from anywhere.
    """
    mel = mel or MelConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    with atomic_path(out / GENERATOR_FILE, suffix=".pt") as tmp:
        torch.save(state, tmp)
    for src, dst in ((mel_stats_path, "mel_stats.npz"), (video_stats_path, "video_stats.npz")):
        if Path(src).resolve() != (out / dst).resolve():
            with atomic_path(out / dst, suffix=".npz") as tmp:
                shutil.copyfile(src, tmp)
    meta = {
        "format": SPEC_FORMAT,
        "generator": spec,
        "video_feature": dict(video_feature_spec),
        "mel": dataclasses.asdict(mel),
        "arch": arch,
    }
    write_text_atomic(out / SPEC_FILE, yaml.safe_dump(meta, sort_keys=False))
    name = card_name or default_card_name(out.parent)
    card = card_dict(name, spec, GENERATOR_FILE, arch)
    write_text_atomic(out / CARD_FILE, yaml.safe_dump(card, sort_keys=False))
    if install_card:
        install_card_file(out / CARD_FILE)
    return out / CARD_FILE


def user_asset_dir() -> Path:
    """fairseq2's user asset folder (``FAIRSEQ2_USER_ASSET_DIR`` or ~/.config/fairseq2/assets)."""
    import os

    env = os.environ.get("FAIRSEQ2_USER_ASSET_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "fairseq2" / "assets"


def install_card_file(card_path: str | Path) -> Path:
    """Copy a card into the user asset folder, making its checkpoint path absolute."""
    card_path = Path(card_path).resolve()
    card = yaml.safe_load(card_path.read_text(encoding="utf-8"))
    ckpt = Path(card["checkpoint"])
    if not ckpt.is_absolute():
        card["checkpoint"] = str((card_path.parent / ckpt).resolve())
    dst = user_asset_dir() / "vs_plugin" / f"{card['name']}.yaml"
    write_text_atomic(dst, yaml.safe_dump(card, sort_keys=False))
    return dst


def _resolve_dir(source: str | Path) -> Path | None:
    path = Path(source)
    if path.is_dir():
        return path
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        card = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ckpt = Path(card.get("checkpoint", GENERATOR_FILE))
        ckpt = ckpt if ckpt.is_absolute() else path.parent / ckpt
        return ckpt.parent
    if path.is_file() and path.suffix == ".pt":
        return path.parent
    return None


def load_exported(
    source: str | Path, device: str | torch.device = "cpu", *, strict: bool = True
) -> ExportedModel:
    """Load an exported model from its folder, its card file, or a fairseq2 card name.

    Raises InputError naming the file for a missing or unreadable part. An older
    ``generator.yaml`` without recorded feature specs loads with the default extractor
    options and mel analysis, and a logged warning.
    """
    directory = _resolve_dir(source)
    if directory is None:
        return _load_from_fairseq2_card(str(source), device)
    meta_path = directory / SPEC_FILE
    ckpt_path = directory / GENERATOR_FILE
    for p in (meta_path, ckpt_path, directory / "mel_stats.npz", directory / "video_stats.npz"):
        if not p.exists():
            raise InputError(p, "missing from the exported model folder")
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or "generator" not in meta:
        raise InputError(meta_path, "not an exported generator spec (no 'generator' key)")
    video_feature, mel = _feature_specs(meta, meta_path)
    generator = GENERATORS.build(meta["generator"])
    try:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or foreign file
        raise InputError(ckpt_path, f"not a readable checkpoint ({exc})") from None
    try:
        generator.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(ckpt_path, f"does not match {SPEC_FILE}: {first}") from None
    generator.to(device).eval()
    return ExportedModel(
        generator=generator,
        spec=meta["generator"],
        mel_stats=Normalizer.load(directory / "mel_stats.npz"),
        video_stats=Normalizer.load(directory / "video_stats.npz"),
        video_feature=video_feature,
        mel=mel,
        directory=directory,
    )


def _feature_specs(meta: dict[str, Any], meta_path: Path) -> tuple[dict[str, Any], MelConfig]:
    """The recorded video-feature spec and mel analysis (defaults for older exports)."""
    fmt = meta.get("format", 1)
    if not isinstance(fmt, int) or fmt < SPEC_FORMAT:
        log.warning(
            "%s: older export without the features' recorded options; the video feature is "
            "built from its name with default options and the mel analysis is assumed, "
            "which may not match the training features",
            meta_path,
        )
    video_feature = meta.get("video_feature") or {"name": DEFAULT_VIDEO_FEATURE}
    if not isinstance(video_feature, dict) or "name" not in video_feature:
        raise InputError(meta_path, "'video_feature' must be a mapping with a 'name'")
    try:
        mel = MelConfig(**(meta.get("mel") or {}))
    except TypeError as exc:
        raise InputError(meta_path, f"'mel' is not a mel analysis ({exc})") from None
    return dict(video_feature), mel


def _load_from_fairseq2_card(name: str, device: str | torch.device) -> ExportedModel:
    """Resolve a card name through fairseq2's asset store, then read its folder."""
    try:
        from vs_plugin.fairseq2_ext import card_checkpoint_path
    except ImportError as exc:
        raise InputError(name, f"not a model folder, and fairseq2 is unavailable ({exc})") from None
    ckpt = card_checkpoint_path(name)
    return load_exported(ckpt.parent, device)
