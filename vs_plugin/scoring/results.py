"""Run scorers over systems and write per-utterance tables, summaries and RESULTS.md."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from vs_plugin.errors import InputError
from vs_plugin.interfaces import Scorer, ScoringItem
from vs_plugin.scoring.stats import AVERAGE, MeanCI, mean_ci, summarise_table
from vs_plugin.utils.files import write_text_atomic

Rows = list[dict[str, object]]


@dataclass
class SystemScores:
    """Per-utterance rows of every scorer for one system (ours, ground truth, a baseline)."""

    name: str
    source: str
    rows: dict[str, Rows] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def metric_names(rows: Rows) -> list[str]:
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in ("utt", "category") and k not in names]
    return names


def score_system(
    name: str,
    source: str,
    items: Sequence[ScoringItem],
    scorers: Mapping[str, Scorer],
    *,
    strict: bool = False,
) -> SystemScores:
    """Score every item with every scorer; bad inputs are recorded (or raised if strict)."""
    out = SystemScores(name, source)
    for sname, scorer in scorers.items():
        rows: Rows = []
        for item in tqdm(items, desc=f"{name}: {sname}", unit="clip", leave=False):
            try:
                metrics = scorer.score(item)
            except InputError as exc:
                if strict:
                    raise
                out.failures.append(f"{item.utt}\t{sname}\t{exc}")
                continue
            rows.append({"utt": item.utt, "category": item.category, **metrics})
        out.rows[sname] = rows
    return out


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def write_scores(out_dir: Path, scores: SystemScores) -> None:
    """``<scorer>.tsv`` (per utterance) and ``<scorer>.summary.tsv`` (per category)."""
    for sname, rows in scores.rows.items():
        metrics = metric_names(rows)
        lines = ["\t".join(["utt", "category", *metrics])]
        lines += [
            "\t".join(_fmt(r.get(c, math.nan)) for c in ["utt", "category", *metrics]) for r in rows
        ]
        write_text_atomic(out_dir / f"{sname}.tsv", "\n".join(lines) + "\n")
        table = summarise_table(rows, [str(r["category"]) for r in rows], metrics)  # type: ignore[arg-type]
        summary = ["metric\tcategory\tn\tmean\tci95"]
        for metric, groups in table.items():
            summary += [
                f"{metric}\t{g}\t{m.n}\t{_fmt(m.mean)}\t{_fmt(m.ci95)}" for g, m in groups.items()
            ]
        write_text_atomic(out_dir / f"{sname}.summary.tsv", "\n".join(summary) + "\n")
    if scores.failures:
        write_text_atomic(out_dir / "failed.list", "\n".join(scores.failures) + "\n")


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "system"


def summary_table(systems: Sequence[SystemScores], scorers: Mapping[str, Scorer]) -> list[str]:
    """One table of every metric's average over all clips (rows) for each system (columns).

    A metric that several scorers report (e.g. ``onset_f1``) is named with its scorer.
    """
    lines = ["## Summary (all categories)", ""]
    lines.append("| Metric | " + " | ".join(s.name for s in systems) + " |")
    lines.append("|---" * (len(systems) + 1) + "|")
    per_scorer: dict[str, list[str]] = {}
    for sname in scorers:
        per_scorer[sname] = []
        for s in systems:
            per_scorer[sname] += [
                m for m in metric_names(s.rows.get(sname, [])) if m not in per_scorer[sname]
            ]
    seen: dict[str, int] = {}
    for names in per_scorer.values():
        for m in names:
            seen[m] = seen.get(m, 0) + 1
    for sname, scorer in scorers.items():
        for metric in per_scorer[sname]:
            better = scorer.lower_is_better.get(metric)
            if better is None:
                continue  # counts and other context columns stay in the per-metric tables
            cells = []
            for s in systems:
                rows = s.rows.get(sname, [])
                values = [float(r[metric]) for r in rows if metric in r]  # type: ignore[arg-type]
                cells.append(mean_ci(values).format())
            arrow = " ↓" if better else " ↑"
            label = f"{metric} ({sname})" if seen[metric] > 1 else metric
            lines.append(f"| {label}{arrow} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def merge_results(parts: Sequence[str], title: str) -> str:
    """Several RESULTS.md texts under one title, each part's headings one level down."""
    lines = [f"# {title}", ""]
    for text in parts:
        for line in text.splitlines():
            lines.append("#" + line if line.startswith("#") else line)
        lines.append("")
    return "\n".join(lines)


def results_markdown(
    systems: Sequence[SystemScores],
    scorers: Mapping[str, Scorer],
    title: str,
    corpus_note: str = "",
) -> str:
    """Tables like the paper's: one per metric, a row per category plus the average."""
    lines = [f"# {title}", ""]
    if corpus_note:
        lines += [corpus_note, ""]
    lines += ["Systems scored on the same test pairs:", ""]
    lines += [
        f"- **{s.name}**: `{s.source}`"
        + (f" ({len(s.failures)} failed scorings)" if s.failures else "")
        for s in systems
    ]
    lines += [
        "",
        "Means over clips with 95 % confidence intervals (Student t); "
        "↓ lower is better, ↑ higher is better; n/a: not defined for that system.",
        "",
    ]
    lines += summary_table(systems, scorers)
    for sname, scorer in scorers.items():
        lines += [f"## {sname}", "", f"_{scorer.describe()}_", ""]
        metrics: list[str] = []
        for s in systems:
            metrics += [m for m in metric_names(s.rows.get(sname, [])) if m not in metrics]
        tables: dict[str, dict[str, dict[str, MeanCI]]] = {}
        cats: set[str] = set()
        for s in systems:
            rows = s.rows.get(sname, [])
            tables[s.name] = summarise_table(rows, [str(r["category"]) for r in rows], metrics)  # type: ignore[arg-type]
            for groups in tables[s.name].values():
                cats |= set(groups) - {AVERAGE}
        for metric in metrics:
            better = scorer.lower_is_better.get(metric)
            arrow = "" if better is None else (" ↓" if better else " ↑")
            lines += [f"### {metric}{arrow}", ""]
            lines.append("| Category | " + " | ".join(s.name for s in systems) + " |")
            lines.append("|---" * (len(systems) + 1) + "|")
            for cat in [*sorted(cats), AVERAGE]:
                cells = [
                    tables[s.name].get(metric, {}).get(cat, MeanCI(math.nan, math.nan, 0)).format()
                    for s in systems
                ]
                name = f"**{cat}**" if cat == AVERAGE else cat
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)
