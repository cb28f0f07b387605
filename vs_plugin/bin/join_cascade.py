"""vs-join-cascade: join a trained REGNET and a trained converter into one cascade model.

Both halves are exported models (``exp/<tag>/model``) trained on the same dump; the result is
a ``model/`` folder that stage 3 (``vs-infer``) and ``vs-generate`` use like any other.
"""

from __future__ import annotations

import argparse
import sys

from vs_plugin.bin.cli import command, load_model

PROG = "vs-join-cascade"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0].split(": ", 1)[1])
    p.add_argument("--video-to-sound", required=True, help="exported REGNET model folder")
    p.add_argument("--converter", required=True, help="exported converter model folder")
    p.add_argument("--out", required=True, help="the cascade's model folder to write")
    return p


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Write the cascade's model folder; 2 for a bad input."""
    args = build_parser().parse_args(argv)
    from vs_plugin.models.cascade import export_cascade

    halves = [load_model(source, "cpu") for source in (args.video_to_sound, args.converter)]
    card = export_cascade(*halves, args.out)
    print(f"{PROG}: {card.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
