"""vs-ablation-table: score ablation variants by MCD and write the paper's ablation table.

Each ``--variant KEY=DIR`` is a stage-3/4 output folder (``wav.scp`` of the test clips'
original pairs); keys are those of ``vs_plugin.scoring.ablation.VARIANTS``. Writes the
Markdown table to ``--out`` (and per-clip MCD rows to ``--scores``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vs_plugin.bin.cli import command
from vs_plugin.data.kaldi_dir import SOUND, read_data_dir
from vs_plugin.errors import ConfigError
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.ablation import BY_KEY, ablation_markdown
from vs_plugin.scoring.items import build_items
from vs_plugin.scoring.results import score_system, write_scores
from vs_plugin.utils.files import write_text_atomic

PROG = "vs-ablation-table"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0].split(": ", 1)[1])
    p.add_argument("--variant", action="append", required=True, metavar="KEY=DIR")
    p.add_argument("--gt", required=True, type=Path, help="vocoded ground truth (infer_test_gt)")
    p.add_argument("--data", required=True, type=Path, help="the test data dir")
    p.add_argument("--out", required=True, type=Path, help="the Markdown table to write")
    p.add_argument("--scores", type=Path, help="per-variant MCD rows under this folder")
    return p


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Score every variant and write the table; 2 for a bad input or option."""
    args = build_parser().parse_args(argv)
    data = read_data_dir(args.data, required=SOUND)
    scorers = {"mcd": SCORERS.build("mcd")}
    rows = {}
    for spec in args.variant:
        key, sep, path = spec.partition("=")
        if not sep or key not in BY_KEY:
            raise ConfigError(f"--variant {spec!r}: expected KEY=DIR, KEY in {sorted(BY_KEY)}")
        result = score_system(key, path, build_items(path, data, args.gt), scorers)
        if args.scores is not None:
            write_scores(args.scores / key, result)
        rows[key] = result.rows["mcd"]
    write_text_atomic(args.out, ablation_markdown(rows) + "\n")
    print(f"{PROG}: {len(rows)} variants -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
