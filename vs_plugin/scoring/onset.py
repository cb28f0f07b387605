"""Temporal alignment without listeners: onsets of the generated audio vs the video's events.

Reference events are, in order of preference, the corpus's true event times
(``ScoringItem.event_times``), else onsets detected the same way in the video's original
sound track (``original``), else in its vocoded ground truth (``target``).

Metrics per clip (averaged over clips by the scoring stage):
- ``onset_acc``: 1 if the number of detected onsets equals the number of reference events,
  else 0 (CondFoleyGen's "onset accuracy": the fraction of clips whose counts match);
- ``onset_ap``: CondFoleyGen's "onset AP": each reference event is matched to the most
  confident unmatched detection within ``ap_tolerance`` (label 1, score = its confidence;
  a missed event gets label 1, score 0), unmatched detections get label 0 and their
  confidence; scikit-learn's ``average_precision_score`` of those. Confidence is the peak of
  the peak-normalised |waveform| within +-``conf_window`` of the onset, as CondFoleyGen does
  (``confidence="strength"`` uses librosa's onset strength instead). Unlike CondFoleyGen, a
  clip with no detection scores 0 (not 1) and events left after detections run out count as
  misses;
- ``onset_precision`` / ``onset_recall`` / ``onset_f1`` at ``tolerance`` (default 50 ms),
  with a one-to-one matching (Hungarian, most matches first, then smallest total error);
- ``onset_mae_ms``: mean absolute timing error of the matched pairs;
- ``onsets_gen`` / ``onsets_ref``: the counts.

Detection: librosa onset strength and peak picking at a 128-sample hop (5.8 ms at 22.05 kHz)
with CondFoleyGen's threshold ``delta=0.3``, then CondFoleyGen's 50 ms non-maximum
suppression by confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import average_precision_score

from vs_plugin.errors import ConfigError
from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.audio import file_version, load

_SOURCES = ("auto", "events", "original", "target")


@dataclass
class OnsetConfig:
    sample_rate: int = 22050
    hop_length: int = 128  # onset-envelope resolution (5.8 ms at 22.05 kHz)
    delta: float = 0.3  # peak-picking threshold on the normalised envelope (CondFoleyGen)
    nms_window: float = 0.05  # s; weaker onsets this close to a stronger one are dropped
    confidence: str = "amplitude"  # "amplitude" (CondFoleyGen) or "strength" (librosa)
    conf_window: float = 0.05  # s; half-width of the amplitude-confidence window
    tolerance: float = 0.05  # s; F1 / MAE matching window
    ap_tolerance: float = 0.1  # s; AP matching window (CondFoleyGen's delta)
    reference: str = "auto"  # "auto" (events > original > target), or force one source
    # s; the envelope's first frames are ignored (both clips): a clip-start transient (a sound
    # already playing when the clip starts, vocoder start-up) would otherwise be the envelope's
    # maximum and, after normalisation, hide every event under the threshold. 0 disables it.
    skip_start: float = 0.1

    def __post_init__(self) -> None:
        if self.reference not in _SOURCES:
            raise ConfigError(f"onset: reference must be one of {_SOURCES}, not {self.reference!r}")
        if self.confidence not in ("amplitude", "strength"):
            raise ConfigError(
                f"onset: confidence must be amplitude or strength, not {self.confidence!r}"
            )


# what detect_onsets reads of an OnsetConfig (the other fields only match onsets to events)
_DETECTION = ("sample_rate", "hop_length", "delta", "nms_window", "confidence", "conf_window",
              "skip_start")  # fmt: skip
_DETECTED: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def onsets_of(path: str | Path, cfg: OnsetConfig) -> tuple[np.ndarray, np.ndarray]:
    """:func:`detect_onsets` of the audio file ``path``, once per file version and detection
    settings in a process (the onset and disentanglement scorers, and every policy, share it).
    Raises InputError naming a missing or unreadable file."""
    key = (*file_version(path), *(getattr(cfg, f) for f in _DETECTION))
    if key not in _DETECTED:
        _DETECTED[key] = detect_onsets(load(path, cfg.sample_rate), cfg)
    return _DETECTED[key]


def detect_onsets(wav: np.ndarray, cfg: OnsetConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Onset times (s, sorted) and their confidences in [0, 1] for a waveform."""
    cfg = cfg or OnsetConfig()
    wav = np.asarray(wav, dtype=np.float32)
    if wav.size == 0 or float(np.max(np.abs(wav))) < 1e-4:
        return np.zeros(0), np.zeros(0)
    skip = int(round(cfg.skip_start * cfg.sample_rate))
    wav = wav[skip:]  # the first skip_start seconds are not looked at
    if wav.size == 0 or float(np.max(np.abs(wav))) < 1e-4:
        return np.zeros(0), np.zeros(0)
    env = librosa.onset.onset_strength(y=wav, sr=cfg.sample_rate, hop_length=cfg.hop_length)
    frames = librosa.onset.onset_detect(
        onset_envelope=env, sr=cfg.sample_rate, hop_length=cfg.hop_length, delta=cfg.delta
    )
    times = librosa.frames_to_time(frames, sr=cfg.sample_rate, hop_length=cfg.hop_length)
    if cfg.confidence == "strength":
        conf = env[frames] / max(float(env.max()), 1e-12)
    else:
        mag = np.abs(wav)
        mag = (mag - mag.min()) / max(float(mag.max() - mag.min()), 1e-12)
        half = int(cfg.conf_window * cfg.sample_rate)
        centres = np.round(times * cfg.sample_rate).astype(int)
        conf = np.array([mag[max(0, c - half) : c + half + 1].max() for c in centres])
    return _nms(times + skip / cfg.sample_rate, conf, cfg.nms_window)


