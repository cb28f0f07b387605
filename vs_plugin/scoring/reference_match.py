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
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vs_plugin.data.kaldi_dir import UTT2TIMBRE, WAV_SCP, read_data_dir
from vs_plugin.errors import InputError
from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.mfcc import MFCCCache, MFCCConfig

log = logging.getLogger(__name__)


@dataclass
class ReferenceMatchConfig(MFCCConfig):
    # Data dir whose wav.scp + utt2timbre train the classifier; "" = the scored set's
    # sibling ``train`` dir (data/test -> data/train).
    train_data: str = ""
    c: float = 1.0  # inverse L2 strength of the logistic regression
    folds: int = 5  # cross-validation folds for the accuracy printed by describe()


class SourceClassifier:
    """A sound-source classifier over MFCC statistics of whole clips.

    ``fit(paths, labels)`` then ``proba(path) -> {label: probability}``.
    """

    def __init__(self, cfg: ReferenceMatchConfig) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.cfg = cfg
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
            raise InputError(None, f"need clips of at least 2 sound sources, got {sorted(set(ys))}")
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


_FITTED: dict[tuple[str, str], SourceClassifier] = {}
_FITTING = threading.Lock()


def _fitted(train_dir: str, cfg: ReferenceMatchConfig) -> SourceClassifier:
    """The classifier of ``train_dir``'s clips, fitted once per process and settings."""
    key = (train_dir, repr(cfg))
    with _FITTING:  # policies scored in threads share one fit
        if key not in _FITTED:
            _FITTED[key] = _fit(Path(train_dir), cfg)
    return _FITTED[key]


def _fit(root: Path, cfg: ReferenceMatchConfig) -> SourceClassifier:
    data = read_data_dir(root, required=(WAV_SCP, UTT2TIMBRE), optional=())
    wav, labels = data.wav, data.timbre
    utts = sorted(set(wav) & set(labels))
    if not utts:
        raise InputError(data.file(UTT2TIMBRE), "no clip with both audio and a timbre label")
    clf = SourceClassifier(cfg).fit([Path(wav[u]) for u in utts], [labels[u] for u in utts])
    log.info(
        "reference_match: %d sources from %d clips of %s (cross-validated accuracy %.3f)",
        len(clf.classes), clf.n_train, root, clf.cv_accuracy,
    )  # fmt: skip
    return clf


@SCORERS.register("reference_match", config=ReferenceMatchConfig)
class ReferenceMatchScorer(Scorer):
    """1 when the output is classified as the reference's source rather than the video's."""

    requires = ("generated", "reference")
    lower_is_better = {"ref_match": False, "ref_match_margin": False}

    def __init__(self, cfg: ReferenceMatchConfig | None = None) -> None:
        self.cfg = cfg or ReferenceMatchConfig()
        self.last: SourceClassifier | None = None

    def classifier(self, item: ScoringItem) -> SourceClassifier | None:
        train = self.cfg.train_data
        if not train:
            data_dir = item.extra.get("data_dir")
            if data_dir is None:
                return None
            train = str(Path(data_dir).parent / "train")
        if not (Path(train) / UTT2TIMBRE).is_file():
            return None
        self.last = _fitted(str(Path(train).absolute()), self.cfg)
        return self.last

    def score(self, item: ScoringItem) -> dict[str, float]:
        out = dict.fromkeys(self.lower_is_better, math.nan)
        video_src = item.extra.get("video_timbre")
        ref_src = item.extra.get("reference_timbre")
        if not video_src or not ref_src or video_src == ref_src:
            return out
        clf = self.classifier(item)
        if clf is None:
            return out
        margin = clf.match(clf.features.stats(item.generated), ref_src, video_src)
        if math.isnan(margin):
            return out
        return {"ref_match": float(margin > 0), "ref_match_margin": margin}

    def describe(self) -> str:
        fitted = (
            f"; {len(self.last.classes)} sources, {self.last.n_train} training clips, "
            f"cross-validated accuracy {self.last.cv_accuracy:.2f}"
            if self.last is not None
            else ""
        )
        return (
            "reference match (this project's metric): 1 when a sound-source classifier "
            "(logistic regression on MFCC mean+std of active frames, fitted on the training "
            "clips' utt2timbre) prefers the reference's source to the video's own; only pairs "
            f"of different sources; chance 0.5; margin = P(ref) - P(video){fitted}"
        )
