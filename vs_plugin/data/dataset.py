"""Training/validation examples read from ``dump/<set>/{mel,video}`` (see docs/CONTRACTS.md).

VarietySound learns by self-reconstruction: the clip's own mel is the target, the timbre
reference (the acoustic encoder scrambles its time order) and the background encoder's input.
``reference="other_same_category"`` draws the reference from another clip of the category
instead, for experiments; ``"other_same_timbre"`` from another clip of the same sound source
(``utt2timbre``; the clip itself where the source is unknown or has no other clip), so the
timbre code must describe the source, never the target's own events. Validation measures
the inference condition instead
(``reference="other_timbre"``: a fixed other clip of another sound source where the data dir
knows sources (``utt2timbre``), else of another category, else any other clip; see
``vs_plugin.train.validation``); ``"other_category"`` gives cross-category pairs. Where the
corpus can render the ideal output of a pair (the built-in corpus: ``utt2meta``), examples
carry its normalised mel as ``ideal_mel``. Random crops cut video and mel at the same
instant (mel = upsample x video frames), so the pair stays aligned.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vs_plugin.data.kaldi_dir import LABELS, UTT2CATEGORY, read_data_dir, read_table
from vs_plugin.data.layout import STREAMS, feats_scp, read_feats_shape, shape_file
from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.utils.files import read_scp

log = logging.getLogger("vs_plugin.dataset")
REFERENCES = ("self", "other_same_category", "other_same_timbre", "other_timbre", "other_category")
# How a training reference of ``reference_frames`` is cut from its clip: "random" (anywhere) or
# "event" (a window that holds one of the clip's loudest frames, at a random place in it)
REFERENCE_CROPS = ("random", "event")
EVENT_FRAME_QUANTILE = 0.9  # "event" crops hold a frame above this quantile of frame energy


def _load_table(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise InputError(path, "missing (run stage 1, feature extraction, first)")
    try:
        return read_scp(path)
    except ValueError as exc:
        raise InputError(path, str(exc)) from None


def _data_dir_of(dump_dir: Path) -> Path:
    """The ``data/<set>`` dir beside ``dump/<set>``: where labels the dump lacks are read."""
    return dump_dir.parent.parent / "data" / dump_dir.name


def load_features(path: str | Path, normalizer: Normalizer | None) -> np.ndarray:
    """A ``(frames, dims)`` array from disk as float32, normalised when stats are given."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(path, "feature file not found") from None
    except (ValueError, OSError) as exc:
        raise InputError(path, f"unreadable feature file ({exc})") from None
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InputError(path, f"features have shape {arr.shape}; want (frames, dims)")
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise InputError(path, "features contain NaN or Inf")
    if normalizer is None:
        return arr
    if arr.shape[1] != normalizer.dim:
        raise InputError(path, f"{arr.shape[1]} dims but the statistics have {normalizer.dim}")
    return normalizer.transform(arr)


