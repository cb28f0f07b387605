"""The reference-match rate: does the output sound like the reference's source or the video's?

On corpora that know each clip's sound source (``data/<set>/utt2timbre``, e.g. the built-in
corpus's ``drum/kick``), a classifier of sound sources is fitted on the training clips'
original audio (MFCC mean and standard deviation of the active frames, see
:mod:`vs_plugin.scoring.mfcc`; scikit-learn's standardiser and logistic regression). For a pair
whose reference and video come from *different* sources, the output is a match when the
classifier gives the reference's source a higher probability than the video's own source.
The mean over such pairs is the reference-match rate: chance is 0.5, an output that copies
the reference's timbre scores 1, one that reproduces the video's original sound scores 0.
Pairs whose two clips share a source, or whose source is unknown or absent from the
training clips, score NaN (not counted).

On corpora that know only categories (no ``utt2timbre`` in the training data dir, e.g. VAS),
the same classifier is fitted on the training clips' categories (``utt2category``) instead,
and only *cross-category* pairs count: the output is a match when the classifier gives the
reference's category a higher probability than the video's. This is a coarser test (a
category holds many sources, so a same-category reference is not scored at all) but it is
defined on every corpus. ``describe()`` says which labels were used. One classifier is fitted
per process for each (training data dir, label kind, settings).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vs_plugin.data.kaldi_dir import UTT2CATEGORY, UTT2TIMBRE, WAV_SCP, read_data_dir
from vs_plugin.errors import InputError
from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.mfcc import MFCCCache, MFCCConfig

log = logging.getLogger(__name__)

#: the kinds of labels a classifier can be fitted on: (table of the data dir, its DataDir field,
#: the item's ``extra`` keys of the video's and the reference's label), preferred first
LABEL_KINDS = {
    "sources": (UTT2TIMBRE, "timbre", "video_timbre", "reference_timbre"),
    "categories": (UTT2CATEGORY, "category", "video_category", "reference_category"),
}


@dataclass
class ReferenceMatchConfig(MFCCConfig):
    # Data dir whose wav.scp + utt2timbre (else utt2category) train the classifier; "" = the
    # scored set's sibling ``train`` dir (data/test -> data/train).
    train_data: str = ""
    c: float = 1.0  # inverse L2 strength of the logistic regression
    folds: int = 5  # cross-validation folds for the accuracy printed by describe()


class SourceClassifier:
    """A sound-source (or category) classifier over MFCC statistics of whole clips.

    ``fit(paths, labels)`` then ``proba(path) -> {label: probability}``. ``labels`` names the
    kind of labels (``"sources"`` or ``"categories"``) for messages.
    """

    def __init__(self, cfg: ReferenceMatchConfig, labels: str = "sources") -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.cfg = cfg
        self.labels = labels
        self.features = MFCCCache(cfg)
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=cfg.c, max_iter=5000))
        self.classes: list[str] = []
        self.cv_accuracy = math.nan
        self.n_train = 0

    def fit(self, paths: list[Path], labels: list[str]) -> SourceClassifier:
        """Fit on audio files (silent ones are skipped)."""
        return self.fit_stats([self.features.stats(p) for p in paths], labels)

    def fit_stats(self, stats: list[np.ndarray | None], labels: list[str]) -> SourceClassifier:
        """Fit on :func:`~vs_plugin.scoring.mfcc.mfcc_stats` vectors (None = silent, skipped)."""
        xs, ys = [], []
        for st, label in zip(stats, labels):
            if st is not None:
                xs.append(st)
                ys.append(label)
        if len(set(ys)) < 2:
            noun = "sound sources" if self.labels == "sources" else self.labels
            raise InputError(None, f"need clips of at least 2 {noun}, got {sorted(set(ys))}")
        x, y = np.stack(xs), np.asarray(ys)
        self.model.fit(x, y)
        self.classes = [str(c) for c in self.model.classes_]
        self.n_train = len(ys)
        _, counts = np.unique(y, return_counts=True)
        folds = min(self.cfg.folds, int(counts.min()))
        if folds >= 2:
            from sklearn.base import clone
            from sklearn.model_selection import cross_val_score

            self.cv_accuracy = float(cross_val_score(clone(self.model), x, y, cv=folds).mean())
        return self

    def proba(self, path: Path) -> dict[str, float] | None:
        """Class probabilities of one file; None when it is silent."""
        return self.proba_stats(self.features.stats(path))

    def proba_stats(self, stats: np.ndarray | None) -> dict[str, float] | None:
        """Class probabilities of one MFCC-statistics vector; None for a silent one."""
        if stats is None:
            return None
        p = self.model.predict_proba(stats[None])[0]
        return dict(zip(self.classes, (float(v) for v in p)))

    def match(self, stats: np.ndarray | None, ref_src: str, video_src: str) -> float:
        """``P(ref_src) - P(video_src)`` (> 0: a match); 0 for a silent output; NaN if unknown."""
        if ref_src == video_src or ref_src not in self.classes or video_src not in self.classes:
            return float("nan")
        p = self.proba_stats(stats)
        return 0.0 if p is None else p[ref_src] - p[video_src]


_FITTED: dict[tuple[str, str, str], SourceClassifier] = {}
_FITTING = threading.Lock()


def _fitted(train_dir: str, kind: str, cfg: ReferenceMatchConfig) -> SourceClassifier:
    """The classifier of ``train_dir``'s clips on labels ``kind``, fitted once per process
    and settings."""
    key = (train_dir, kind, repr(cfg))
    with _FITTING:  # policies scored in threads share one fit
        if key not in _FITTED:
            _FITTED[key] = _fit(Path(train_dir), kind, cfg)
    return _FITTED[key]


def _fit(root: Path, kind: str, cfg: ReferenceMatchConfig) -> SourceClassifier:
    table, field_name, _, _ = LABEL_KINDS[kind]
    data = read_data_dir(root, required=(WAV_SCP, table), optional=())
    wav, labels = data.wav, getattr(data, field_name)
    utts = sorted(set(wav) & set(labels))
    if not utts:
        raise InputError(data.file(table), f"no clip with both audio and a {field_name} label")
    clf = SourceClassifier(cfg, kind).fit([Path(wav[u]) for u in utts], [labels[u] for u in utts])
    log.info(
        "reference_match: %d %s from %d clips of %s (cross-validated accuracy %.3f)",
        len(clf.classes), kind, clf.n_train, root, clf.cv_accuracy,
    )  # fmt: skip
    return clf


def label_kind(train_dir: str | Path) -> str | None:
    """``"sources"`` when ``train_dir`` has ``utt2timbre``, else ``"categories"`` when it has
    ``utt2category``, else None."""
    for kind, (table, *_) in LABEL_KINDS.items():
        if (Path(train_dir) / table).is_file():
            return kind
    return None


def item_labels(item: ScoringItem, kind: str) -> tuple[str | None, str | None]:
    """``(video's label, reference's label)`` of one item for labels ``kind`` (None: unknown).

    The video's category falls back on ``item.category`` (items made before the reference's
    category was recorded have only that).
    """
    _, _, video_key, ref_key = LABEL_KINDS[kind]
    video, ref = item.extra.get(video_key), item.extra.get(ref_key)
    if kind == "categories" and not video:
        video = item.category or None
    return video, ref


@SCORERS.register("reference_match", config=ReferenceMatchConfig)
class ReferenceMatchScorer(Scorer):
    """1 when the output is classified as the reference's source (else category) rather than
    the video's."""

    requires = ("generated", "reference")
    lower_is_better = {"ref_match": False, "ref_match_margin": False}

    def __init__(self, cfg: ReferenceMatchConfig | None = None) -> None:
        self.cfg = cfg or ReferenceMatchConfig()
        self.last: SourceClassifier | None = None  # the classifier last used
        self.kind: str | None = None  # the labels of the last item's training dir

    def train_dir(self, item: ScoringItem) -> Path | None:
        """The configured training data dir, else the scored set's sibling ``train``."""
        if self.cfg.train_data:
            return Path(self.cfg.train_data)
        data_dir = item.extra.get("data_dir")
        return None if data_dir is None else Path(data_dir).parent / "train"

    def classifier(self, item: ScoringItem) -> SourceClassifier | None:
        """The fitted classifier for ``item`` (its ``labels`` says on which), or None when the
        training data dir has neither sources nor categories."""
        train = self.train_dir(item)
        kind = None if train is None else label_kind(train)
        if train is None or kind is None:
            return None
        self.last = _fitted(str(train.absolute()), kind, self.cfg)
        return self.last

    def score(self, item: ScoringItem) -> dict[str, float]:
        out = dict.fromkeys(self.lower_is_better, math.nan)
        train = self.train_dir(item)
        kind = None if train is None else label_kind(train)
        if kind is None:
            return out
        self.kind = kind
        video_src, ref_src = item_labels(item, kind)
        if not video_src or not ref_src or video_src == ref_src:
            return out  # decided before fitting: a set of same pairs fits nothing
        clf = self.classifier(item)
        if clf is None:
            return out
        margin = clf.match(clf.features.stats(item.generated), ref_src, video_src)
        if math.isnan(margin):
            return out
        return {"ref_match": float(margin > 0), "ref_match_margin": margin}

    def describe(self) -> str:
        kind = self.last.labels if self.last is not None else self.kind
        if kind == "categories":
            return (
                "reference match (this project's metric), on categories (the training data "
                f"has no {UTT2TIMBRE}): 1 when a category classifier (logistic regression on "
                "MFCC mean+std of active frames, fitted on the training clips' "
                f"{UTT2CATEGORY}) prefers the reference's category to the video's own; only "
                "pairs of different categories; chance 0.5; margin = P(ref) - P(video)"
                f"{self._fitted_summary()}"
            )
        return (
            "reference match (this project's metric): 1 when a sound-source classifier "
            "(logistic regression on MFCC mean+std of active frames, fitted on the training "
            f"clips' {UTT2TIMBRE}) prefers the reference's source to the video's own; only pairs "
            f"of different sources; chance 0.5; margin = P(ref) - P(video){self._fitted_summary()}"
        )

    def _fitted_summary(self) -> str:
        if self.last is None:
            return ""
        return (
            f"; {len(self.last.classes)} {self.last.labels}, {self.last.n_train} training "
            f"clips, cross-validated accuracy {self.last.cv_accuracy:.2f}"
        )
