"""The MCD ablation table (paper Appendix E, Tables 7 and 8) beside the paper's own numbers.

Each variant is one generated set of the test clips' **original pairs** (the clip's own
audio as the reference, stage 3 policy ``same``; the paper draws 10 such pairs per category)
scored by MCD against the vocoded ground truth. The variants, and which of the paper's two
readings of "with/without background" each row is:

- ``proposed``: the full model, silent background at inference (the paper's "Proposed").
- ``with_background``: the same model fed the clip's **own background at inference**
  (Table 8 "w Bi": reading 1, an inference-time input, not a retrained model).
- ``no_temporal`` / ``no_timbre`` / ``no_temporal_timbre``: the same model with that code
  replaced by zeros at inference (Table 8 "w/o Te", "w/o Ti", "w/o Te & Ti").
- ``no_background_encoder``: a model **retrained without the background encoder**
  (reading 2; the paper reports no such row).
- ``no_mel_disc`` / ``no_align_disc``: models retrained without the multi-window mel
  discriminator / the time-domain alignment discriminator (Table 7 "w/o MD", "w/o TDAD").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vs_plugin.scoring.stats import AVERAGE, MeanCI, summarise_table


@dataclass(frozen=True)
class Variant:
    key: str
    label: str  # the paper's column name
    how: str  # what was run, in words
    paper: tuple[float, float] | None  # the paper's average MCD and its +- (8 VAS categories)


VARIANTS: tuple[Variant, ...] = (
    Variant("proposed", "Proposed", "full model, silent background at inference", (4.14, 0.07)),
    Variant(
        "with_background", "w Bi",
        "same model, the clip's own background fed at inference (reading 1)", (3.60, 0.07),
    ),
    Variant("no_temporal", "w/o Te", "same model, temporal code zeroed at inference", (4.33, 0.08)),
    Variant("no_timbre", "w/o Ti", "same model, timbre code zeroed at inference", (5.25, 0.12)),
    Variant(
        "no_temporal_timbre", "w/o Te & Ti", "same model, both codes zeroed at inference",
        (5.21, 0.12),
    ),
    Variant(
        "no_background_encoder", "w/o Bi (retrained)",
        "retrained without the background encoder (reading 2)", None,
    ),
    Variant(
        "no_mel_disc", "w/o MD",
        "retrained without the multi-window mel discriminator", (4.25, 0.08),
    ),
    Variant(
        "no_align_disc", "w/o TDAD",
        "retrained without the time-domain alignment discriminator", (4.43, 0.08),
    ),
)  # fmt: skip
BY_KEY = {v.key: v for v in VARIANTS}


def ablation_markdown(
    rows_by_variant: Mapping[str, Sequence[Mapping[str, object]]], title: str = "MCD ablations"
) -> str:
    """One table: a row per variant (ours overall, per category, the paper's average).

    ``rows_by_variant`` maps a variant key to MCD scorer rows (``utt``, ``category``,
    ``mcd``). Unknown keys raise KeyError; variants not given are left out.
    """
    unknown = sorted(set(rows_by_variant) - set(BY_KEY))
    if unknown:
        raise KeyError(f"unknown ablation variants {unknown}; known: {sorted(BY_KEY)}")
    tables = {
        k: summarise_table(rows, [str(r["category"]) for r in rows], ["mcd"]).get("mcd", {})  # type: ignore[misc]
        for k, rows in rows_by_variant.items()
    }
    cats = sorted({c for t in tables.values() for c in t} - {AVERAGE})
    lines = [f"## {title}", ""]
    lines += [
        "MCD (dB, lower is better) of the test clips' original pairs against the vocoded ground "
        "truth, mean with 95 % CI over clips; the paper's column is its 8-category VAS average "
        "(Tables 7-8; ± as printed there).",
        "",
        "| Variant | What was run | " + " | ".join(cats) + " | **Average** | Paper (VAS) |",
        "|---" * (len(cats) + 4) + "|",
    ]
    for v in VARIANTS:
        if v.key not in tables:
            continue
        t = tables[v.key]
        cells = [t.get(c, MeanCI(math.nan, math.nan, 0)).format() for c in [*cats, AVERAGE]]
        paper = f"{v.paper[0]:.2f} (±{v.paper[1]:.2f})" if v.paper else "not reported"
        lines.append(f"| {v.label} | {v.how} | " + " | ".join(cells) + f" | {paper} |")
    return "\n".join([*lines, ""])
