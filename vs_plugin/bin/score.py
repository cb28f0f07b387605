"""``vs-score``: objective scores of generated audio (stage 5), per clip and per category.

Writes ``<out>/<scorer>.tsv`` and ``<out>/<scorer>.summary.tsv`` for our system,
``<out>/<system>/...`` for the ground truth and every ``--compare`` system, RESULTS.md, and the
figures it links (``figures/`` beside it: per-category bars per metric, and a few test pairs'
event times and mels).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

import yaml

from vs_plugin.bin.cli import command
from vs_plugin.data.kaldi_dir import SOUND, read_data_dir
from vs_plugin.errors import ConfigError
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.figures import figures_markdown, write_bar_figures, write_pair_figures
from vs_plugin.scoring.items import build_items, ground_truth_items, render_ideals
from vs_plugin.scoring.results import (
    merge_results,
    results_markdown,
    score_system,
    slug,
    write_scores,
)
from vs_plugin.utils.files import sweep_temporaries, sweep_temporaries_of, write_text_atomic

PROG = "vs-score"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Score generated audio against ground truth with registered scorers "
        "(vs-list scorer: MCD, Resemblyzer, MFCC and sound-effects similarity, reference "
        "match, onsets, and on the built-in corpus the distance to the ideal output); write "
        "RESULTS.md with figures.",
    )
    p.add_argument(
        "--infer",
        type=Path,
        action="append",
        help="our generations: exp/<tag>/infer_<set>_<policy> (wav.scp, pairs.tsv); required "
        "unless --merge-results. Repeat it to score several policies in one process (shared "
        "caches): each goes to <out>/<policy>/ and gets its own section of RESULTS.md",
    )
    p.add_argument("--gt", type=Path, help="vocoded ground truth: exp/<tag>/infer_<set>_gt")
    p.add_argument("--data", type=Path, help="the data dir, e.g. data/test (required to score)")
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
    p.add_argument("--out", type=Path, help="output dir, e.g. exp/<tag>/scores (required to score)")
    p.add_argument("--results", type=Path, help="write a RESULTS.md here")
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="another system's generations in the same layout (repeatable); '{policy}' in "
        "DIR is replaced by each --infer dir's reference policy",
    )
    p.add_argument("--name", default="VarietySound", help="our system's name in tables")
    p.add_argument("--corpus-note", default="", help="a line printed at the top of RESULTS.md")
    p.add_argument("--title", help="RESULTS.md title (default: Results: <experiment>)")
    p.add_argument(
        "--merge-results",
        nargs="+",
        type=Path,
        metavar="MD",
        help="instead of scoring: put these RESULTS.md files under one --title into --results",
    )
    p.add_argument(
        "--ideal-cache", type=Path, help="where ideal targets are rendered (default <out>/ideal)"
    )
    p.add_argument(
        "--figures",
        type=Path,
        help="where figures go (default: figures/ beside --results, else <out>/figures); "
        "RESULTS.md links them",
    )
    p.add_argument(
        "--figure-pairs",
        type=int,
        default=3,
        help="test pairs drawn as event times + reference/output/original mels (0: none)",
    )
    p.add_argument(
        "--jobs", type=int, default=1,
        help="policies (repeated --infer) scored at once, in threads sharing the scorers' "
        "networks and per-file caches; the CPU threads are shared among them. Same output as "
        "one job",
    )
    p.add_argument("--no-figures", action="store_true", help="write no figures")
    p.add_argument("--strict", action="store_true", help="stop at the first bad input")
    return p


def build_scorers(names: list[str], overrides: list[str]) -> dict:
    """The named scorers, built with ``--set <scorer>.<field>=<value>`` overrides applied."""
    specs: dict[str, dict] = {n: {"name": n} for n in names}
    for ov in overrides:
        key, sep, value = ov.partition("=")
        sname, dot, fld = key.partition(".")
        if not sep or not dot or sname not in specs:
            raise ConfigError(
                f"bad --set {ov!r}: use <scorer>.<field>=<value> for a chosen "
                f"scorer ({', '.join(names)})"
            )
        specs[sname][fld] = yaml.safe_load(value)
    return {n: SCORERS.build(spec) for n, spec in specs.items()}


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Score, or merge RESULTS.md files; 2 for a bad input or option."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.merge_results:
        if args.results is None:
            parser.error("--merge-results needs --results")
        parts = [p.read_text(encoding="utf-8") for p in args.merge_results]
        write_text_atomic(args.results, merge_results(parts, args.title or "Results"))
        return 0
    missing = [f"--{n}" for n in ("infer", "data", "out") if getattr(args, n) is None]
    if missing:
        parser.error(f"the following arguments are required: {', '.join(missing)}")
    sweep_temporaries(args.out)
    if args.results is not None:
        sweep_temporaries_of(args.results)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    several = len(args.infer) > 1
    tasks = []
    for infer in args.infer:
        policy = policy_of(infer)
        out = args.out / policy if several else args.out
        title = f"Reference policy: {policy}" if several else args.title
        # the full policy name for '{policy}' (e.g. timbre_5x3 in infer_test_timbre_5x3)
        full = infer.name.removeprefix(f"infer_{args.data.name}_") if args.data else policy
        tasks.append((infer, out, title, full))
    scorers = build_scorers(args.scorers.split(), args.overrides)  # bad names fail here, once
    data = read_data_dir(args.data, required=SOUND)
    jobs = min(args.jobs, len(tasks))
    with FigureWriter(enabled=not args.no_figures) as figures:
        if jobs == 1:
            parts = [_score_one(args, *t[:2], scorers, data, *t[2:], figures) for t in tasks]
        else:
            parts = _score_in_parallel(args, tasks, scorers, data, jobs, figures)
        sections = [md + figures.markdown(*fig_jobs) for md, fig_jobs in parts]
    if args.results is not None:
        if several:
            md = merge_results(sections, args.title or f"Results: {args.infer[0].parent.name}")
        else:
            md = sections[0]
        write_text_atomic(args.results, md)
    return 0


class FigureWriter:
    """Writes the figures in a second process (``spawn``) while this one goes on scoring.

    ``pairs(fig_dir, items, n_pairs)`` starts a policy's pair panels (they need only the
    audio: started before its scoring); ``bars(fig_dir, systems, scorers)`` its bar charts
    once it is scored. ``markdown(pairs_job, bars_job, results_dir)`` waits for both and
    returns the RESULTS.md section that links them ("" when figures are off). The scorers
    travel as their metric directions only. An error in the figure process is raised by
    ``markdown``.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._pool = None

    def __enter__(self) -> FigureWriter:
        if self.enabled:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=exc[0] is None, cancel_futures=exc[0] is not None)

    def pairs(self, fig_dir: Path, items: list, n_pairs: int):
        return self._pool and self._pool.submit(write_pair_figures, fig_dir, items, n_pairs)

    def bars(self, fig_dir: Path, systems: list, scorers: dict):
        directions = {n: SimpleNamespace(lower_is_better=dict(s.lower_is_better))
                      for n, s in scorers.items()}
        return self._pool and self._pool.submit(write_bar_figures, fig_dir, systems, directions)

    @staticmethod
    def markdown(pairs_job, bars_job, fig_dir: Path, results_dir: Path) -> str:
        if pairs_job is None or bars_job is None:
            return ""
        figs = {"bars": bars_job.result(), "pairs": pairs_job.result()}
        print(f"{PROG}: figures -> {fig_dir}", file=sys.stderr)
        return "\n" + figures_markdown(figs, results_dir)


