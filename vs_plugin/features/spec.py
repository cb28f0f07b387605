"""What produced a stream of the dump: ``dump/<set>/<stream>/feature_spec.yaml``.

Stage 1 writes one spec per stream before extracting anything; it is the only record of how
the features were made. Training copies the training set's specs into the exported model
(``generator.yaml``) and ``vs-generate`` rebuilds the video feature from that copy, so a
non-default option (e.g. ``image_size=112``) reaches inference without anyone repeating it.

A spec is a mapping (see docs/CONTRACTS.md)::

    version: 1
    stream: video            # mel | video
    fps: 21.5                # video frames per second of the clips (stage 0's --fps)
    upsample: 4              # mel frames per video frame
    feature: {name: effnet_rgb_flow, image_size: 112, ...every field of its config}

Fields in ``RUNTIME_FIELDS`` (device, batch size, backend) say where and how fast features
are computed, not what they are: they are recorded but ignored when two specs are compared,
and inference replaces ``device`` with its own (and ``backend`` with ``auto``, which suits
that device).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vs_plugin.audio.mel import MelConfig
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.registry import VIDEO_FEATURES, Registry, config_to_dict
from vs_plugin.utils.files import write_text_atomic

log = logging.getLogger("vs_plugin.features.spec")

SPEC_FILE = "feature_spec.yaml"
SPEC_VERSION = 1
DEFAULT_VIDEO_FEATURE = "effnet_rgb_flow"
RUNTIME_FIELDS = frozenset({"device", "batch_size", "backend"})
_KEYS = ("version", "stream", "fps", "upsample", "feature")


def resolve_feature(registry: Registry[Any], feature: Any) -> dict[str, Any]:
    """``{"name": ..., **every config field}`` of a registry spec after defaults and overrides.

    ``feature`` is a name, a mapping ``{"name": ..., **fields}`` or a config instance.
    Raises ``RegistryError`` for unknown names or fields.
    """
    entry, cfg = registry.make_config(feature)
    return config_to_dict(entry.name, cfg)


def make_spec(stream: str, feature: Mapping[str, Any], fps: float, upsample: int) -> dict[str, Any]:
    """The content of a stream's ``feature_spec.yaml`` (``feature`` already resolved)."""
    return {
        "version": SPEC_VERSION,
        "stream": stream,
        "fps": float(fps),
        "upsample": int(upsample),
        "feature": dict(feature),
    }


def read_spec(path: str | Path) -> dict[str, Any] | None:
    """The spec at ``path``, or None when there is none; InputError if it is malformed."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(path, f"unreadable YAML ({first})") from None
    if not isinstance(spec, Mapping) or any(k not in spec for k in _KEYS):
        raise InputError(path, f"not a feature spec (needs the keys {', '.join(_KEYS)})")
    if not isinstance(spec["feature"], Mapping) or "name" not in spec["feature"]:
        raise InputError(path, "not a feature spec ('feature' must be a mapping with a 'name')")
    if spec["version"] != SPEC_VERSION:
        raise InputError(path, f"spec version {spec['version']!r}; this code reads {SPEC_VERSION}")
    return dict(spec)


def _comparable(spec: Mapping[str, Any]) -> dict[str, Any]:
    plain = yaml.safe_load(yaml.safe_dump(dict(spec)))  # tuples -> lists, as on disk
    plain["feature"] = {k: v for k, v in plain["feature"].items() if k not in RUNTIME_FIELDS}
    return plain


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def spec_differences(on_disk: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``["feature.image_size: 112 on disk, 224 now", ...]``; runtime fields are ignored."""
    a, b = _flat(_comparable(on_disk)), _flat(_comparable(now))
    absent = object()
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key, absent), b.get(key, absent)
        if x != y:
            shown = ["absent" if v is absent else repr(v) for v in (x, y)]
            out.append(f"{key}: {shown[0]} on disk, {shown[1]} now")
    return out


def _summary(diffs: list[str]) -> str:
    return "; ".join(diffs[:3]) + (f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else "")


def record_spec(path: str | Path, spec: Mapping[str, Any], *, has_features: bool) -> None:
    """Write ``spec`` to ``path``, or check it against the spec already there.

    Raises InputError naming ``path`` when the spec on disk differs (other than in runtime
    fields): features made with different options must not be mixed in one stream.
    ``has_features`` says whether the stream already holds features; with no spec on disk
    they come from before specs were recorded, which is logged as a warning.
    """
    path = Path(path)
    on_disk = read_spec(path)
    if on_disk is None:
        if has_features:
            log.warning(
                "%s: missing beside existing features (extracted before specs were recorded); "
                "recording this run's options, which are assumed to match them",
                path,
            )
        write_text_atomic(path, yaml.safe_dump(dict(spec), sort_keys=False))
        return
    diffs = spec_differences(on_disk, spec)
    if diffs:
        raise InputError(
            path,
            f"features there were made with other options ({_summary(diffs)}); rerun with the "
            f"options on disk, or delete {path.parent} to extract again",
        )


