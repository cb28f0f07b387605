"""``vs-vocode`` (stage 4): mels of an inference folder -> wav/ (+ mp4/ muxed on the videos)."""

from __future__ import annotations

import argparse
import sys

from vs_plugin.bin.cli import command
from vs_plugin.data.cliargs import VOCODER_CONFIG_HELP, component_spec, str2bool
from vs_plugin.errors import ConfigError
from vs_plugin.utils.files import sweep_temporaries

PROG = "vs-vocode"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Stage 4: vocode <in>/mel.scp into <in>/wav/ (22050 Hz PCM16) and wav.scp; with "
            "--data and --mux true also write <in>/mp4/ (the set's videos with the generated "
            "sound). --gt first copies the dump's ground-truth mels into <in> (no "
            "de-normalisation: they are raw log-mels). Finished clips are skipped on reruns."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--in", dest="in_dir", required=True, help="inference folder (mel.scp)")
    p.add_argument("--vocoder", default="hifigan", help="vocoder name (hifigan, griffin_lim)")
    p.add_argument(
        "--vocoder-config", nargs="*", default=[], metavar="K=V", help=VOCODER_CONFIG_HELP
    )
    p.add_argument("--data", default=None, help="data dir of the set (video.scp), for muxing")
    p.add_argument("--mux", type=str2bool, default=True, help="also write mp4/ (needs --data)")
    p.add_argument("--gt", action="store_true", help="vocode the ground truth of --dump")
    p.add_argument("--dump", default=None, help="dump dir of the set (with --gt)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda:0...")
    p.add_argument("--overwrite", action="store_true", help="redo finished clips")
    p.add_argument("--strict", type=str2bool, default=False, help="stop at the first failure")
    return p


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Run stage 4; 0 unless every clip failed (1), 2 for a bad input or option."""
    args = build_parser().parse_args(argv)
    if args.gt and not args.dump:
        raise ConfigError("--gt needs --dump DIR")
    sweep_temporaries(args.in_dir)
    from vs_plugin.infer.vocode import build_vocoder
    from vs_plugin.infer.vocode_set import prepare_ground_truth, vocode_set

    if args.gt:
        prepare_ground_truth(args.dump, args.in_dir, overwrite=args.overwrite)
    vocoder = build_vocoder(component_spec(args.vocoder, args.vocoder_config), args.device)
    counts = vocode_set(
        args.in_dir,
        vocoder,
        data_dir=args.data,
        do_mux=args.mux,
        overwrite=args.overwrite,
        strict=args.strict,
    )
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 1 if counts["failed"] and not counts["done"] and not counts["skipped"] else 0


if __name__ == "__main__":
    sys.exit(main())
