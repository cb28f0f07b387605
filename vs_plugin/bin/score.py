"""``vs-score``: objective scores of generated audio (stage 5), per clip and per category.

Writes ``<out>/<scorer>.tsv`` and ``<out>/<scorer>.summary.tsv`` for our system,
``<out>/<system>/...`` for the ground truth and every ``--compare`` system, and RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from vs_plugin.errors import InputError
from vs_plugin.registry import SCORERS, RegistryError
from vs_plugin.scoring.items import build_items, ground_truth_items, load_data_dir, render_ideals
from vs_plugin.scoring.results import results_markdown, score_system, slug, write_scores
from vs_plugin.utils.files import write_text_atomic

PROG = "vs-score"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Score generated audio against ground truth: MCD, Resemblyzer timbre "
        "similarity, onset alignment, and (built-in corpus) disentanglement.",
    )
    p.add_argument(
        "--infer",
        required=True,
        type=Path,
        help="our generations: exp/<tag>/infer_<set>_<policy> (wav.scp, pairs.tsv)",
    )
    p.add_argument("--gt", type=Path, help="vocoded ground truth: exp/<tag>/infer_<set>_gt")
    p.add_argument("--data", required=True, type=Path, help="the data dir, e.g. data/test")
    p.add_argument(
        "--scorers",
        default="mcd timbre_similarity onset",
        help="space-separated scorer names (see vs-list scorer)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="S.F=V",
        help="scorer config override, e.g. mcd.dtw=true (repeatable)",
    )
    p.add_argument("--out", required=True, type=Path, help="output dir, e.g. exp/<tag>/scores")
    p.add_argument("--results", type=Path, help="write a RESULTS.md here")
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="another system's generations in the same layout (repeatable)",
    )
    p.add_argument("--name", default="VarietySound", help="our system's name in tables")
    p.add_argument("--corpus-note", default="", help="a line printed at the top of RESULTS.md")
    p.add_argument(
        "--ideal-cache", type=Path, help="where ideal targets are rendered (default <out>/ideal)"
    )
    p.add_argument("--strict", action="store_true", help="stop at the first bad input")
    return p


def build_scorers(names: list[str], overrides: list[str]) -> dict:
    specs: dict[str, dict] = {n: {"name": n} for n in names}
    for ov in overrides:
        key, sep, value = ov.partition("=")
        sname, dot, fld = key.partition(".")
        if not sep or not dot or sname not in specs:
            raise RegistryError(
                f"bad --set {ov!r}: use <scorer>.<field>=<value> for a chosen "
                f"scorer ({', '.join(names)})"
            )
        specs[sname][fld] = yaml.safe_load(value)
    return {n: SCORERS.build(spec) for n, spec in specs.items()}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        scorers = build_scorers(args.scorers.split(), args.overrides)
        data = load_data_dir(args.data)
        needs_ideal = any("ideal" in getattr(s, "requires", ()) for s in scorers.values())
        cache = args.ideal_cache or args.out / "ideal"
        systems = []
        ours = build_items(args.infer, data, args.gt)
        if needs_ideal:
            render_ideals(ours, data, cache)
        runs = [(args.name, str(args.infer), ours, args.out)]
        if args.gt is not None:
            runs.append(
                ("Ground truth (vocoded)", str(args.gt), ground_truth_items(ours), args.out / "gt")
            )
        for spec in args.compare:
            name, sep, path = spec.partition("=")
            if not sep or not name or not path:
                raise InputError(None, f"--compare {spec!r}: expected NAME=DIR")
            items = build_items(path, data, args.gt)
            if needs_ideal:
                render_ideals(items, data, cache)
            runs.append((name, path, items, args.out / slug(name)))
        for name, source, items, out in runs:
            result = score_system(name, source, items, scorers, strict=args.strict)
            write_scores(out, result)
            systems.append(result)
            print(f"{PROG}: {name}: {len(items)} clips scored -> {out}", file=sys.stderr)
        describe = "".join(f"{n}\t{s.describe()}\n" for n, s in scorers.items())
        write_text_atomic(args.out / "scorers.tsv", describe)
        if args.results is not None:
            title = f"Results: {args.infer.parent.name or args.infer}"
            md = results_markdown(systems, scorers, title, args.corpus_note)
            write_text_atomic(args.results, md)
    except (InputError, RegistryError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