class DumpDataset(Dataset):
    """Dict examples: ``utt``, ``category``, ``video`` (Dv, T), ``mel`` (n_mels, upsample*T),
    ``ref_mel`` (n_mels, Tr), ``bg_mel`` (n_mels, Tb), ``ref_utt``; float32, normalised.

    ``segment_frames`` (video frames) crops a random segment in training, the first one in
    evaluation; ``reference_frames`` (mel frames) crops the reference likewise, anywhere
    (``reference_crop="random"``) or around one of its loudest frames (``"event"``: sparse
    real clips are mostly silence, and a random crop often holds no event at all). Call
    ``set_epoch`` so each epoch draws new crops; draws depend only on (seed, epoch, index),
    so they are the same with any number of loader workers.
    """

    def __init__(
        self,
        dump_dir: str | Path,
        mel_stats: str | Path | None = None,
        video_stats: str | Path | None = None,
        segment_frames: int | None = None,
        reference: str = "self",
        reference_frames: int | None = None,
        reference_crop: str = "random",
        train: bool = True,
        seed: int = 0,
        categories: Sequence[str] | None = None,
        utt2category: str | Path | None = None,
        upsample: int = 4,
    ) -> None:
        if reference not in REFERENCES:
            raise ConfigError(f"reference must be one of {REFERENCES}, not {reference!r}")
        if reference_crop not in REFERENCE_CROPS:
            raise ConfigError(
                f"reference_crop must be one of {REFERENCE_CROPS}, not {reference_crop!r}"
            )
        self.reference_crop = reference_crop
        for name, value in (
            ("segment_frames", segment_frames),
            ("reference_frames", reference_frames),
        ):
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be a positive number of frames, not {value}")
        self.dump_dir = Path(dump_dir)
        self.reference, self.train, self.seed = reference, train, seed
        self.segment_frames, self.reference_frames = segment_frames, reference_frames
        self.upsample = upsample
        self.epoch = 0
        self.mel_norm = Normalizer.load(mel_stats) if mel_stats is not None else None
        self.video_norm = Normalizer.load(video_stats) if video_stats is not None else None

        scp = {s: _load_table(feats_scp(self.dump_dir, s)) for s in STREAMS}
        frames = {
            s: {u: t for u, (t, _) in read_feats_shape(shape_file(self.dump_dir, s)).items()}
            for s in STREAMS
        }
        utts = sorted(set(scp["mel"]) & set(scp["video"]))
        dropped = sorted(set(scp["mel"]) ^ set(scp["video"]))
        if dropped:
            log.warning(
                "%s: %d utterances lack one stream, skipped (e.g. %s)",
                self.dump_dir,
                len(dropped),
                dropped[0],
            )
        for utt in utts:
            mel_t, vid_t = frames["mel"].get(utt), frames["video"].get(utt)
            if mel_t is not None and vid_t is not None and mel_t != upsample * vid_t:
                raise InputError(
                    scp["mel"][utt],
                    f"{mel_t} mel frames for {vid_t} video frames (want {upsample} x video)",
                )

        # labels: from the dump set, else from the matching data/<set> dir
        labels = read_data_dir(
            self.dump_dir, required=(), optional=LABELS, fallback=_data_dir_of(self.dump_dir)
        )
        if utt2category is not None:
            cat_file: Path | None = Path(utt2category)
            cats = read_table(utt2category)
        else:
            cat_file, cats = labels.files.get(UTT2CATEGORY), labels.category
        if categories is not None or reference in ("other_same_category", "other_category"):
            if cat_file is None:
                raise InputError(
                    self.dump_dir, f"no {UTT2CATEGORY} here or in the matching data/<set> dir"
                )
            unknown = [u for u in utts if u not in cats]
            if unknown:
                raise InputError(
                    cat_file, f"no category for {len(unknown)} utts, e.g. {unknown[0]}"
                )
        if categories is not None:
            wanted = set(categories)
            utts = [u for u in utts if cats[u] in wanted]
        if not utts:
            raise InputError(self.dump_dir, "no utterances (for the chosen categories)")
        self.utts = utts
        self.mel_paths = {u: Path(scp["mel"][u]) for u in utts}
        self.video_paths = {u: Path(scp["video"][u]) for u in utts}
        self.category = {u: cats.get(u, "") for u in utts}
        self.by_category: dict[str, list[str]] = {}
        for u in utts:
            self.by_category.setdefault(self.category[u], []).append(u)
        self._labels = labels
        self.timbre = {u: labels.timbre[u] for u in utts if u in labels.timbre}
        self.by_timbre: dict[str, list[str]] = {}
        for u, t in self.timbre.items():
            self.by_timbre.setdefault(t, []).append(u)
        self.meta_paths = {u: labels.meta[u] for u in utts if u in labels.meta}
        self.events = {u: labels.events[u] for u in utts if u in labels.events}
        self._fixed_refs = (
            self._fixed_references() if reference in ("other_timbre", "other_category") else {}
        )
        self._ideal_cache: dict[tuple[str, str], np.ndarray | None] = {}

    def _fixed_references(self) -> dict[str, str]:
        """One reference per clip, fixed by the seed: another source (else category, else clip).

        Candidates are walked in sorted order with one seeded generator, so the pairs do not
        change between epochs or runs.
        """
        rng = np.random.default_rng([self.seed, 17])
        out = {}
        for u in self.utts:
            others = [o for o in self.utts if o != u]
            tiers = []
            if self.reference == "other_timbre" and u in self.timbre:
                tiers.append([o for o in others if self.timbre.get(o, u) != self.timbre[u]])
            tiers.append([o for o in others if self.category[o] != self.category[u]])
            if self.reference == "other_timbre":
                tiers.append(others)
            pool = next((t for t in tiers if t), [u])
            out[u] = pool[int(rng.integers(len(pool)))]
        return out

    def ideal_mel(self, video_utt: str, ref_utt: str) -> np.ndarray | None:
        """The normalised mel ``(frames, n_mels)`` of the ideal output of a pair, or None.

        Defined where the corpus can render it (``utt2meta`` with the built-in corpus's
        ground truth): the video clip's events in the reference clip's timbre, no background.
        """
        key = (video_utt, ref_utt)
        if key not in self._ideal_cache:
            self._ideal_cache[key] = self._render_ideal(video_utt, ref_utt)
        return self._ideal_cache[key]

    def _render_ideal(self, video_utt: str, ref_utt: str) -> np.ndarray | None:
        if video_utt not in self.meta_paths or ref_utt not in self.meta_paths:
            return None
        from vs_plugin.audio.mel import log_mel
        from vs_plugin.data.synth import render_ideal

        metas = [self._labels.meta_of(utt) for utt in (video_utt, ref_utt)]
        try:
            wav = render_ideal(metas[0], metas[1])
        except (KeyError, TypeError, ValueError):
            return None  # not the built-in corpus's ground truth
        mel = log_mel(wav).astype(np.float32)
        return self.mel_norm.transform(mel) if self.mel_norm is not None else mel

    def __len__(self) -> int:
        return len(self.utts)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _rng(self, index: int) -> np.random.Generator:
        key = [self.seed, self.epoch, index] if self.train else [self.seed, index]
        return np.random.default_rng(key)

    def _load_pair(self, utt: str) -> tuple[np.ndarray, np.ndarray]:
        mel = load_features(self.mel_paths[utt], self.mel_norm)
        video = load_features(self.video_paths[utt], self.video_norm)
        if mel.shape[0] != self.upsample * video.shape[0]:
            raise InputError(
                self.mel_paths[utt],
                f"{mel.shape[0]} mel frames for {video.shape[0]} video frames "
                f"(want {self.upsample} x video)",
            )
        return mel, video

    def _crop_start(self, total: int, length: int | None, rng: np.random.Generator) -> int:
        if length is None or total <= length or not self.train:
            return 0
        return int(rng.integers(0, total - length + 1))

    def _reference(
        self, utt: str, full_mel: np.ndarray, rng: np.random.Generator
    ) -> tuple[str, np.ndarray]:
        """The reference clip and its (cropped) mel."""
        ref_utt, mel = utt, full_mel
        if utt in self._fixed_refs and self._fixed_refs[utt] != utt:
            ref_utt = self._fixed_refs[utt]
            mel = load_features(self.mel_paths[ref_utt], self.mel_norm)
        elif self.reference in ("other_same_category", "other_same_timbre"):
            if self.reference == "other_same_category":
                pool = self.by_category[self.category[utt]]
            else:
                pool = self.by_timbre.get(self.timbre.get(utt, ""), [])
            others = [u for u in pool if u != utt]
            if others:
                ref_utt = others[int(rng.integers(len(others)))]
                mel = load_features(self.mel_paths[ref_utt], self.mel_norm)
        if self.reference_crop == "event" and self.train:
            start = _event_crop_start(mel, self.reference_frames, rng)
        else:
            start = self._crop_start(mel.shape[0], self.reference_frames, rng)
        if self.reference_frames is not None:
            mel = mel[start : start + self.reference_frames]
        return ref_utt, mel

    def __getitem__(self, index: int) -> dict[str, Any]:
        utt = self.utts[index]
        rng = self._rng(index)
        full_mel, video = self._load_pair(utt)
        mel = full_mel
        start = 0
        if self.segment_frames is not None:
            start = self._crop_start(video.shape[0], self.segment_frames, rng)
            video = video[start : start + self.segment_frames]
            mel = full_mel[self.upsample * start : self.upsample * (start + video.shape[0])]
        mel_t = _to_tensor(mel)
        if self.reference == "self" and self.reference_frames is None:
            ref_utt, ref_t = utt, mel_t  # self-reconstruction: the target is the reference
        else:
            ref_utt, ref = self._reference(utt, full_mel, rng)
            ref_t = _to_tensor(ref)
        extra: dict[str, Any] = {}
        if self.reference != "self" and ref_utt != utt:
            ideal = self.ideal_mel(utt, ref_utt)
            if ideal is not None:
                a = self.upsample * start
                extra["ideal_mel"] = _to_tensor(ideal[a : a + mel.shape[0]])
        return {
            "utt": utt,
            "category": self.category[utt],
            "ref_utt": ref_utt,
            "video": _to_tensor(video),
            "mel": mel_t,
            "ref_mel": ref_t,
            "bg_mel": mel_t,  # the paper feeds the target itself to the background encoder
            **extra,
        }


