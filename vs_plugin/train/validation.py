"""Validation under the inference condition, and the metrics that choose the best checkpoint.

At inference the generator hears a reference that is *another* clip, a silent background and
R as configured for eval mode. Validating by self-reconstruction (the target as its own
reference, the real background) rewards copying and says nothing about transfer, so the
validation set pairs every clip with a fixed reference of another sound source (see
``DumpDataset(reference="other_timbre")``) and the evaluator feeds a silent background.

Metrics, all computed on mels (no vocoder), averaged over the set:

- ``val_mel_l1``: L1 to the video's own mel (normalised; timing, but the timbre differs);
- ``val_ideal_l1``: L1 between raw log-mels of the output and of the ideal output (video's
  events in the reference's timbre), both floored 60 dB below the pair's loudest bin as the
  ``disentanglement`` scorer does, where the corpus can render it (the built-in corpus);
- ``val_mfcc_sim_ref`` / ``val_mfcc_leakage``: MFCC-mean cosine to the reference, and
  cosine to the video's own sound minus that (``vs_plugin.scoring.mfcc``);
- ``val_ref_match``: the reference-match rate of ``vs_plugin.scoring.reference_match`` with a
  classifier fitted on the training set's mels, where sources are known;
- ``val_onset_f1``: onset F1 at 50 ms of the mel-domain onset proxy against the corpus's event
  times (else the onsets of the video's own mel).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
from ignite.engine import Engine, Events

from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.scoring.disentanglement import floored_l1
from vs_plugin.scoring.mfcc import MFCCConfig, cosine, mfcc_stats
from vs_plugin.scoring.onset import OnsetConfig, detect_onsets_mel, match
from vs_plugin.scoring.reference_match import ReferenceMatchConfig, SourceClassifier

log = logging.getLogger("vs_plugin.train")

#: metric -> True if lower is better; the selectable metrics of ``train.select_metric``.
SELECTABLE = {
    "val_mel_l1": True,
    "val_ideal_l1": True,
    "val_mfcc_leakage": True,
    "val_ref_match": False,
    "val_onset_f1": False,
}


def fit_source_classifier(train_set: Any) -> SourceClassifier | None:
    """A sound-source classifier on a training ``DumpDataset``'s raw mels, or None.

    None when the set's clips have no source labels (``utt2timbre``) or fewer than two.
    """
    utts = [u for u in train_set.utts if u in train_set.timbre]
    if len({train_set.timbre[u] for u in utts}) < 2:
        return None
    stats = []
    for u in utts:
        mel = np.load(train_set.mel_paths[u], allow_pickle=False).astype(np.float64)
        stats.append(mfcc_stats(mel))
    try:
        return SourceClassifier(ReferenceMatchConfig()).fit_stats(
            stats, [train_set.timbre[u] for u in utts]
        )
    except InputError:
        return None


class InferenceConditionMetrics:
    """Accumulates the per-example metrics of the module docstring over an evaluator run."""

    def __init__(
        self,
        mel_stats: Normalizer,
        dataset: Any,
        classifier: SourceClassifier | None = None,
        hop_seconds: float = 256 / 22050,
    ) -> None:
        self.mel_stats = mel_stats
        self.dataset = dataset
        self.classifier = classifier
        self.hop_seconds = hop_seconds
        self.mfcc = MFCCConfig()
        self.onset = OnsetConfig()
        self.rows: list[dict[str, float]] = []
        # per (clip, frames): a clip's MFCC statistics and onsets do not change between
        # epochs or pairs, so they are computed once
        self._clip_stats: dict[tuple[str, str, int], Any] = {}

    def _once(self, kind: str, utt: str, mel: np.ndarray, fn) -> Any:
        key = (kind, utt, mel.shape[-1])
        if key not in self._clip_stats:
            self._clip_stats[key] = fn(self._raw(mel))
        return self._clip_stats[key]

    def reset(self) -> None:
        self.rows = []

    def _raw(self, mel: np.ndarray) -> np.ndarray:
        """Normalised ``(n_mels, T)`` -> raw log-mel ``(T, n_mels)``."""
        return self.mel_stats.inverse(np.asarray(mel, dtype=np.float32).T)

    def _events(self, utt: str, frames: int) -> np.ndarray | None:
        events = self.dataset.events.get(utt)
        if events is None:
            return None
        end = frames * self.hop_seconds
        return np.asarray([t for t in events if t < end - self.onset.tolerance])

    def update(self, batch: Mapping[str, Any], fake: Any) -> None:
        fake = fake.float().cpu().numpy()
        real = batch["mel"].float().cpu().numpy()
        ref = batch["ref_mel"].float().cpu().numpy()
        ideal = batch.get("ideal_mel")
        ideal = ideal.float().cpu().numpy() if ideal is not None else None
        for i, utt in enumerate(batch["utt"]):
            ref_utt = batch["ref_utt"][i]
            t = min(fake.shape[-1], real.shape[-1])
            row = {"val_mel_l1": float(np.abs(fake[i, :, :t] - real[i, :, :t]).mean())}
            gen_raw = self._raw(fake[i])
            if ideal is not None:
                row["val_ideal_l1"] = floored_l1(gen_raw, self._raw(ideal[i]))
            gen_stats = mfcc_stats(gen_raw, self.mfcc)
            stats_of = partial(mfcc_stats, cfg=self.mfcc)
            if ref_utt != utt:
                n = self.mfcc.n_mfcc
                g = None if gen_stats is None else gen_stats[:n]
                ref_stats = self._once("mfcc", ref_utt, ref[i], stats_of)
                orig_stats = self._once("mfcc", utt, real[i], stats_of)
                sim_ref = cosine(g, None if ref_stats is None else ref_stats[:n])
                sim_orig = cosine(g, None if orig_stats is None else orig_stats[:n])
                row["val_mfcc_sim_ref"] = sim_ref
                row["val_mfcc_leakage"] = sim_orig - sim_ref
            if self.classifier is not None:
                margin = self.classifier.match(
                    gen_stats,
                    self.dataset.timbre.get(ref_utt, ""),
                    self.dataset.timbre.get(utt, ""),
                )
                if not math.isnan(margin):
                    row["val_ref_match"] = float(margin > 0)
            truth = self._events(utt, gen_raw.shape[0])
            if truth is None:
                truth = self._once(
                    "onsets", utt, real[i], partial(detect_onsets_mel, cfg=self.onset)
                )
            est = detect_onsets_mel(gen_raw, self.onset)
            if truth.size or est.size:
                hits = len(match(truth, est, self.onset.tolerance))
                row["val_onset_f1"] = 2.0 * hits / (truth.size + est.size)
            self.rows.append(row)

    def compute(self) -> dict[str, float]:
        out: dict[str, float] = {}
        names = sorted({k for r in self.rows for k in r})
        for name in names:
            values = [r[name] for r in self.rows if name in r and not math.isnan(r[name])]
            if values:
                out[name] = float(np.mean(values))
        return out

    def attach(self, evaluator: Engine) -> None:
        """Reset at the start of a run; write the means into ``evaluator.state.metrics``."""

        def _reset(_: Engine) -> None:
            self.reset()

        def _update(engine: Engine) -> None:
            out = engine.state.output
            self.update(out["batch"], out["fake"])

        def _complete(engine: Engine) -> None:
            engine.state.metrics.update(self.compute())

        evaluator.add_event_handler(Events.EPOCH_STARTED, _reset)
        evaluator.add_event_handler(Events.ITERATION_COMPLETED, _update)
        evaluator.add_event_handler(Events.COMPLETED, _complete)


def resolve_select_metric(name: str, dataset: Any, classifier: SourceClassifier | None) -> str:
    """The metric that picks the best checkpoint (``"auto"``: ideal L1 where renderable)."""
    if name != "auto":
        if name not in SELECTABLE:
            raise ConfigError(
                f"train.select_metric must be auto or one of {sorted(SELECTABLE)}, got {name!r}"
            )
        return name
    if dataset.meta_paths and len(dataset) and dataset[0].get("ideal_mel") is not None:
        return "val_ideal_l1"
    if classifier is not None:
        return "val_ref_match"
    return "val_mfcc_leakage"