def mel_config(feature: Mapping[str, Any], path: str | Path | None = None) -> MelConfig:
    """The ``MelConfig`` a recorded audio feature computed (InputError naming ``path``)."""
    names = [f.name for f in dataclasses.fields(MelConfig)]
    missing = [n for n in names if n not in feature]
    if missing:
        raise InputError(
            path, f"audio feature {feature.get('name')!r} records no mel analysis (no {missing})"
        )
    return MelConfig(**{n: feature[n] for n in names})


@dataclass
class DumpSpecs:
    """What the training set's features were made with: the two facts an export records."""

    video_feature: dict[str, Any]  # {"name": ..., **every field}
    mel: MelConfig


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    from omegaconf import DictConfig, OmegaConf

    if isinstance(value, DictConfig):
        return dict(OmegaConf.to_container(value, resolve=True))
    return dict(value)


def dump_specs(
    train_dir: str | Path,
    others: Iterable[str | Path] = (),
    video_feature: Mapping[str, Any] | None = None,
) -> DumpSpecs:
    """Read ``<train_dir>/{mel,video}/feature_spec.yaml`` for training and export.

    ``others`` (e.g. the validation set's dump dir) must hold the same specs when they hold
    any. ``video_feature`` (``data.video_feature`` of the training config) is only a check:
    each field it gives must equal the recorded one. A dump without specs (made before they
    were recorded) falls back to ``video_feature`` or the default extractor and the default
    mel analysis, with a warning. Raises InputError naming the offending file.
    """
    train_dir = Path(train_dir)
    asked = _as_dict(video_feature)
    found: dict[str, tuple[Path, dict[str, Any] | None]] = {}
    for stream in ("mel", "video"):
        path = train_dir / stream / SPEC_FILE
        spec = read_spec(path)
        for other in others:
            other_path = Path(other) / stream / SPEC_FILE
            other_spec = read_spec(other_path)
            if spec is not None and other_spec is not None:
                diffs = spec_differences(spec, other_spec)
                if diffs:
                    raise InputError(other_path, f"differs from {path}: {_summary(diffs)}")
        found[stream] = (path, spec)
    (mel_path, mel_spec), (video_path, video_spec) = found["mel"], found["video"]
    if mel_spec is not None and video_spec is not None:
        for key in ("fps", "upsample"):
            if mel_spec[key] != video_spec[key]:
                raise InputError(
                    video_path, f"{key}={video_spec[key]} but {mel_path} has {mel_spec[key]}"
                )
    if video_spec is None:
        video = {"name": DEFAULT_VIDEO_FEATURE, **asked}
        log.warning(
            "%s: missing (features extracted before specs were recorded); assuming %s",
            video_path,
            video,
        )
    else:
        video = dict(video_spec["feature"])
        for key, value in asked.items():
            if video.get(key) != value:
                raise InputError(
                    video_path,
                    f"features were extracted with {key}={video.get(key)!r}, but "
                    f"data.video_feature.{key}={value!r}",
                )
    if mel_spec is None:
        mel = MelConfig()
        log.warning("%s: missing; assuming the default mel analysis %s", mel_path, mel)
    else:
        mel = mel_config(mel_spec["feature"], mel_path)
    return DumpSpecs(video_feature=video, mel=mel)


def build_video_feature(
    spec: Mapping[str, Any],
    device: str | None = None,
    runtime: Mapping[str, Any] | None = None,
) -> Any:
    """Build the recorded video feature; ``device`` (if given) replaces the recorded one, and
    then a recorded ``backend`` becomes ``auto`` (the runtime that suits that device).

    ``runtime`` sets further ``RUNTIME_FIELDS`` (e.g. ``{"backend": "torch"}``); every other
    field is used as recorded, so the features match the training ones. Raises
    ``ConfigError`` when ``runtime`` names a field that changes the features (or ``device``,
    which has its own argument), ``RegistryError`` for an unknown name or field.
    """
    spec = dict(spec)
    fields = {f.name for f in dataclasses.fields(VIDEO_FEATURES.get(spec["name"]).config_cls)}
    if device is not None:
        if "device" in fields:
            spec["device"] = str(device)
        if "backend" in fields:
            spec["backend"] = "auto"
    for key, value in (runtime or {}).items():
        if key not in RUNTIME_FIELDS - {"device"} or key not in fields:
            allowed = sorted((RUNTIME_FIELDS - {"device"}) & fields)
            raise ConfigError(
                f"video feature option {key!r} cannot be set at inference: the model records "
                f"how its features were made (settable: {', '.join(allowed) or 'none'})"
            )
        spec[key] = value
    return VIDEO_FEATURES.build(spec)