def _event_crop_start(mel: np.ndarray, length: int | None, rng: np.random.Generator) -> int:
    """Start of a ``length``-frame window of ``mel`` ``(frames, n_mels)`` that holds a loud frame.

    A frame is drawn among the loud ones: energy (mean over bins) at or above both the clip's
    ``EVENT_FRAME_QUANTILE`` quantile and the midpoint of its quietest and loudest frames (a
    clip that is silent but for one short event has its quantile at the floor); the window is
    placed so that this frame falls at a uniformly random position inside it (clipped to the
    clip). 0 when the clip is no longer.
    """
    total = mel.shape[0]
    if length is None or total <= length:
        return 0
    energy = mel.mean(axis=1)
    floor = max(np.quantile(energy, EVENT_FRAME_QUANTILE), (energy.min() + energy.max()) / 2)
    loud = np.flatnonzero(energy >= floor)
    frame = int(loud[int(rng.integers(loud.size))])
    start = frame - int(rng.integers(length))
    return int(min(max(start, 0), total - length))


def _to_tensor(a: np.ndarray) -> torch.Tensor:
    """``(frames, dims)`` numpy -> ``(dims, frames)`` float32 tensor (model order)."""
    return torch.from_numpy(np.ascontiguousarray(a.T, dtype=np.float32))


