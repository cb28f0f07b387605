"""``vs-listening-kit``: build the paper's listening tests (Appendix D) and turn ratings into MOS.

  vs-listening-kit build --infer exp/T/infer_test_shuffled --gt exp/T/infer_test_gt \\
      --data data/test --out exp/T/listening_test [--seed 0] [--compare NAME=DIR ...]
  vs-listening-kit aggregate ratings_*.csv --key exp/T/listening_test/key.csv [--out DIR]

The kit holds index.html, a listening test that runs in a browser from the kit's folder
(no server), and mturk/hit.html + mturk/input.csv for Amazon Mechanical Turk.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vs_plugin.bin.cli import command
from vs_plugin.errors import ConfigError
from vs_plugin.scoring.listening import (
    KitConfig,
    aggregate,
    build_kit,
    mos_tables,
    read_key,
    read_ratings,
)
from vs_plugin.utils.files import sweep_temporaries, write_text_atomic

PROG = "vs-listening-kit"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n")[0].split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser(
        "build",
        help="write stimuli, items.csv, key.csv, instructions, manifest, index.html, mturk/",
    )
    b.add_argument(
        "--infer",
        required=True,
        type=Path,
        help="generations of swapped pairs (exp/<tag>/infer_test_shuffled)",
    )
    b.add_argument("--gt", required=True, type=Path, help="vocoded ground truth (infer_test_gt)")
    b.add_argument("--data", required=True, type=Path, help="data dir (wav.scp, video.scp, ...)")
    b.add_argument("--out", required=True, type=Path, help="kit directory to write")
    b.add_argument(
        "--timbre-infer",
        type=Path,
        help="generations for the timbre test (default: --infer); references with "
        "several videos are preferred",
    )
    b.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="another system's generations for the same pairs (repeatable; repeat a NAME "
        "to give its timbre-test generations too)",
    )
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--realism-clips", type=int, default=10, help="per category (default 10)")
    b.add_argument("--timbre-references", type=int, default=5, help="per category (default 5)")
    b.add_argument("--timbre-videos", type=int, default=3, help="per reference (default 3)")
    b.add_argument("--base-url", default="", help="prefix for stimulus paths in items.csv")
    b.add_argument(
        "--jobs", type=int, default=1, help="ffmpeg processes muxing videos at once (default 1)"
    )
    a = sub.add_parser("aggregate", help="MOS with 95%% CIs per system and category")
    a.add_argument(
        "ratings",
        type=Path,
        nargs="+",
        help="CSV files, one row per rater x item: the local page's ratings_<listener>.csv, "
        "a platform export or MTurk's results CSV",
    )
    a.add_argument("--key", required=True, type=Path, help="the kit's key.csv")
    a.add_argument("--item-column", help="default: item_id, else Input.item_id (MTurk)")
    a.add_argument("--rating-column", help="default: rating, else Answer.rating (MTurk)")
    a.add_argument("--out", type=Path, help="write mos.tsv and mos.md here")
    return p


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Build a kit or aggregate ratings; 2 for a bad input or option."""
    args = _parser().parse_args(argv)
    if args.command == "build":
        sweep_temporaries(args.out)
        compare = {}
        for spec in args.compare:
            name, sep, path = spec.partition("=")
            if not sep or not name or not path:
                raise ConfigError(f"--compare {spec!r}: expected NAME=DIR")
            compare.setdefault(name, []).append(Path(path))  # a name may repeat
        cfg = KitConfig(
            seed=args.seed,
            realism_clips=args.realism_clips,
            timbre_references=args.timbre_references,
            timbre_videos=args.timbre_videos,
            base_url=args.base_url,
        )
        manifest = build_kit(
            args.out,
            args.infer,
            args.gt,
            args.data,
            cfg,
            timbre_infer_dir=args.timbre_infer,
            compare=compare,
            jobs=args.jobs,
        )
        print(f"{PROG}: {sum(manifest['items'].values())} items -> {args.out}")
        for note in manifest["notes"]:
            print(f"{PROG}: note: {note}", file=sys.stderr)
    else:
        key = read_key(args.key)
        ratings = [
            r
            for path in args.ratings
            for r in read_ratings(
                path, key, item_col=args.item_column, rating_col=args.rating_column
            )
        ]
        tsv, md = mos_tables(aggregate(ratings, key))
        if args.out is not None:
            write_text_atomic(args.out / "mos.tsv", tsv)
            write_text_atomic(args.out / "mos.md", md + "\n")
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
