"""Exported models: the whole :class:`VarietySoundModel` state plus what rebuilds it.

Layout of ``exp/<tag>/model/`` (see docs/CONTRACTS.md): ``model.pt`` (the flat state dict of
the whole model: ``generator.*`` and the normalisation buffers; the file fairseq2 loads),
``generator.yaml`` (``format`` 3: the model config, i.e. the generator spec, its dims, the
video-feature spec and the mel analysis), ``mel_stats.npz`` / ``video_stats.npz`` (copies of
the statistics for tools that read them without torch), ``card.yaml`` (a fairseq2 asset
card whose ``model_config`` is the same config). ``load_exported`` reads the folder, a
``card.yaml`` path, or a fairseq2 card name (through fairseq2's asset store, when fairseq2
is importable; this module never imports the extension).

Folders exported before ``format`` 3 hold the generator's state dict alone
(``generator.pt``) and take the statistics from the npz files: they load as before.
``format`` 2 recorded the feature specs as the dump did; older files (no ``format``)
recorded only the extractor's name and assumed the default mel analysis: they load with a
warning.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import yaml

from vs_plugin.audio.mel import MelConfig
from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import InputError
from vs_plugin.features.spec import DEFAULT_VIDEO_FEATURE
from vs_plugin.interfaces import Generator
from vs_plugin.models.varietysound import VarietySoundModel, VarietySoundModelConfig, config_for
from vs_plugin.registry import GENERATORS
from vs_plugin.utils.files import atomic_path, write_text_atomic

log = logging.getLogger("vs_plugin.export")

FAMILY = "varietysound"
MODEL_FILE = "model.pt"
LEGACY_GENERATOR_FILE = "generator.pt"  # format <= 2: the generator's state dict alone
SPEC_FILE = "generator.yaml"
CARD_FILE = "card.yaml"
STATS_FILES = {"mel": "mel_stats.npz", "video": "video_stats.npz"}
SPEC_FORMAT = 3  # model.pt holds the whole model; generator.yaml its config
FEATURE_SPEC_FORMAT = 2  # the first format that recorded the dump's feature specs


def default_card_name(exp_dir: str | Path) -> str:
    """A card name derived from the experiment folder, e.g. ``varietysound_vas_tiny``."""
    tag = Path(exp_dir).resolve().name
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in tag)
    return f"{FAMILY}_{safe}"


def card_dict(
    name: str, config: VarietySoundModelConfig, checkpoint: str, arch: str | None
) -> dict[str, Any]:
    """The fairseq2 asset card of an exported model.

    The config goes under ``_set_``: fairseq2 merges mappings key by key into the arch's
    config, which would mix another generator's spec into this one; ``_set_`` replaces.
    """
    card: dict[str, Any] = {"name": name, "model_family": FAMILY}
    if arch:
        card["model_arch"] = arch
    card["model_config"] = {"_set_": config.to_dict()}
    card["checkpoint"] = checkpoint
    return card


def export_generator(
    generator: Generator,
    spec: dict[str, Any],
    out_dir: str | Path,
    mel_stats: Normalizer | str | Path,
    video_stats: Normalizer | str | Path,
    video_feature_spec: dict[str, Any],
    *,
    mel: MelConfig | None = None,
    card_name: str | None = None,
    arch: str | None = None,
) -> Path:
    """Wrap ``generator`` with its statistics and features, write ``out_dir``; return the card.

    ``mel_stats`` / ``video_stats`` are normalisers or their npz files. ``video_feature_spec``
    and ``mel`` are stored as given: pass the training dump's
    (``vs_plugin.features.spec.dump_specs``), every field of the video feature included, so
    that inference rebuilds the same extractor.
    """
    config = config_for(generator, spec, video_feature_spec, mel)
    model = VarietySoundModel(generator, config)
    model.set_statistics(_normalizer(mel_stats), _normalizer(video_stats))
    return export_model(model, out_dir, card_name=card_name, arch=arch)


def export_model(
    model: VarietySoundModel,
    out_dir: str | Path,
    *,
    card_name: str | None = None,
    arch: str | None = None,
) -> Path:
    """Write ``out_dir`` (see module docstring) for ``model``; return the card's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(out / MODEL_FILE, suffix=".pt") as tmp:
        torch.save(state, tmp)
    model.mel_stats.save(out / STATS_FILES["mel"])
    model.video_stats.save(out / STATS_FILES["video"])
    meta = {"format": SPEC_FORMAT, **model.config.to_dict(), "arch": arch}
    write_text_atomic(out / SPEC_FILE, yaml.safe_dump(meta, sort_keys=False))
    name = card_name or default_card_name(out.parent)
    card = card_dict(name, model.config, MODEL_FILE, arch)
    write_text_atomic(out / CARD_FILE, yaml.safe_dump(card, sort_keys=False))
    return out / CARD_FILE


def _normalizer(stats: Normalizer | str | Path) -> Normalizer:
    return stats if isinstance(stats, Normalizer) else Normalizer.load(stats)


