"""Figures of stage 5, written beside RESULTS.md: what the tables say and what outputs look like.

- ``bars_<scorer>.png``: for each metric of a scorer, per-category bars (plus the average) of
  every system, with their 95 % confidence intervals.
- ``pair_<utt>.png``: for one test pair, on one time axis (seconds): the video's event times
  (the corpus's truth when it knows them, else onsets detected in the original sound), and the
  log-mel spectrograms of the reference, the generated output and the original.

Matplotlib's object interface with the Agg canvas: no display, no global pyplot state.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from vs_plugin.audio.io import load_audio
from vs_plugin.audio.mel import MelConfig, log_mel
from vs_plugin.errors import InputError
from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.scoring.results import SystemScores, metric_names, slug
from vs_plugin.scoring.stats import AVERAGE, summarise_table
from vs_plugin.utils.files import atomic_path

DPI = 110
PNG_COMPRESS_LEVEL = 1  # zlib level of the PNGs: fastest (stage 5 writes many)
log = logging.getLogger(__name__)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (atomically); return the path.

    zlib level 1 instead of PIL's default 6: 0.56 x the time of ``savefig`` for a pair panel,
    for files about 10 % larger (BENCHMARKS.md, stage 5).
    """
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight",
                    pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return path


def bars_figure(systems: Sequence[SystemScores], scorer_name: str, scorer: Scorer) -> Figure | None:
    """One panel per metric of ``scorer`` that has a better direction; None if none has data.

    Bars: categories (sorted, then the average) x systems; error bars: 95 % CI half-widths
    (none where fewer than two clips). Undefined metrics (all NaN for a system) get no bar.
    """
    metrics: list[str] = []
    for s in systems:
        metrics += [
            m
            for m in metric_names(s.rows.get(scorer_name, []))
            if m not in metrics and m in scorer.lower_is_better
        ]
    tables = {}
    for s in systems:
        rows = s.rows.get(scorer_name, [])
        tables[s.name] = summarise_table(rows, [str(r["category"]) for r in rows], metrics)  # type: ignore[arg-type]
    metrics = [
        m for m in metrics if any(ci.n > 0 for t in tables.values() for ci in t.get(m, {}).values())
    ]
    if not metrics:
        return None
    cats = sorted({c for t in tables.values() for m in metrics for c in t.get(m, {})} - {AVERAGE})
    cats.append(AVERAGE)
    fig = Figure(
        figsize=(max(5.0, 1.1 * len(cats) * max(1, len(systems)) ** 0.5), 3.0 * len(metrics))
    )
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    width = 0.8 / max(1, len(systems))
    x = np.arange(len(cats))
    for ax, metric in zip(axes, metrics, strict=True):
        for k, s in enumerate(systems):
            stats = tables[s.name].get(metric, {})
            means = np.array([stats[c].mean if c in stats else math.nan for c in cats])
            cis = np.array([stats[c].ci95 if c in stats else math.nan for c in cats])
            if np.isnan(means).all():
                continue
            ax.bar(
                x + (k - (len(systems) - 1) / 2) * width,
                np.nan_to_num(means),
                width,
                yerr=np.nan_to_num(cis),
                capsize=3,
                label=s.name,
            )
        arrow = "lower is better" if scorer.lower_is_better[metric] else "higher is better"
        ax.set_title(f"{metric} ({arrow})", fontsize=10)
        ax.set_xticks(x, cats, fontsize=9)
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(f"{scorer_name}: mean per category, 95 % CI", fontsize=11)
    return fig


def _onsets(wav: np.ndarray, sr: int) -> list[float]:
    """Onsets as the ``onset`` scorer detects them (its defaults at this sample rate)."""
    from vs_plugin.scoring.onset import OnsetConfig, detect_onsets

    times, _ = detect_onsets(wav, OnsetConfig(sample_rate=sr))
    return [float(t) for t in times]


