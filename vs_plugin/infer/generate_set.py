"""Generate a mel for every clip of a set from its video and a chosen reference.

What recipe stage 3 (``vs-infer``) runs. Reads ``dump/<set>/{video,mel}/feats.scp`` (raw
features) and ``data/<set>/utt2category``; writes ``<out>/mel/<utt>.npy`` (raw log-mel
float32), ``mel.scp``, ``pairs.tsv`` and ``failed.list``. Finished utterances are skipped on a
rerun (every file is written atomically) unless ``overwrite``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import yaml
from tqdm import tqdm

from vs_plugin.data.kaldi_dir import UTT2CATEGORY, read_data_dir, write_failed
from vs_plugin.data.layout import feats_scp
from vs_plugin.data.layout import mel_scp as mel_scp_path
from vs_plugin.errors import InputError, OutputError
from vs_plugin.infer.generation import (
    GenerationConfig,
    crop_reference,
    fit_frames,
    generate_batch,
    generate_mel,
)
from vs_plugin.infer.pairing import Pair, make_pairs, pairs_tsv_path, write_pairs_tsv
from vs_plugin.models.varietysound import VarietySoundModel
from vs_plugin.utils.files import read_scp, save_npy_atomic, write_scp, write_text_atomic

log = logging.getLogger(__name__)


@dataclass
class GenerateSetConfig:
    """How ``generate_set`` pairs, batches and resumes."""

    policy: str = "shuffled"
    pairs_file: str | None = None
    seed: int = 0
    with_background: bool = False  # True: the video clip's own mel feeds the background encoder
    batch_size: int = 8
    overwrite: bool = False
    strict: bool = False  # stop at the first failing utterance


def _load(scp: dict[str, str], utt: str, what: str) -> np.ndarray:
    if utt not in scp:
        raise InputError(None, f"{utt}: no {what} features in the dump")
    return np.load(scp[utt]).astype(np.float32)


def generate_set(
    model: VarietySoundModel | Mapping[str, VarietySoundModel],
    data_dir: str | Path,
    dump_dir: str | Path,
    out_dir: str | Path,
    cfg: GenerateSetConfig | None = None,
    gen: GenerationConfig | None = None,
) -> dict[str, int]:
    """Generate every pair; returns counts ``{"done", "skipped", "failed"}``.

    ``model`` is one model for every clip, or one per category (the paper's protocol: the
    model of the video's category generates it, whatever the reference's category).
    """
    cfg, gen = cfg or GenerateSetConfig(), gen or GenerationConfig()
    data_dir, dump_dir, out_dir = Path(data_dir), Path(dump_dir), Path(out_dir)
    utt2cat = read_data_dir(data_dir, required=(UTT2CATEGORY,), optional=()).category
    models = model if isinstance(model, Mapping) else None
    if models is not None:
        missing = sorted(set(utt2cat.values()) - set(models))
        if missing:
            raise InputError(None, f"no model for categories {missing} (have {sorted(models)})")

    def model_of(p: Pair) -> VarietySoundModel:
        return models[utt2cat[p.video]] if models is not None else model  # type: ignore[return-value]

    video_scp = read_scp(feats_scp(dump_dir, "video"))
    mel_scp = read_scp(feats_scp(dump_dir, "mel"))
    pairs = make_pairs(utt2cat, cfg.policy, seed=cfg.seed, pairs_file=cfg.pairs_file)
    mel_dir = out_dir / "mel"
    mel_dir.mkdir(parents=True, exist_ok=True)
    write_pairs_tsv(pairs_tsv_path(out_dir), pairs)
    where = (
        {c: str(m.directory) for c, m in sorted(models.items())}
        if models is not None
        else str(model.directory)  # type: ignore[union-attr]
    )
    settings = {"stage3": vars(cfg), "generation": vars(gen), "model": where}
    write_text_atomic(out_dir / "infer.yaml", yaml.safe_dump(settings, sort_keys=False))
    todo = [p for p in pairs if cfg.overwrite or not (mel_dir / f"{p.utt}.npy").exists()]
    counts = {"done": 0, "skipped": len(pairs) - len(todo), "failed": 0}
    failures: list[tuple[str, str]] = []

    def inputs(p: Pair) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        video = _load(video_scp, p.video, "video")
        ref = _load(mel_scp, p.reference, "mel")
        bg = _load(mel_scp, p.video, "mel") if cfg.with_background else None
        return video, ref, bg

    def fail(group: list[Pair], exc: Exception) -> None:
        if cfg.strict:
            raise exc
        for p in group:
            log.warning("%s: %s", p.utt, exc)
            failures.append((p.utt, str(exc)))
            counts["failed"] += 1
            bar.update()

    def flush(group: list[tuple[Pair, tuple]], seed: int) -> None:
        try:
            mels = _generate_group(model_of(group[0][0]), group, gen, seed)
        except OutputError:
            raise
        except Exception as exc:
            fail([p for p, _ in group], exc)
            return
        for (p, _), mel in zip(group, mels):
            save_npy_atomic(mel_dir / f"{p.utt}.npy", mel)
            counts["done"] += 1
            bar.update()

    # Clips of equal shape (the usual fixed-length test set) share one generator call.
    batches: dict[tuple, list[tuple[Pair, tuple]]] = {}
    bar = tqdm(total=len(todo), desc=f"generate ({cfg.policy})", unit="utt")
    for i, p in enumerate(todo):
        try:
            x = inputs(p)
            if len(x[0]) > gen.window:
                mel, _ = generate_mel(model_of(p), *x, cfg=replace(gen, seed=cfg.seed + i))
                save_npy_atomic(mel_dir / f"{p.utt}.npy", mel)
                counts["done"] += 1
                bar.update()
                continue
            key = (
                x[0].shape,
                min(len(x[1]), gen.max_reference_frames),
                x[2] is None,
                id(model_of(p)),
            )
            batches.setdefault(key, []).append((p, x))
        except OutputError:  # a full disk stops the set: the next item would fail too
            raise
        except Exception as exc:  # one bad utterance must not stop the set
            fail([p], exc)
            continue
        if len(batches[key]) >= cfg.batch_size:
            flush(batches.pop(key), cfg.seed + i)
    for n, group in enumerate(list(batches.values())):
        flush(group, cfg.seed + len(todo) + n)
    bar.close()
    done = {p.utt: (mel_dir / f"{p.utt}.npy").resolve() for p in pairs}
    write_scp(mel_scp_path(out_dir), {u: f for u, f in done.items() if f.exists()})
    write_failed(out_dir / "failed.list", failures)
    return counts


def _generate_group(model: VarietySoundModel, group, gen: GenerationConfig, seed: int):
    if gen.drop_temporal == "noise" or gen.drop_timbre == "noise":
        torch.manual_seed(seed)
    videos = [x[0] for _, x in group]
    refs = [crop_reference(x[1], gen.max_reference_frames) for _, x in group]
    bgs = None
    if group[0][1][2] is not None:
        bgs = [fit_frames(x[2], len(x[0]) * model.upsample) for _, x in group]
    return generate_batch(model, videos, refs, bgs, gen)
