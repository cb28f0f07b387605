"""``vs-seeds-report``: one configuration trained with several seeds, each metric's mean and
spread over the seeds (``recipes/seeds.sh`` runs the seeds and then this).

For each experiment (``exp/<tag>_seed<N>``), each scored policy (``scores/<policy>/``) and each
metric of each scorer's per-clip table (``<scorer>.tsv``), the seed's value is the mean over
its clips (NaN clips, e.g. pairs a metric does not define, left out). Over the seeds the report
gives the mean, the 95 % Student-t interval of that mean (n - 1 degrees of freedom: the spread
of *training runs*, not of clips), the standard deviation and the range. Writes ``SEEDS.md``
and ``SEEDS.tsv`` in ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np

from vs_plugin.bin.cli import command
from vs_plugin.errors import InputError
from vs_plugin.scoring.stats import mean_ci
from vs_plugin.utils.files import write_text_atomic

PROG = "vs-seeds-report"


def seed_means(exp: Path) -> dict[tuple[str, str], float]:
    """``{(policy, metric): mean over clips}`` of one experiment's ``scores/<policy>/*.tsv``.

    Raises InputError naming the folder when it holds no per-clip score table.
    """
    out: dict[tuple[str, str], float] = {}
    scores = exp / "scores"
    tables = sorted(
        p
        for p in scores.glob("*/*.tsv")
        if not p.name.endswith(".summary.tsv") and p.name != "scorers.tsv"  # not per-clip
    )
    for table in tables:
        policy = table.parent.name
        with open(table, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        if not rows:
            continue
        for metric in rows[0]:
            if metric in ("utt", "category"):
                continue
            try:
                values = np.array([float(r[metric]) for r in rows], dtype=np.float64)
            except ValueError:
                raise InputError(table, f"column {metric!r} is not numeric") from None
            finite = values[np.isfinite(values)]
            # a name that an earlier table (scorers in name order) already gave is suffixed
            # with this table's scorer, e.g. "onset_f1 (onset)" after disentanglement's
            name = f"{metric} ({table.stem})" if (policy, metric) in out else metric
            out[(policy, name)] = float(finite.mean()) if finite.size else math.nan
    if not out:
        raise InputError(
            scores, "no per-clip score tables (scores/<policy>/<scorer>.tsv): run stage 5"
        )
    return out


def report(exps: list[Path]) -> tuple[str, str]:
    """(SEEDS.md text, SEEDS.tsv text) for the experiments, one per seed."""
    per_seed = [seed_means(e) for e in exps]
    keys = sorted(set().union(*per_seed))
    tsv = ["policy\tmetric\tn_seeds\tmean\tci95\tstd\tmin\tmax\t" + "\t".join(e.name for e in exps)]
    md = [
        f"# Seeds: {len(exps)} training runs of one configuration",
        "",
        "Each seed's value is the mean over its test clips; over the seeds: mean with the 95 % "
        "Student-t interval of the mean, standard deviation and range.",
        "",
        "Experiments: " + ", ".join(f"`{e}`" for e in exps),
    ]
    policy = None
    for pol, metric in keys:
        values = [s.get((pol, metric), math.nan) for s in per_seed]
        finite = np.array([v for v in values if math.isfinite(v)], dtype=np.float64)
        m = mean_ci(finite)
        std = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (math.nan,) * 2
        cells = [m.n, m.mean, m.ci95, std, lo, hi, *values]
        tsv.append(
            f"{pol}\t{metric}\t"
            + "\t".join(f"{c:.6g}" if isinstance(c, float) else str(c) for c in cells)
        )
        if pol != policy:
            policy = pol
            md += [
                "",
                f"## Policy: {pol}",
                "",
                "| metric | mean (±95 % CI) | std | min - max | per seed |",
                "|---|---|---|---|---|",
            ]
        per = ", ".join("n/a" if not math.isfinite(v) else f"{v:.3f}" for v in values)
        md.append(
            f"| {metric} | {m.format(3)} | {std:.3f} | {lo:.3f} - {hi:.3f} | {per} |"
            if m.n
            else f"| {metric} | n/a | | | {per} |"
        )
    return "\n".join(md) + "\n", "\n".join(tsv) + "\n"


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Write SEEDS.md and SEEDS.tsv; 2 for a bad input (one line naming the file)."""
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--exp",
        type=Path,
        nargs="+",
        required=True,
        help="experiment folders, one per seed (each with scores/<policy>/)",
    )
    ap.add_argument("--out", type=Path, required=True, help="folder for SEEDS.md and SEEDS.tsv")
    args = ap.parse_args(argv)
    if len(args.exp) < 2:
        ap.error("--exp: give at least two experiments (one per seed)")
    md, tsv = report(args.exp)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "SEEDS.md", md)
    write_text_atomic(args.out / "SEEDS.tsv", tsv)
    print(f"{PROG}: {len(args.exp)} seeds -> {args.out / 'SEEDS.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