def pair_figure(item: ScoringItem, mel: MelConfig | None = None) -> Figure:
    """Event times and the mels of reference, output and original of one pair, in seconds.

    Raises ``vs_plugin.errors.InputError`` (from ``load_audio``) for a missing or bad file.
    """
    mel = mel or MelConfig()
    sr, hop = mel.sample_rate, mel.hop_length
    rows: list[tuple[str, Path]] = []
    if item.reference is not None:
        rows.append(("reference", item.reference))
    rows.append(("output", item.generated))
    if item.original is not None:
        rows.append(("original", item.original))
    wavs = {name: load_audio(p, sr) for name, p in rows}
    if item.event_times is not None:
        events, source = list(item.event_times), "video's events (truth)"
    elif "original" in wavs:
        events, source = _onsets(wavs["original"], sr), "onsets detected in the original"
    else:
        events, source = [], "no event times known"
    fig = Figure(layout="constrained", figsize=(8.0, 1.0 + 1.7 * len(rows)))
    axes = fig.subplots(
        len(rows) + 1, 1, sharex=True, gridspec_kw={"height_ratios": [0.35] + [1.0] * len(rows)}
    )
    ax0 = axes[0]
    for t in events:
        ax0.axvline(t, color="tab:red", linewidth=1.5)
    ax0.set_yticks([])
    ax0.set_title(f"{item.utt} ({item.category}): {source}", fontsize=10, loc="left")
    longest = 0.0
    for ax, (name, _) in zip(axes[1:], rows, strict=True):
        spec = log_mel(wavs[name], mel)  # (frames, n_mels)
        seconds = spec.shape[0] * hop / sr
        longest = max(longest, seconds)
        ax.imshow(
            spec.T,
            origin="lower",
            aspect="auto",
            extent=(0.0, seconds, 0, spec.shape[1]),
            cmap="magma",
            interpolation="nearest",
        )
        if name != "reference":
            for t in events:
                ax.axvline(t, color="white", linewidth=0.8, linestyle="--", alpha=0.8)
        ax.set_ylabel(f"{name}\nmel bin", fontsize=9)
    axes[-1].set_xlabel("time (s)")
    ax0.set_xlim(0.0, longest)
    return fig


def pick_pairs(items: Sequence[ScoringItem], n: int) -> list[ScoringItem]:
    """Up to ``n`` pairs with an original, one per category in turn (sorted by utt)."""
    by_cat: dict[str, list[ScoringItem]] = {}
    for it in sorted(items, key=lambda i: i.utt):
        if it.original is not None:
            by_cat.setdefault(it.category, []).append(it)
    chosen: list[ScoringItem] = []
    while len(chosen) < n and any(by_cat.values()):
        for cat in sorted(by_cat):
            if by_cat[cat] and len(chosen) < n:
                chosen.append(by_cat[cat].pop(0))
    return chosen


def write_bar_figures(
    out_dir: Path, systems: Sequence[SystemScores], scorers: Mapping[str, Scorer]
) -> list[Path]:
    """``bars_<scorer>.png`` of every scorer with data (see :func:`bars_figure`)."""
    bars = []
    for name, scorer in scorers.items():
        fig = bars_figure(systems, name, scorer)
        if fig is not None:
            bars.append(save_figure(fig, out_dir / f"bars_{slug(name)}.png"))
    return bars


def write_pair_figures(out_dir: Path, items: Sequence[ScoringItem], n_pairs: int = 3) -> list[Path]:
    """``pair_<utt>.png`` of up to ``n_pairs`` pairs (:func:`pick_pairs`); they need only the
    audio, not the scores. A pair whose audio cannot be read is left out with a warning."""
    pairs = []
    for it in pick_pairs(items, n_pairs):
        try:
            pairs.append(save_figure(pair_figure(it), out_dir / f"pair_{slug(it.utt)}.png"))
        except InputError as exc:  # a clip that failed scoring too: leave its panel out
            log.warning("no figure for pair %s: %s", it.utt, exc)
    return pairs


def write_figures(
    out_dir: Path,
    systems: Sequence[SystemScores],
    scorers: Mapping[str, Scorer],
    items: Sequence[ScoringItem],
    n_pairs: int = 3,
) -> dict[str, list[Path]]:
    """All figures of one scored inference dir: ``{"bars": [...], "pairs": [...]}``."""
    return {
        "bars": write_bar_figures(out_dir, systems, scorers),
        "pairs": write_pair_figures(out_dir, items, n_pairs),
    }


def figures_markdown(figures: Mapping[str, Sequence[Path]], relative_to: Path) -> str:
    """A ``## Figures`` section linking every figure relative to the RESULTS.md folder."""
    lines = ["## Figures", ""]
    if figures.get("bars"):
        lines += ["Per-category means with 95 % confidence intervals:", ""]
        lines += [
            f"![{p.stem}]({Path(os.path.relpath(p, relative_to)).as_posix()})"
            for p in figures["bars"]
        ]
        lines.append("")
    if figures.get("pairs"):
        lines += [
            "Test pairs on one time axis: the video's event times (red; dashed on the "
            "spectrograms), then the log-mel of the reference, the output and the original:",
            "",
        ]
        lines += [
            f"![{p.stem}]({Path(os.path.relpath(p, relative_to)).as_posix()})"
            for p in figures["pairs"]
        ]
        lines.append("")
    return "\n".join(lines)