def collate(batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack examples, cropping each stream to the batch's shortest (mel stays aligned).

    Clips of one corpus have one length, so nothing is normally cut; cropping (not padding)
    keeps losses free of padded frames.
    """
    if not batch:
        raise ValueError("empty batch")
    t_video = min(b["video"].shape[-1] for b in batch)
    up = batch[0]["mel"].shape[-1] // batch[0]["video"].shape[-1]
    t_mel = min(min(b["mel"].shape[-1] for b in batch), up * t_video)
    t_ref = min(b["ref_mel"].shape[-1] for b in batch)
    t_bg = min(b["bg_mel"].shape[-1] for b in batch)
    extra = {}
    if all("ideal_mel" in b for b in batch):
        t_ideal = min(t_mel, *(b["ideal_mel"].shape[-1] for b in batch))
        extra["ideal_mel"] = torch.stack([b["ideal_mel"][:, :t_ideal] for b in batch])
    return {
        "utt": [b["utt"] for b in batch],
        "category": [b["category"] for b in batch],
        "ref_utt": [b["ref_utt"] for b in batch],
        "video": torch.stack([b["video"][:, :t_video] for b in batch]),
        "mel": torch.stack([b["mel"][:, :t_mel] for b in batch]),
        "ref_mel": torch.stack([b["ref_mel"][:, :t_ref] for b in batch]),
        "bg_mel": torch.stack([b["bg_mel"][:, :t_bg] for b in batch]),
        **extra,
    }