def detect_onsets_mel(
    mel: np.ndarray, cfg: OnsetConfig | None = None, hop_length: int = 256
) -> np.ndarray:
    """Onset times (s, sorted) of a natural-log mel ``(frames, n_mels)``, without vocoding.

    A proxy of :func:`detect_onsets` for the trainer's validation: librosa's onset strength
    on the mel in dB at the mel's own hop (11.6 ms at 22.05 kHz), the same peak picking,
    start skip and non-maximum suppression (confidence = onset strength).
    """
    cfg = cfg or OnsetConfig()
    mel = np.asarray(mel, dtype=np.float64)
    skip = int(round(cfg.skip_start * cfg.sample_rate / hop_length))
    if mel.shape[0] <= skip + 2 or float(mel.max() - mel.min()) < 1e-6:
        return np.zeros(0)
    db = (20.0 / np.log(10.0)) * mel[skip:].T
    env = librosa.onset.onset_strength(S=db, sr=cfg.sample_rate, hop_length=hop_length)
    if float(env.max()) <= 0:
        return np.zeros(0)
    frames = librosa.onset.onset_detect(
        onset_envelope=env, sr=cfg.sample_rate, hop_length=hop_length, delta=cfg.delta
    )
    times = librosa.frames_to_time(frames + skip, sr=cfg.sample_rate, hop_length=hop_length)
    return _nms(times, env[frames] / float(env.max()), cfg.nms_window)[0]


def _nms(times: np.ndarray, conf: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray]:
    keep: list[int] = []
    for i in np.argsort(-conf, kind="stable"):
        if all(abs(times[i] - times[j]) >= window for j in keep):
            keep.append(int(i))
    keep.sort()
    return times[keep], conf[keep]


def match(ref: Sequence[float], est: Sequence[float], tolerance: float) -> list[tuple[int, int]]:
    """One-to-one pairs (ref index, est index) within ``tolerance``: most pairs, least error."""
    ref, est = np.asarray(ref, float), np.asarray(est, float)
    if ref.size == 0 or est.size == 0:
        return []
    dist = np.abs(ref[:, None] - est[None, :])
    big = 1.0 + tolerance * (ref.size + est.size)  # any valid pair beats any invalid one
    rows, cols = linear_sum_assignment(np.where(dist <= tolerance, dist, big))
    return [(int(r), int(c)) for r, c in zip(rows, cols) if dist[r, c] <= tolerance]