def _score_one(
    args, infer: Path, out: Path, scorers: dict, data, title: str | None, policy: str,
    figures: FigureWriter,
) -> tuple[str, object]:
    """Score one inference dir (and the ground truth, and comparisons): its RESULTS text and
    its figures' job (:class:`FigureWriter`)."""
    needs_ideal = any("ideal" in getattr(s, "requires", ()) for s in scorers.values())
    cache = args.ideal_cache or args.out / "ideal"
    systems = []
    ours = build_items(infer, data, args.gt)
    results_dir = (args.results or out / "RESULTS.md").parent
    fig_root = args.figures or results_dir / "figures"
    fig_dir = fig_root / policy_of(infer) if len(args.infer) > 1 else fig_root
    pairs_job = figures.pairs(fig_dir, ours, args.figure_pairs)
    if needs_ideal:
        render_ideals(ours, data, cache)
    runs = [(args.name, str(infer), ours, out)]
    if args.gt is not None:
        runs.append(("Ground truth (vocoded)", str(args.gt), ground_truth_items(ours), out / "gt"))
    for spec in args.compare:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--compare {spec!r}: expected NAME=DIR")
        path = path.replace("{policy}", policy)
        items = build_items(path, data, args.gt)
        if needs_ideal:
            render_ideals(items, data, cache)
        runs.append((name, path, items, out / slug(name)))
    for name, source, items, where in runs:
        result = score_system(name, source, items, scorers, strict=args.strict)
        write_scores(where, result)
        systems.append(result)
        print(f"{PROG}: {name}: {len(items)} clips scored -> {where}", file=sys.stderr)
    describe = "".join(f"{n}\t{s.describe()}\n" for n, s in scorers.items())
    write_text_atomic(out / "scorers.tsv", describe)
    title = title or f"Results: {infer.parent.name or infer}"
    md = results_markdown(systems, scorers, title, args.corpus_note)
    return md, (pairs_job, figures.bars(fig_dir, systems, scorers), fig_dir, results_dir)


def _score_in_parallel(
    args, tasks: list[tuple], scorers: dict, data, jobs: int, figures: FigureWriter
) -> list[tuple[str, object]]:
    """The policies side by side in ``jobs`` threads of this process, sharing the scorers and
    their per-file caches (a reference or original is embedded once for every policy); the
    networks, the decoders and the file analyses release the GIL. Torch and OpenVINO get
    ``cpu_count // jobs`` threads each. Sections come in the order of ``tasks``; the first
    error is raised once the running policies have finished."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // jobs))
    try:
        with ThreadPoolExecutor(jobs) as pool:
            futures = [
                pool.submit(_score_one, args, t[0], t[1], scorers, data, *t[2:], figures)
                for t in tasks
            ]
            return [f.result() for f in futures]
    except BaseException:
        # a progress bar below the first, cleared when its policy ended, leaves the cursor
        # on its line without a line break: the error message gets a line of its own
        sys.stderr.write("\n")
        raise


def policy_of(infer: Path) -> str:
    """``infer_test_shuffled`` -> ``shuffled``."""
    return infer.name.rsplit("_", 1)[-1]


if __name__ == "__main__":
    sys.exit(main())
