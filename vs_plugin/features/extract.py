"""Stage 1: per-utterance features of one stream into ``dump/<set>/<stream>/``.

Job J of N takes every N-th utterance of the data dir, writes ``data/<utt>.npy`` (float16,
``(frames, dims)``) atomically and skips utterances whose array already exists, so a killed
stage resumes without recomputing. Every job and the merge first write, or check against
the one on disk, the stream's ``feature_spec.yaml`` (``vs_plugin.features.spec``): a run
with other options than the features already there is refused. The merge step writes
``feats.scp`` and ``feats_shape``, lists failures in ``failed.list``, checks mel frames =
upsample x video frames when both streams exist, and fits (training set) or copies (other
sets) the normalisation statistics.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from tqdm import tqdm

from vs_plugin.audio.io import load_audio
from vs_plugin.data.kaldi_dir import copy_labels, read_data_dir, write_failed
from vs_plugin.data.layout import (
    STREAMS,
    feats_scp,
    read_feats_shape,
    shape_file,
    stream_dir,
    write_feats_shape,
)
from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.features.spec import SPEC_FILE, make_spec, read_spec, record_spec, spec_differences
from vs_plugin.registry import AUDIO_FEATURES, VIDEO_FEATURES, config_to_dict
from vs_plugin.utils.files import (
    atomic_path,
    save_npy_atomic,
    write_scp,
    write_text_atomic,
)
from vs_plugin.video.io import read_frames, video_info

log = logging.getLogger("vs_plugin.extract")


@dataclass
class ExtractConfig:
    stream: str = "mel"
    # A registry spec: name, {"name": ..., **fields} or a config. A video feature's ``fps``
    # field follows ``fps`` below unless given; given, it must equal it.
    feature: Any = "mel"
    fps: float = 21.5  # video frame rate of the conformed clips (stage 0's --fps)
    upsample: int = 4  # mel frames per video frame

    def __post_init__(self) -> None:
        if self.stream not in STREAMS:
            raise ConfigError(f"stream must be one of {STREAMS}, not {self.stream!r}")


def feature_spec(cfg: ExtractConfig) -> dict[str, Any]:
    """The stream's full spec (``feature_spec.yaml`` content): every field of the feature.

    Raises ConfigError when a video feature's ``fps`` is given and differs from ``cfg.fps``
    (features would be computed at one rate and decoded at another), RegistryError for
    unknown names or fields.
    """
    registry = AUDIO_FEATURES if cfg.stream == "mel" else VIDEO_FEATURES
    entry, fcfg = registry.make_config(cfg.feature)
    if cfg.stream == "video" and hasattr(fcfg, "fps") and float(fcfg.fps) != float(cfg.fps):
        given = not isinstance(cfg.feature, str) and (
            not isinstance(cfg.feature, Mapping) or "fps" in cfg.feature
        )
        if given:
            raise ConfigError(
                f"video feature fps={fcfg.fps} differs from the clips' fps={cfg.fps} (--fps)"
            )
        fcfg = dataclasses.replace(fcfg, fps=float(cfg.fps))
    return make_spec(cfg.stream, config_to_dict(entry.name, fcfg), cfg.fps, cfg.upsample)


def build_extractor(cfg: ExtractConfig, spec: Mapping[str, Any] | None = None):
    """The extractor that ``spec`` (default: ``feature_spec(cfg)``) records."""
    spec = spec or feature_spec(cfg)
    registry = AUDIO_FEATURES if cfg.stream == "mel" else VIDEO_FEATURES
    return registry.build(dict(spec["feature"]))


def _has_features(sdir: Path) -> bool:
    return any((sdir / "data").glob("*.npy"))


def _load_wav(path: Path, sample_rate: int) -> np.ndarray:
    try:
        wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        return load_audio(path, sample_rate)
    if sr != sample_rate:
        return load_audio(path, sample_rate)
    return wav.mean(axis=1)


def mel_of(extractor, wav_path: Path, cfg: ExtractConfig) -> np.ndarray:
    """Mel cropped to ``upsample`` x the clip's video frames (10 s: 861 -> 860 = 4 x 215)."""
    wav = _load_wav(wav_path, extractor.sample_rate)
    mel = extractor(wav)
    video_frames = int(round(wav.shape[0] / extractor.sample_rate * cfg.fps))
    need = cfg.upsample * video_frames
    if mel.shape[0] < need:
        raise InputError(wav_path, f"mel has {mel.shape[0]} frames, {need} needed")
    return mel[:need]


def video_of(extractor, video_path: Path, source: Path | None) -> np.ndarray:
    if getattr(extractor, "needs_frames", True):
        frames = read_frames(video_path)
    else:  # precomputed features: only the frame count matters
        info = video_info(video_path)
        frames = np.zeros((int(round(info.duration * info.fps)), 1, 1, 3), np.uint8)
    return extractor(frames, source=source or video_path)


