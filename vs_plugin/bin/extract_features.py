"""vs-extract-features: stage 1, per-utterance mel or video features into dump/<set>/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vs_plugin.bin.cli import command
from vs_plugin.data.cliargs import parse_overrides, setup_logging
from vs_plugin.features.extract import STREAMS, ExtractConfig, merge, run_job, stream_dir
from vs_plugin.features.spec import DEFAULT_VIDEO_FEATURE
from vs_plugin.utils.files import sweep_temporaries

PROG = "vs-extract-features"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Stage 1: extract one stream's features for a data dir into "
            "<out>/<stream>/data/<utt>.npy (float16, frames x dims), then (--merge) write "
            "feats.scp, feats_shape, failed.list and normalisation stats. Job J of --nj N "
            "takes every N-th utterance; finished utterances are skipped on a rerun. Without "
            "--job, all jobs run here and the merge follows. Each run records the feature's "
            "full config in <out>/<stream>/feature_spec.yaml and refuses to add to features "
            "made with other options; give the merge the same options as the jobs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data", required=True, help="data dir of one set (data/<set>)")
    p.add_argument("--out", required=True, help="dump dir of the set (dump/<set>)")
    p.add_argument("--stream", choices=STREAMS, default="mel")
    p.add_argument(
        "--feature",
        default=None,
        help=f"registered feature name (default: mel, or {DEFAULT_VIDEO_FEATURE} for video)",
    )
    p.add_argument(
        "--feature-config",
        nargs="*",
        default=[],
        metavar="K=V",
        help="feature config overrides, e.g. flow_method=tvl1 device=cpu",
    )
    p.add_argument(
        "--device", default=None, help="auto, cpu, cuda, cuda:1 (sets the feature's device field)"
    )
    p.add_argument(
        "--trust-pickles",
        default=None,
        choices=("true", "false"),
        help="precomputed features: allow reading pickle files",
    )
    p.add_argument(
        "--fps",
        type=float,
        default=21.5,
        help="video frame rate of the clips (stage 0's); also the video feature's fps",
    )
    p.add_argument("--upsample", type=int, default=4, help="mel frames per video frame")
    p.add_argument("--nj", type=int, default=1, help="number of jobs")
    p.add_argument("--job", type=int, default=None, help="run only this job (0-based)")
    p.add_argument("--merge", action="store_true", help="only merge finished jobs")
    p.add_argument(
        "--fit-stats",
        action="store_true",
        help="fit normalisation statistics on this set (the training set)",
    )
    p.add_argument(
        "--stats-from", default=None, help="copy statistics from this (training set) dump dir"
    )
    return p


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Run stage 1 (one job, all jobs, or the merge); 2 for a bad input or option."""
    args = build_parser().parse_args(argv)
    name = args.feature or ("mel" if args.stream == "mel" else DEFAULT_VIDEO_FEATURE)
    overrides = parse_overrides(args.feature_config)
    if args.device is not None and args.stream == "video" and name != "precomputed":
        overrides["device"] = args.device
    if args.trust_pickles is not None:
        overrides["trust_pickles"] = args.trust_pickles == "true"
    cfg = ExtractConfig(
        stream=args.stream,
        feature={"name": name, **overrides},
        fps=args.fps,
        upsample=args.upsample,
    )
    log_dir = stream_dir(args.out, args.stream) / "log"
    tag = "merge" if args.merge else ("all" if args.job is None else str(args.job))
    setup_logging(Path(log_dir) / f"extract.{tag}.log")
    sweep_temporaries(stream_dir(args.out, args.stream))
    if not args.merge:
        jobs = range(args.nj) if args.job is None else [args.job]
        for job in jobs:
            run_job(args.data, args.out, cfg, nj=args.nj, job=job)
        if args.job is not None:
            return 0
    counts = merge(args.data, args.out, cfg, fit_stats=args.fit_stats, stats_from=args.stats_from)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
