"""Assemble ScoringItems from the recipe's directories (docs/CONTRACTS.md layouts).

For a generated utterance ``u`` with pair (video ``v``, reference ``r``) from ``pairs.tsv``:
target = vocoded ground truth of ``v`` (``infer_<set>_gt``), reference = original audio of
``r``, original = original audio of ``v`` (``data/<set>/wav.scp``), category and event times
of ``v``, and, when ``utt2meta`` exists (built-in corpus), the ideal output (``v``'s events in
``r``'s timbre) rendered once into a cache directory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from vs_plugin.audio.io import save_wav
from vs_plugin.data.kaldi_dir import (
    SOUND,
    UTT2CATEGORY,
    WAV_SCP,
    DataDir,
    read_data_dir,
    read_wav_scp,
)
from vs_plugin.errors import InputError
from vs_plugin.infer.pairing import pairs_tsv_path, read_pairs_tsv
from vs_plugin.interfaces import ScoringItem

Renderer = Callable[[dict, dict, int], np.ndarray]


def read_pairs(infer_dir: Path, utts: list[str]) -> list[tuple[str, str, str]]:
    """``pairs.tsv`` rows (utt, video_utt, reference_utt); without it, each clip is its own."""
    path = pairs_tsv_path(infer_dir)
    if not path.exists():
        return [(u, u, u) for u in utts]
    return [(p.utt, p.video, p.reference) for p in read_pairs_tsv(path).values()]


def _ideal_path(cache: Path, video: str, ref: str, vmeta: dict, rmeta: dict, sr: int) -> Path:
    blob = json.dumps([vmeta, rmeta, sr], sort_keys=True, default=str).encode()
    return cache / f"{video}__{ref}.{hashlib.sha1(blob).hexdigest()[:10]}.wav"


def _default_renderer() -> Renderer:
    try:
        from vs_plugin.data.synth import render_ideal
    except ImportError as exc:
        raise InputError(
            None, f"cannot render ideal targets: vs_plugin.data.synth ({exc})"
        ) from None
    return render_ideal


def render_ideals(
    items: list[ScoringItem],
    data: DataDir,
    cache: Path,
    sample_rate: int = 22050,
    renderer: Renderer | None = None,
) -> None:
    """Set ``item.ideal`` for every item whose video and reference have ground truth."""
    if not data.meta:
        return
    renderer = renderer or _default_renderer()
    for item in items:
        video, ref = item.extra["video_utt"], item.extra["reference_utt"]
        if video not in data.meta or ref not in data.meta:
            continue
        vmeta, rmeta = data.meta_of(video), data.meta_of(ref)
        path = _ideal_path(cache, video, ref, vmeta, rmeta, sample_rate)
        if not path.exists():
            save_wav(path, renderer(vmeta, rmeta, sample_rate), sample_rate)
        item.ideal = path


def build_items(
    infer_dir: str | Path,
    data_dir: str | Path | DataDir,
    gt_dir: str | Path | None = None,
) -> list[ScoringItem]:
    """One ScoringItem per utterance of ``infer_dir/wav.scp`` (sorted by utt).

    ``data_dir`` is the set's folder or a :class:`DataDir` read with (at least) the
    ``SOUND`` tables. Raises InputError naming the file when a table is missing or
    malformed, or when a pair names a clip the set lacks.
    """
    infer_dir = Path(infer_dir)
    data = data_dir if isinstance(data_dir, DataDir) else read_data_dir(data_dir, required=SOUND)
    generated = read_wav_scp(infer_dir)
    target = read_wav_scp(gt_dir) if gt_dir is not None else {}
    pairs = {u: (v, r) for u, v, r in read_pairs(infer_dir, sorted(generated))}
    pairs_path = pairs_tsv_path(infer_dir)
    items = []
    for utt in sorted(generated):
        if utt not in pairs:
            raise InputError(pairs_path, f"{utt} (in {WAV_SCP}) has no row")
        video, ref = pairs[utt]
        for role, key in (("video", video), ("reference", ref)):
            if key not in data.wav:
                raise InputError(
                    pairs_path, f"{utt}: {role} {key!r} is not in {data.file(WAV_SCP)}"
                )
        if video not in data.category:
            raise InputError(data.file(UTT2CATEGORY), f"{video}: no category")
        items.append(
            ScoringItem(
                utt=utt,
                generated=Path(generated[utt]),
                category=data.category[video],
                target=Path(target[video]) if video in target else None,
                reference=Path(data.wav[ref]),
                original=Path(data.wav[video]),
                event_times=data.events.get(video) if data.events else None,
                extra={
                    "video_utt": video,
                    "reference_utt": ref,
                    "cross": video != ref,
                    "data_dir": str(data.path),
                    "video_timbre": data.timbre.get(video),
                    "reference_timbre": data.timbre.get(ref),
                    "video_category": data.category[video],
                    "reference_category": data.category.get(ref),
                },
            )
        )
    return items


def ground_truth_items(items: list[ScoringItem]) -> list[ScoringItem]:
    """The same pairs, scored with the vocoded ground truth of the video as the output.

    This is the "ground truth" row of the paper's tables: the vocoder is not judged, and on
    cross pairs it shows what no timbre transfer at all would score.
    """
    return [
        replace(it, generated=it.target, target=None, extra=dict(it.extra))
        for it in items
        if it.target is not None
    ]