def run_job(
    data_dir: str | Path, out: str | Path, cfg: ExtractConfig, *, nj: int = 1, job: int = 0
) -> dict[str, str]:
    """Extract this job's utterances; returns ``{utt: reason}`` for the failures.

    Raises InputError naming ``<out>/<stream>/feature_spec.yaml`` when the features there
    were made with other options.
    """
    if not 0 <= job < nj:
        raise ConfigError(f"job {job} is not in 0..{nj - 1}")
    data = read_data_dir(data_dir)
    sdir = stream_dir(out, cfg.stream)
    spec = feature_spec(cfg)
    (sdir / "data").mkdir(parents=True, exist_ok=True)
    record_spec(sdir / SPEC_FILE, spec, has_features=_has_features(sdir))
    mine = data.utts[job::nj]
    todo = [u for u in mine if not (sdir / "data" / f"{u}.npy").is_file()]
    log.info("job %d/%d: %d utterances, %d already done", job, nj, len(mine), len(mine) - len(todo))
    failures: dict[str, str] = {}
    extractor = build_extractor(cfg, spec) if todo else None
    for utt in tqdm(todo, desc=f"{cfg.stream} job {job}/{nj}", unit="utt", mininterval=2.0):
        rec = data.record(utt)
        try:
            if cfg.stream == "mel":
                feats = mel_of(extractor, rec.wav, cfg)
            else:
                feats = video_of(extractor, rec.video, rec.source)
            if not np.all(np.isfinite(feats)):
                raise InputError(rec.video, "features contain NaN or Inf")
        except (InputError, ValueError, FileNotFoundError) as exc:
            failures[utt] = str(exc)
            log.warning("failed: %s\t%s", utt, exc)
            continue
        save_npy_atomic(sdir / "data" / f"{utt}.npy", feats.astype(np.float16))
    write_text_atomic(
        sdir / "log" / f"failed.{job}.of.{nj}",
        "".join(f"{u}\t{r}\n" for u, r in sorted(failures.items())),
    )
    return failures


def _other_stream_lengths(out: Path, stream: str) -> dict[str, int]:
    other = "video" if stream == "mel" else "mel"
    path = shape_file(out, other)
    if not path.is_file():
        return {}
    return {u: t for u, (t, _) in read_feats_shape(path).items()}


def merge(
    data_dir: str | Path,
    out: str | Path,
    cfg: ExtractConfig,
    *,
    fit_stats: bool = False,
    stats_from: str | Path | None = None,
) -> dict[str, int]:
    """Write feats.scp / feats_shape / failed.list (+ stats); check mel = upsample x video.

    Raises InputError when ``feature_spec.yaml`` records other options than ``cfg``, or
    (with ``stats_from``) than the statistics' set.
    """
    out = Path(out)
    data = read_data_dir(data_dir)
    sdir = stream_dir(out, cfg.stream)
    spec = feature_spec(cfg)
    record_spec(sdir / SPEC_FILE, spec, has_features=_has_features(sdir))
    reasons: dict[str, str] = {}
    for f in sorted((sdir / "log").glob("failed.*")):
        for line in f.read_text(encoding="utf-8").splitlines():
            utt, _, reason = line.partition("\t")
            reasons[utt] = reason
    scp, shapes, missing = {}, {}, []
    for utt in data.utts:
        npy = (sdir / "data" / f"{utt}.npy").absolute()
        if not npy.is_file():
            missing.append((utt, reasons.get(utt, "not extracted (job not run or killed)")))
            continue
        arr = np.load(npy, mmap_mode="r")
        scp[utt], shapes[utt] = npy, (int(arr.shape[0]), int(arr.shape[1]))
    write_failed(sdir / "failed.list", missing)
    if not scp:
        raise InputError(sdir, f"no {cfg.stream} features were extracted; see failed.list")
    other = _other_stream_lengths(out, cfg.stream)
    bad = []
    for utt, shape in shapes.items():
        if utt not in other:
            continue
        t = shape[0]
        mel_t, vid_t = (t, other[utt]) if cfg.stream == "mel" else (other[utt], t)
        if mel_t != cfg.upsample * vid_t:
            bad.append(f"{utt} (mel {mel_t}, video {vid_t})")
    if bad:
        raise InputError(
            out, f"mel frames != {cfg.upsample} x video frames for {len(bad)}: {', '.join(bad[:3])}"
        )
    write_scp(feats_scp(out, cfg.stream), scp)
    write_feats_shape(shape_file(out, cfg.stream), shapes)
    # the dump is self-contained: datasets read categories from it, not from data/
    copy_labels(data_dir, out, set(scp))
    if fit_stats:
        arrays = (np.load(p).astype(np.float32) for p in tqdm(scp.values(), desc="stats"))
        Normalizer.fit(arrays).save(sdir / "stats.npz")
    elif stats_from is not None:
        src = Path(stats_from)
        theirs = read_spec(src / cfg.stream / SPEC_FILE)
        if theirs is not None and (diffs := spec_differences(theirs, spec)):
            raise InputError(
                src / cfg.stream / SPEC_FILE, f"statistics of other features: {diffs[0]}"
            )
        for cand in (src / cfg.stream / "stats.npz", src / "stats.npz", src):
            if cand.is_file():
                Normalizer.load(cand)  # fail early on a broken file
                with atomic_path(sdir / "stats.npz") as tmp:
                    shutil.copyfile(cand, tmp)
                break
        else:
            raise InputError(src, f"no {cfg.stream} stats.npz found there")
    log.info("%s: %d utterances, %d failed", sdir, len(scp), len(missing))
    return {"ok": len(scp), "failed": len(missing)}