def onset_ap(
    ref: Sequence[float], est: Sequence[float], conf: Sequence[float], tolerance: float
) -> float:
    """CondFoleyGen-style average precision of detections ``est`` (with ``conf``) vs ``ref``."""
    ref, est, conf = np.sort(np.asarray(ref, float)), np.asarray(est, float), np.asarray(conf)
    if ref.size == 0:
        return math.nan
    if est.size == 0:
        return 0.0
    free = set(range(est.size))
    labels: list[int] = []
    scores: list[float] = []
    for t in ref:
        near = [j for j in free if abs(est[j] - t) < tolerance]
        labels.append(1)
        if near:
            best = max(near, key=lambda j: conf[j])
            free.remove(best)
            scores.append(float(conf[best]))
        else:
            scores.append(0.0)
    for j in sorted(free):
        labels.append(0)
        scores.append(float(conf[j]))
    return float(average_precision_score(labels, scores))


def onset_metrics(
    ref: Sequence[float],
    est: Sequence[float],
    conf: Sequence[float],
    cfg: OnsetConfig | None = None,
) -> dict[str, float]:
    """All per-clip metrics of detections ``est`` against reference events ``ref``."""
    cfg = cfg or OnsetConfig()
    ref, est = np.asarray(ref, float), np.asarray(est, float)
    pairs = match(ref, est, cfg.tolerance)
    hits = len(pairs)
    precision = hits / est.size if est.size else math.nan
    recall = hits / ref.size if ref.size else math.nan
    if ref.size == 0 and est.size == 0:
        f1 = math.nan  # nothing to find and nothing found: undefined, left out of means
    else:
        f1 = 2.0 * hits / (ref.size + est.size)
    errors = [abs(ref[r] - est[e]) for r, e in pairs]
    return {
        "onset_acc": float(ref.size == est.size),
        "onset_ap": onset_ap(ref, est, conf, cfg.ap_tolerance),
        "onset_precision": precision,
        "onset_recall": recall,
        "onset_f1": f1,
        "onset_mae_ms": 1000.0 * float(np.mean(errors)) if errors else math.nan,
        "onsets_gen": float(est.size),
        "onsets_ref": float(ref.size),
    }


@SCORERS.register("onset", config=OnsetConfig)
class OnsetScorer(Scorer):
    """Onset agreement of the generated audio with the video's events (accuracy, AP, F1)."""

    requires = ("generated",)
    lower_is_better = {
        "onset_acc": False,
        "onset_ap": False,
        "onset_precision": False,
        "onset_recall": False,
        "onset_f1": False,
        "onset_mae_ms": True,
    }

    def __init__(self, cfg: OnsetConfig | None = None) -> None:
        self.cfg = cfg or OnsetConfig()

    def reference_events(self, item: ScoringItem) -> tuple[np.ndarray, str] | None:
        """The reference event times of ``item`` and where they came from."""
        want = self.cfg.reference
        if want in ("auto", "events") and item.event_times is not None:
            times = np.sort(np.asarray(item.event_times, float))
            return times[times >= self.cfg.skip_start], "events"  # the skipped start is not judged
        for source in ("original", "target"):
            path = getattr(item, source)
            if want in ("auto", source) and path is not None:
                return onsets_of(path, self.cfg)[0], source
        return None

    def score(self, item: ScoringItem) -> dict[str, float]:
        ref = self.reference_events(item)
        est, conf = onsets_of(item.generated, self.cfg)
        if ref is None:
            nan = onset_metrics([], [], [], self.cfg)
            return {k: math.nan for k in nan} | {"onsets_gen": float(est.size)}
        return onset_metrics(ref[0], est, conf, self.cfg)

    def describe(self) -> str:
        c = self.cfg
        ref = {
            "auto": "true event times when known, else onsets of the original (or GT) audio",
            "events": "true event times",
            "original": "onsets of the original audio",
            "target": "onsets of the vocoded GT audio",
        }[c.reference]
        return (
            f"onsets: librosa (hop {c.hop_length}, delta {c.delta}, {c.nms_window * 1000:g} ms "
            f"NMS, first {c.skip_start * 1000:g} ms ignored) vs {ref}; acc = count match, "
            f"AP (CondFoleyGen, {c.ap_tolerance * 1000:g} ms, "
            f"{c.confidence} confidence), P/R/F1 and MAE at {c.tolerance * 1000:g} ms"
        )