def load_exported(
    source: str | Path, device: str | torch.device = "cpu", *, strict: bool = True
) -> VarietySoundModel:
    """Load an exported model (eval mode, on ``device``) from its folder, card, or card name.

    Raises InputError naming the file for a missing or unreadable part, or naming
    ``source`` when it is no folder or file and no fairseq2 card resolves it. Folders of
    older formats load too (see the module docstring).
    """
    directory = _resolve_dir(source) or card_directory(str(source))
    meta_path = directory / SPEC_FILE
    meta = _read_meta(meta_path)
    if _format(meta) >= SPEC_FORMAT:
        model = _load_model(directory, meta, strict)
    else:
        model = _load_legacy(directory, meta, strict)
    model.directory = directory
    return model.to(device).eval()


def _resolve_dir(source: str | Path) -> Path | None:
    """The model folder that ``source`` (folder, card file, checkpoint) names, else None."""
    path = Path(source)
    if path.is_dir():
        return path
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        card = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ckpt = Path(card.get("checkpoint", MODEL_FILE))
        ckpt = ckpt if ckpt.is_absolute() else path.parent / ckpt
        return ckpt.parent
    if path.is_file() and path.suffix == ".pt":
        return path.parent
    return None


def card_directory(name: str) -> Path:
    """The folder of the checkpoint that the fairseq2 asset card ``name`` points at.

    Imports fairseq2 here, not before: the rest of vs_plugin runs without it. Its asset
    store sees the cards fairseq2 knows, including those the ``vs_plugin`` extension
    registers (``VS_PLUGIN_CARD_PATH``). InputError when fairseq2 is missing or knows no
    such card.
    """
    try:
        from fairseq2.assets import get_asset_store
    except ImportError as exc:
        raise InputError(
            name, f"not a model folder or card file, and fairseq2 is unavailable ({exc})"
        ) from None
    try:
        uri = get_asset_store().retrieve_card(name).field("checkpoint").as_uri()
    except Exception as exc:  # unknown name, malformed card: fairseq2's own message
        raise InputError(
            name, f"not a model folder, card file or fairseq2 card ({_first_line(exc)})"
        ) from None
    if uri.scheme != "file":
        raise InputError(name, f"the card's checkpoint is not a local file ({uri})")
    return uri.to_path().parent


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_meta(meta_path: Path) -> dict[str, Any]:
    if not meta_path.is_file():
        raise InputError(meta_path, "missing from the exported model folder")
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or "generator" not in meta:
        raise InputError(meta_path, "not an exported generator spec (no 'generator' key)")
    return meta


def _format(meta: dict[str, Any]) -> int:
    fmt = meta.get("format", 1)
    return fmt if isinstance(fmt, int) else 1


def _load_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise InputError(path, "missing from the exported model folder")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or foreign file
        raise InputError(path, f"not a readable checkpoint ({exc})") from None


def _load_into(module: torch.nn.Module, state: dict, path: Path, strict: bool) -> None:
    try:
        module.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        raise InputError(path, f"does not match {SPEC_FILE}: {_first_line(exc)}") from None


def _load_model(directory: Path, meta: dict[str, Any], strict: bool) -> VarietySoundModel:
    """Format 3: the config from ``generator.yaml``, the whole state from ``model.pt``."""
    meta_path = directory / SPEC_FILE
    video_feature, mel = _feature_specs(meta, meta_path)
    try:
        config = VarietySoundModelConfig(
            generator=dict(meta["generator"]),
            n_mels=int(meta["n_mels"]),
            video_dim=int(meta["video_dim"]),
            video_feature=video_feature,
            mel=mel,
        )
        model = VarietySoundModel.from_config(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(meta_path, f"not a model config ({type(exc).__name__}: {exc})") from None
    path = directory / MODEL_FILE
    _load_into(model, _load_state(path), path, strict)
    return model


def _load_legacy(directory: Path, meta: dict[str, Any], strict: bool) -> VarietySoundModel:
    """Formats 1-2: ``generator.pt`` (generator alone) and the statistics' npz files."""
    stats_paths = {k: directory / f for k, f in STATS_FILES.items()}
    for p in stats_paths.values():
        if not p.is_file():
            raise InputError(p, "missing from the exported model folder")
    video_feature, mel = _feature_specs(meta, directory / SPEC_FILE)
    generator = GENERATORS.build(meta["generator"])
    path = directory / LEGACY_GENERATOR_FILE
    _load_into(generator, _load_state(path), path, strict)
    config = config_for(generator, meta["generator"], video_feature, mel)
    try:
        model = VarietySoundModel(generator, config)
        model.set_statistics(*(Normalizer.load(stats_paths[k]) for k in ("mel", "video")))
    except ValueError as exc:
        raise InputError(directory / SPEC_FILE, str(exc)) from None
    return model


def _feature_specs(meta: dict[str, Any], meta_path: Path) -> tuple[dict[str, Any], MelConfig]:
    """The recorded video-feature spec and mel analysis (defaults for older exports)."""
    if _format(meta) < FEATURE_SPEC_FORMAT:
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
